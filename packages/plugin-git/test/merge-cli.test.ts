// `tmux-claude git merge` and `git queue` through the built CLI: exit codes,
// text and --json, against instances the CLI spawned in a real repository.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseJson } from "../../cli/test/helpers.js";
import type { MergeOutcome } from "../src/merge/engine.js";
import { gitValue } from "../src/git/run.js";
import { commitFiles } from "./helpers.js";
import { gitCliEnv, type GitCliEnv } from "./cli-env.js";

describe("tmux-claude git merge | queue (the built CLI)", () => {
  let cli: GitCliEnv;
  let repo: string;
  const run = (args: string[]) => cli.run(args);
  const spawnExecutive = async () => parseJson<{ id: string; workDir: string }>(await run(["spawn", "executive", "--json"]));

  beforeAll(async () => {
    cli = await gitCliEnv({ "a.txt": "one\ntwo\nthree\n" });
    repo = cli.repo;
  }, 60_000);
  afterAll(async () => {
    await run(["terminate", "--all"]).catch(() => undefined);
    await cli?.close();
  });

  test("merges into the user's checkout; a conflict prints file and hunk and exits 1; dry run, queue, bad input", async () => {
    const first = await spawnExecutive();
    const second = await spawnExecutive();
    await commitFiles(first.workDir, { "a.txt": "one\nFIRST\nthree\n" }, "first: line two");
    await commitFiles(second.workDir, { "a.txt": "one\nSECOND\nthree\n" }, "second: line two");

    const dry = await run(["git", "merge", first.id, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("merges cleanly; nothing was changed");
    const before = await gitValue(repo, ["rev-parse", "main"]);

    const merged = await run(["git", "merge", first.id, "--json"]);
    expect(merged.code, merged.stderr).toBe(0);
    const outcome = parseJson<MergeOutcome>(merged);
    expect(outcome).toMatchObject({ status: "merged", source: `tc/${first.id}`, target: "main", previous: before });
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(outcome.commit);
    expect(await readFile(path.join(repo, "a.txt"), "utf8")).toBe("one\nFIRST\nthree\n");
    expect(await gitValue(repo, ["status", "--porcelain"])).toBe("");

    const mainNow = outcome.commit;
    const conflict = await run(["git", "merge", second.id]);
    expect(conflict.code).toBe(1);
    expect(conflict.stdout).toContain("a.txt (content)");
    expect(conflict.stdout).toMatch(/<<<<<<< .*\n(?:.*\n)*?\s+FIRST\n\s+=======\n\s+SECOND\n\s+>>>>>>> /u);
    const conflictJson = parseJson<MergeOutcome>(await run(["git", "merge", second.id, "--json"]));
    expect(conflictJson).toMatchObject({ status: "conflict", code: "TC_GIT_MERGE_CONFLICT", conflicts: [{ path: "a.txt", kind: "content" }] });
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(mainNow);
    expect(await readFile(path.join(repo, "a.txt"), "utf8")).toBe("one\nFIRST\nthree\n");

    const queue = await run(["git", "queue", "--json"]);
    expect(queue.code, queue.stderr).toBe(0);
    expect(parseJson(queue)).toEqual({ queue: [] });
    expect((await run(["git", "queue"])).stdout).toBe("No merges queued.\n");

    expect((await run(["git", "merge", "nobody-1"])).code).toBe(3);
    const badStrategy = await run(["git", "merge", first.id, "--strategy", "octopus"]);
    expect(badStrategy.code).toBe(2);
    expect(badStrategy.stderr).toContain("strategy");
    expect((await run(["git", "merge"])).code).toBe(2);
  }, 120_000);
});
