// Isolation through the built CLI: `spawn --plugin git.isolation=...` and the BRANCH column of `list` / `list --tree`.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseJson } from "../../cli/test/helpers.js";
import { gitCliEnv, type GitCliEnv } from "./cli-env.js";
import { branches, worktreePaths } from "./helpers.js";

describe("isolation through the CLI (built bin)", () => {
  let cli: GitCliEnv;
  let repo: string;
  const run = (args: string[]) => cli.run(args);

  beforeAll(async () => {
    cli = await gitCliEnv();
    repo = cli.repo;
  }, 60_000);
  afterAll(async () => {
    await run(["terminate", "--all"]).catch(() => undefined);
    await cli?.env.close();
  });

  test("spawn gets a worktree; --plugin git.isolation=shared shares the checkout; list and list --tree show each branch", async () => {
    const manager = await run(["spawn", "--role", "manager", "--workdir", repo, "--json"]);
    expect(manager.code, manager.stderr).toBe(0);
    const managerId = parseJson<{ id: string }>(manager).id;
    const specialist = await run(["spawn", "--role", "specialist", "--parent", managerId, "--workdir", parseJson<{ workDir: string }>(manager).workDir, "--json"]);
    expect(specialist.code, specialist.stderr).toBe(0);
    const specialistId = parseJson<{ id: string }>(specialist).id;
    const shared = await run(["spawn", "--role", "specialist", "--workdir", repo, "--plugin", "git.isolation=shared", "--json"]);
    expect(shared.code, shared.stderr).toBe(0);
    const sharedId = parseJson<{ id: string }>(shared).id;
    expect(parseJson<{ workDir: string }>(shared).workDir).toBe(repo);
    expect(await branches(repo)).toEqual(["main", `tc/${managerId}`, `tc/${specialistId}`]);

    for (const args of [["list"], ["list", "--tree"]]) {
      const listed = await run(args);
      expect(listed.code, listed.stderr).toBe(0);
      const lines = listed.stdout.split("\n");
      // BRANCH, then the cost plugin's COST (always on in the CLI).
      expect(lines[0]).toMatch(/BRANCH\s+COST\s*$/u);
      const row = (id: string) => lines.find((line) => line.trim().startsWith(id))!;
      expect(row(managerId)).toMatch(new RegExp(`tc/${managerId}\\s+-\\s*$`, "u"));
      expect(row(specialistId)).toMatch(new RegExp(`tc/${specialistId.replace(/\./gu, "\\.")}\\s+-\\s*$`, "u"));
      expect(row(sharedId)).toMatch(/main \(shared\)\s+-\s*$/u);
    }
  });

  test("a bad --plugin git value is a usage error (exit 2) that names it, and nothing is made", async () => {
    const before = await worktreePaths(repo);
    const refused = await run(["spawn", "--role", "specialist", "--workdir", repo, "--plugin", "git.isolation=private"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Invalid git options for this spawn:\n {2}- isolation: .*\nFix them/u);
    expect(await worktreePaths(repo)).toEqual(before);
  });
});
