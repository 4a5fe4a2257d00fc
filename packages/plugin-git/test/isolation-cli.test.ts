// Isolation through the built CLI: `spawn --plugin git.isolation=...` and the BRANCH column of `list` / `list --tree`.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createEnv, parseJson, type RunResult, type TestEnv } from "../../cli/test/helpers.js";
import { branches, makeRepo, worktreePaths } from "./helpers.js";

const PLUGIN_DIST = pathToFileURL(fileURLToPath(new URL("../dist/index.js", import.meta.url))).href;

describe("isolation through the CLI (built bin)", () => {
  let env: TestEnv;
  let configFile: string;
  let repo: string;
  const run = (args: string[]): Promise<RunResult> => env.run(["--config", configFile, ...args], { config: false, timeoutMs: 60_000 });

  beforeAll(async () => {
    env = await createEnv();
    repo = await makeRepo(env.workDir);
    configFile = path.join(env.dir, "git.config.mjs");
    const base = (await readFile(env.configFile, "utf8")).replace(/^export default /u, "").replace(/;\s*$/u, "");
    await writeFile(configFile, `import { git } from ${JSON.stringify(PLUGIN_DIST)};\nconst base = ${base};\nexport default { ...base, plugins: [git()] };\n`);
  }, 60_000);
  afterAll(async () => {
    await run(["terminate", "--all"]).catch(() => undefined);
    await env?.close();
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
      expect(lines[0]).toMatch(/BRANCH\s*$/u);
      const row = (id: string) => lines.find((line) => line.trim().startsWith(id))!;
      expect(row(managerId)).toMatch(new RegExp(`tc/${managerId}\\s*$`, "u"));
      expect(row(specialistId)).toMatch(new RegExp(`tc/${specialistId.replace(/\./gu, "\\.")}\\s*$`, "u"));
      expect(row(sharedId)).toMatch(/main \(shared\)\s*$/u);
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
