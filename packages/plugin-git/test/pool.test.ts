/**
 * Warm pools with the git plugin: a pooled specialist gets its own worktree
 * when it is spawned for the pool (through beforeSpawn, like any spawn), a
 * spawn that takes it works there, and ending the manager ends its pool:
 * no worktree and no tmux session is left.
 */
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { afterEach, expect, it } from "vitest";
import { git } from "../src/index.js";
import { makeRepo, worktreePaths } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it("a pooled instance has its own worktree from its own spawn; a take works there; nothing leaks at the end", async () => {
  h = await createHarness({ plugins: [git()], pool: { specialist: 1 } }, { label: "git-pool" });
  const repo = await makeRepo(h.workDir);
  const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
  expect(manager.workDir).not.toBe(repo);
  const pooled = await eventually(async () => (await h!.kernel.list()).find((r) => r.parentId === manager.id && r.pooled && r.status === "idle"), 20_000, "a pooled specialist");
  // Its worktree was made from the manager's, where a child spawn asks to work.
  expect(pooled.workDirOrigin).toBe(manager.workDir);
  expect(await worktreePaths(repo)).toEqual(expect.arrayContaining([repo, manager.workDir, pooled.workDir]));

  const taken = await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir, prompt: "work" });
  expect(taken).toMatchObject({ source: "pool", instance: { id: pooled.id, workDir: pooled.workDir } });
  const refilled = await eventually(async () => (await h!.kernel.list()).find((r) => r.parentId === manager.id && r.pooled && r.status === "idle"), 20_000, "the pool refilled");
  expect(refilled.workDir).not.toBe(pooled.workDir);

  await h.kernel.terminate(manager.id, { cascade: true });
  expect(await h.kernel.list()).toEqual([]);
  expect(await worktreePaths(repo)).toEqual([repo]);
  const sessions = await h.tmux("list-sessions", "-F", "#{session_name}");
  expect(sessions.split("\n").filter((name) => name !== "" && !name.startsWith("_tc-monitor"))).toEqual([]);
}, 60_000);
