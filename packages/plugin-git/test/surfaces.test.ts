import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { ToolContribution } from "@tmux-claude/core";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseJson, type RunResult, type TestEnv } from "../../cli/test/helpers.js";
import { gitCliEnv, type GitCliEnv } from "./cli-env.js";
import { git as gitPlugin, type GitApi } from "../src/index.js";
import { GitCommands, type GitSubcommand } from "../src/surfaces/commands.js";
import { gitValue } from "../src/git/run.js";
import { statusText, type InstanceGitStatus } from "../src/surfaces/status.js";
import type { InstanceDiff } from "../src/surfaces/diff.js";
import { commitFiles, makeRepo } from "./helpers.js";


describe("the git command dispatcher", () => {
  const outputs = () => {
    const out = { stdout: "", stderr: "" };
    return { out, streams: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } } };
  };
  const echo: GitSubcommand = {
    name: "echo",
    usage: "echo <word> [--loud]",
    summary: "say a word",
    options: { loud: { type: "boolean" } },
    positionals: { min: 1, max: 1, names: ["word"] },
    async run({ positionals, flags, out }) {
      const word = flags.loud ? positionals[0]!.toUpperCase() : positionals[0]!;
      out.result({ word }, () => word);
      return word === "fail" ? 1 : 0;
    },
  };
  const kernel = {} as never;

  test("parts register subcommands; each gets its parsed arguments, --json and its own exit code", async () => {
    const { out, streams } = outputs();
    const commands = new GitCommands(streams);
    commands.register(echo);
    expect(await commands.dispatch(["echo", "hi", "--loud"], kernel)).toBe(0);
    expect(await commands.dispatch(["echo", "hi", "--json"], kernel)).toBe(0);
    expect(await commands.dispatch(["echo", "fail"], kernel)).toBe(1);
    expect(out.stdout).toBe('HI\n{\n  "word": "hi"\n}\nfail\n');
    expect(() => commands.register(echo)).toThrow(/registers the subcommand "git echo" twice/u);
  });

  test("--help shows the usage even when a required argument is missing (git diff --help)", async () => {
    const { out, streams } = outputs();
    const commands = new GitCommands(streams);
    commands.register(echo);
    expect(await commands.dispatch(["echo", "--help"], kernel)).toBe(0);
    expect(out.stdout).toBe("Usage: tmux-claude git echo <word> [--loud]\n\nsay a word\n");
  });

  test("bad input is one usage error naming the value and the usage", async () => {
    const { streams } = outputs();
    const commands = new GitCommands(streams);
    commands.register(echo);
    await expect(commands.dispatch(["ehco"], kernel)).rejects.toMatchObject({ code: "TC_INVALID_ARGUMENT", message: expect.stringContaining('"tmux-claude git ehco" is not a git subcommand. Subcommands: echo') });
    await expect(commands.dispatch(["echo"], kernel)).rejects.toMatchObject({ kind: "usage", message: "tmux-claude git echo: missing <word>. Usage: tmux-claude git echo <word> [--loud]" });
    await expect(commands.dispatch(["echo", "a", "b"], kernel)).rejects.toMatchObject({ kind: "usage", message: expect.stringContaining('unexpected argument "b"') });
    await expect(commands.dispatch(["echo", "a", "--quiet"], kernel)).rejects.toMatchObject({ kind: "usage", message: expect.stringContaining("--quiet") });
  });
});

