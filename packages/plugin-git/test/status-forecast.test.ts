// `git status` never calls a stale forecast clean: it forecasts the instances
// it shows (a merge-tree per pair), so a user without `serve` sees and is told
// about conflicts; a stored forecast made on other commits is shown as stale.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { InstanceRecord } from "@tmux-claude/core";
import { parseJson } from "../../cli/test/helpers.js";
import { instanceGitStatus, statusText, type InstanceGitStatus } from "../src/surfaces/status.js";
import type { GitInstanceState } from "../src/types.js";
import { gitValue } from "../src/git/run.js";
import { gitCliEnv, type GitCliEnv } from "./cli-env.js";
import { commitFiles, makeRepo } from "./helpers.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

describe("git status forecasts fresh (the built CLI, no serve)", () => {
  let cli: GitCliEnv;
  beforeAll(async () => {
    cli = await gitCliEnv({ "index.js": "const color = 'red';\n" });
  }, 60_000);
  afterAll(async () => {
    await cli?.run(["terminate", "--all"]).catch(() => undefined);
    await cli?.close();
  });

  test("two siblings committing the same line differently: status names the conflict, not a stale 'merges cleanly'", async () => {
    const run = (args: string[]) => cli.run(args);
    const manager = await run(["spawn", "--role", "manager", "--workdir", cli.repo, "--json"]);
    expect(manager.code, manager.stderr).toBe(0);
    const { id: managerId, workDir: managerDir } = parseJson<{ id: string; workDir: string }>(manager);
    const spawnChild = async () => parseJson<{ id: string; workDir: string }>(await run(["spawn", "--role", "specialist", "--parent", managerId, "--workdir", managerDir, "--json"]));
    const a = await spawnChild();
    const b = await spawnChild();
    // A first status while both merge cleanly stores a clean forecast...
    const before = await run(["git", "status", managerId, "--json"]);
    expect(before.code, before.stderr).toBe(0);
    // ...then both commit (as agents do, with no serve watching).
    await commitFiles(a.workDir, { "index.js": "const color = 'cyan';\n" }, "cyan");
    await commitFiles(b.workDir, { "index.js": "const color = 'pink';\n" }, "pink");
    const json = await run(["git", "status", managerId, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const statuses = parseJson<{ instances: InstanceGitStatus[] }>(json).instances;
    const first = statuses.find((s) => s.id === a.id)!;
    expect(first.forecastStale).toBe(false);
    expect(first.forecast?.siblings[b.id]?.files).toEqual([{ path: "index.js", kind: "content" }]);
    const text = await run(["git", "status", managerId, "--tree"]);
    expect(text.stdout).toContain(`conflicts with ${b.id}`);
    expect(text.stdout).not.toMatch(new RegExp(`${a.id.replace(/\./gu, "\\.")} .*\\n.*merges cleanly`, "u"));
  });
});

describe("a stored forecast made on other commits", () => {
  test("is shown stale, never 'merges cleanly'", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tc-status-stale-"));
    try {
      const repo = await makeRepo(path.join(dir, "repo"));
      const old = await gitValue(repo, ["rev-parse", "HEAD"]);
      await gitValue(repo, ["branch", "tc/x"]);
      await commitFiles(repo, { "b.txt": "moved\n" }, "main moved");
      const state: GitInstanceState = {
        isolation: "worktree",
        repo,
        worktree: repo,
        branch: "tc/x",
        base: "main",
        createdAt: new Date().toISOString(),
        forecast: { at: "2026-01-01T00:00:00.000Z", commit: old, target: { branch: "main", commit: old, files: [] }, siblings: {} },
      } as GitInstanceState;
      const record = { id: "x", role: "specialist", parentId: null, status: "idle", pluginState: { git: state } } as unknown as InstanceRecord;
      const status = (await instanceGitStatus(record, {}))!;
      expect(status.forecastStale).toBe(true);
      expect(statusText([status], false)).toContain("forecast: stale (made 2026-01-01T00:00:00.000Z; the branch or its base moved since)");
      expect(statusText([status], false)).not.toContain("merges cleanly");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a detached HEAD in an instance's worktree", () => {
  test("status says so and that its commits are not on the branch", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "tc-status-detached-"));
    try {
      const repo = await makeRepo(path.join(dir, "repo"));
      const worktree = path.join(dir, "wt");
      await gitValue(repo, ["worktree", "add", "-q", "-b", "tc/x", worktree, "main"]);
      await gitValue(worktree, ["checkout", "-q", "--detach"]);
      const head = await commitFiles(worktree, { "c.txt": "detached work\n" }, "on a detached HEAD");
      const state = { isolation: "worktree", repo, worktree, branch: "tc/x", base: "main", baseCommit: "", createdAt: new Date().toISOString() } as GitInstanceState;
      const record = { id: "x", role: "specialist", parentId: null, status: "idle", pluginState: { git: state } } as unknown as InstanceRecord;
      const status = (await instanceGitStatus(record, {}))!;
      expect(status.offBranch).toEqual({ branch: null, head });
      expect(statusText([status], false)).toContain(`0 ahead, 0 behind; HEAD detached at ${head.slice(0, 12)}, not tc/x: its commits there are not on the branch`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