describe("tmux-claude git status | diff | gc | terminate --plugin git.force (the built CLI)", () => {
  let cli: GitCliEnv;
  let env: TestEnv;
  let repo: string;
  const run = (args: string[]): Promise<RunResult> => cli.run(args);

  beforeAll(async () => {
    cli = await gitCliEnv({ "a.txt": "one\n", ".gitignore": "node_modules/\n" });
    ({ env, repo } = cli);
  }, 60_000);
  afterAll(async () => cli?.close());

  test("exit codes: help 0, no subcommand or an unknown one or a bad flag 2, an unknown instance 3", async () => {
    const help = await run(["git", "--help"]);
    expect(help.code, help.stderr).toBe(0);
    for (const sub of ["status [id] [--tree] [--json]", "diff <id> [--stat] [--json]", "gc [id...] [--dry-run] [--force]"]) expect(help.stdout).toContain(sub);
    expect((await run(["git"])).code).toBe(2);
    const unknown = await run(["git", "stauts", "--json"]);
    expect(unknown.code).toBe(2);
    expect(parseJson(unknown)).toMatchObject({ error: { code: "TC_INVALID_ARGUMENT", message: expect.stringContaining('"tmux-claude git stauts" is not a git subcommand') } });
    const badBudget = await run(["git", "gc", "--disk-budget", "lots"]);
    expect(badBudget.code).toBe(2);
    expect(badBudget.stderr).toContain('--disk-budget takes a positive number of megabytes, e.g. --disk-budget 2048 (got "lots")');
    expect((await run(["git", "diff", "nobody-1"])).code).toBe(3);
    expect((await run(["git", "status", "nobody-1"])).code).toBe(3);
    expect((await run(["git", "gc", "nobody-1"])).code).toBe(3);
    expect((await run(["git", "diff", "--help"])).code).toBe(0);
    // The top-level help lists the commands of the config's plugins.
    for (const args of [["--help"], ["help"]]) {
      const top = await run(args);
      expect(top.code, top.stderr).toBe(0);
      expect(top.stdout).toMatch(/^ {2}git \[args\.\.\.\] +git worktrees, merges/mu);
    }
    const dashed = await run(["git", "gc", "--older-than", "-1"]);
    expect(dashed.code).toBe(2);
    expect(dashed.stderr).toContain("--older-than");
    expect(dashed.stderr, dashed.stderr).not.toMatch(/'|\.\. Usage/u);
  }, 60_000);

  test("status, diff and gc of a real instance, as text and --json; terminate --plugin git.force=true saves its work on the stash ref", async () => {
    const spawned = await run(["spawn", "executive", "--json"]);
    expect(spawned.code, spawned.stderr).toBe(0);
    const { id, workDir } = parseJson<{ id: string; workDir: string }>(spawned);
    expect(workDir).not.toBe(repo);
    await commitFiles(workDir, { "b.txt": "two\n" }, "add b");
    await writeFile(path.join(workDir, "a.txt"), "one, changed\n");
    await writeFile(path.join(workDir, "new.txt"), "new\n");

    const status = await run(["git", "status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    const { instances } = parseJson<{ instances: InstanceGitStatus[] }>(status);
    // The forecaster may have looked at the new branch already (it merges cleanly), or not yet.
    const [{ forecast, forecastStale, ...shown }] = instances as [InstanceGitStatus];
    expect(forecastStale).toBe(false);
    if (forecast !== null) expect(forecast).toMatchObject({ target: { branch: "main", files: [] }, siblings: {} });
    expect([shown]).toEqual([
      {
        id,
        role: "executive",
        parentId: null,
        status: expect.any(String),
        isolation: "worktree",
        repo,
        worktree: workDir,
        branch: `tc/${id}`,
        base: "main",
        ahead: 1,
        behind: 0,
        offBranch: null,
        dirty: ["a.txt", "new.txt"],
        uncommittedLeftOut: null,
        queue: [],
      },
    ]);
    const tree = await run(["git", "status", id, "--tree"]);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toContain(`${id} (executive, `);
    expect(tree.stdout).toContain(`tc/${id} <- main  1 ahead, 0 behind; 2 uncommitted: a.txt, new.txt`);

    const diff = await run(["git", "diff", id, "--json"]);
    expect(diff.code, diff.stderr).toBe(0);
    const d = parseJson<InstanceDiff>(diff);
    expect(d).toMatchObject({ id, branch: `tc/${id}`, base: "main", mergeBase: await gitValue(repo, ["rev-parse", "main"]), stat: false });
    expect(d.diff).toContain("+++ b/b.txt\n@@ -0,0 +1 @@\n+two");
    expect(d.diff).not.toContain("a.txt");
    expect(d.uncommitted.diff).toContain("-one\n+one, changed");
    expect(d.uncommitted.untracked).toEqual(["new.txt"]);
    const stat = await run(["git", "diff", id, "--stat"]);
    expect(stat.stdout).toMatch(/b\.txt \| 1 \+/u);
    expect(stat.stdout).toContain("# UNCOMMITTED");
    expect(stat.stdout).toContain("# untracked: new.txt");

    // Its instance is running: gc never takes it, and a dry run changes nothing anyway.
    const dry = await run(["git", "gc", "--dry-run", "--force", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(parseJson<{ dryRun: boolean; decisions: { id: string; action: string; reason: string }[] }>(dry)).toMatchObject({
      dryRun: true,
      diskBudgetMb: null,
      decisions: [{ id, action: "keep", reason: expect.stringMatching(/^in use: its instance is /u) }],
    });

    const badForce = await run(["terminate", id, "--plugin", "git.force=yes"]);
    expect(badForce.code).toBe(2);
    expect(badForce.stderr).toContain("git takes only force (true or false)");
    const other = parseJson<{ id: string; workDir: string }>(await run(["spawn", "executive", "--json"]));
    await commitFiles(other.workDir, { "c.txt": "three\n" }, "add c");
    const kept = await run(["terminate", other.id]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).toContain(`kept the worktree of ${other.id} at ${other.workDir} (branch tc/${other.id}): not merged into main.`);
    expect(existsSync(other.workDir)).toBe(true);
    const terminated = await run(["terminate", id, "--plugin", "git.force=true"]);
    expect(terminated.code, terminated.stderr).toBe(0);
    expect(terminated.stderr).toContain(`saved the uncommitted work of ${id} on refs/tmux-claude/stash/${id}; recover it with: git checkout -b recovered-${id} refs/tmux-claude/stash/${id}`);
    expect(existsSync(workDir)).toBe(false);
    expect(await gitValue(repo, ["show", `refs/tmux-claude/stash/${id}:new.txt`])).toBe("new");
    expect(await gitValue(repo, ["show", `refs/tmux-claude/stash/${id}:a.txt`])).toBe("one, changed");
    expect(await gitValue(repo, ["show", `tc/${id}:b.txt`])).toBe("two");

    // The kept one is clean and its instance is gone: gc removes it, its unmerged branch stays.
    const after = await run(["git", "gc"]);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain("Removed 1 worktree(s), kept 0;");
    expect(after.stdout).toContain(`its instance no longer exists; branch tc/${other.id} kept: not merged into main: its commits stay on the branch`);
    expect(existsSync(other.workDir)).toBe(false);
    expect(await gitValue(repo, ["show", `tc/${other.id}:c.txt`])).toBe("three");
    expect((await run(["git", "gc"])).stdout).toBe("The git plugin has no worktrees.\n");
  }, 120_000);
});

describe("git_status and git_diff MCP tools", () => {
  let h: Harness;
  let tools: Map<string, ToolContribution>;
  let api: GitApi;
  beforeAll(async () => {
    h = await createHarness({ plugins: [gitPlugin()] }, { label: "git-tools" });
    api = h.kernel.plugin<GitApi>("git")!;
    await makeRepo(h.workDir, { "a.txt": "one\n" });
    tools = new Map((await h.kernel.tools()).map((t) => [t.name, t]));
  }, 60_000);
  afterAll(async () => h?.close());

  test("every role may call them, each on itself and its subtree only; the root on anything", async () => {
    expect(tools.get("git_status")!.roles).toEqual(Object.keys(h.kernel.config.roles));
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const child = (await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance;
    const other = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    await commitFiles(child.workDir, { "c.txt": "child\n" }, "child work");
    const status = tools.get("git_status")!;
    const diff = tools.get("git_diff")!;
    const asManager = { instanceId: manager.id, role: "manager" };
    const asChild = { instanceId: child.id, role: "specialist" };

    const mine = (await status.handler({}, asManager)) as { instances: InstanceGitStatus[] };
    expect(mine.instances.map((s) => s.id)).toEqual([manager.id, child.id]);
    expect(mine.instances[1]).toMatchObject({ base: `tc/${manager.id}`, ahead: 1, behind: 0 });
    const all = (await status.handler({}, { instanceId: null, role: null })) as { instances: InstanceGitStatus[] };
    expect(all.instances.map((s) => s.id).sort()).toEqual([manager.id, child.id, other.id].sort());

    // The forecaster's last forecast and the merge queue show in the status.
    const sibling = (await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance;
    await commitFiles(sibling.workDir, { "c.txt": "sibling\n" }, "sibling work");
    await api.forecast.check(child.id);
    const withForecast = (await status.handler({ instanceId: child.id }, asManager)) as { instances: InstanceGitStatus[] };
    expect(withForecast.instances[0]!.forecast).toMatchObject({ siblings: { [sibling.id]: { branch: `tc/${sibling.id}`, files: [{ path: "c.txt", kind: "add/add" }] } } });
    expect(statusText(withForecast.instances, false)).toContain(`forecast: conflicts with ${sibling.id} (tc/${sibling.id}) in c.txt (add/add)`);
    await h.kernel.terminate(sibling.id, { plugins: { git: { force: true } } });

    expect(((await diff.handler({}, asChild)) as InstanceDiff).diff).toContain("+child");
    expect(((await diff.handler({ instanceId: child.id, stat: true }, asManager)) as InstanceDiff).diff).toMatch(/c\.txt \| 1 \+/u);
    await expect(diff.handler({ instanceId: manager.id }, asChild)).rejects.toMatchObject({ code: "TC_FORBIDDEN", message: expect.stringContaining(`may not see the diff of "${manager.id}"`) });
    await expect(status.handler({ instanceId: other.id }, asManager)).rejects.toMatchObject({ code: "TC_FORBIDDEN" });
    // A made-up id outside the subtree gets the same refusal as a real one.
    await expect(status.handler({ instanceId: "nobody-9" }, asManager)).rejects.toMatchObject({ code: "TC_FORBIDDEN" });
    await expect(diff.handler({}, { instanceId: null, role: null })).rejects.toMatchObject({ code: "TC_INVALID_ARGUMENT" });
    await expect(status.handler({ instanceId: "nobody-9" }, { instanceId: null, role: null })).rejects.toMatchObject({ code: "TC_INSTANCE_NOT_FOUND" });
    await h.kernel.terminate(manager.id, { cascade: true });
    await h.kernel.terminate(other.id);
  }, 60_000);
});
