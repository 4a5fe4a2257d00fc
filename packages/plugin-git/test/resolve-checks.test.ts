/**
 * The parts of AI conflict resolution that need no agent: the scratch merge
 * (made, refused when there is nothing to resolve, never left behind), what
 * the resolver is shown of it, the marker check and the resolution log's stats.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gitValue, runGit } from "../src/git/run.js";
import { appendResolution, readResolutions, resolutionLogPath, resolutionStats, type ResolutionRecord } from "../src/resolve/log.js";
import { conflictViews, resolverPrompt } from "../src/resolve/prompt.js";
import { leftoverMarkers } from "../src/resolve/resolver.js";
import { execFile } from "node:child_process";
import { commitFiles, makeRepo, worktreePaths } from "./helpers.js";
import { openConflictedMerge, removeScratch, sweepStaleScratch } from "../src/resolve/scratch.js";

let dir: string;
let repo: string;
let root: string;

/** Commit `files` on `branch`, switching the repository's checkout to it. */
async function commit(branch: string, files: Record<string, string>, message: string): Promise<void> {
  await runGit(repo, ["switch", "-q", branch]);
  await commitFiles(repo, files, message);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tc-git-resolve-checks-"));
  repo = path.join(dir, "repo");
  root = path.join(dir, "state", "git", "scratch");
  // The target already has a line that looks like a marker: project text, not a conflict.
  await makeRepo(repo, { "notes.md": "Title\n=======\n", "a.txt": "one\nbase\nthree\n" });
  await runGit(repo, ["branch", "side"]);
  await runGit(repo, ["branch", "clean"]);
  await commit("main", { "a.txt": "one\nmain\nthree\n" }, "main edits line 2");
  await commit("side", { "a.txt": "one\nside\nthree\n" }, "side edits line 2");
  await commit("clean", { "b.txt": "new\n" }, "clean adds b.txt");
  await runGit(repo, ["switch", "-q", "-c", "deleter", "main~1"]);
  await runGit(repo, ["rm", "-q", "a.txt"]);
  await runGit(repo, ["commit", "-q", "-m", "deleter removes a.txt"]);
  await runGit(repo, ["switch", "-q", "main"]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the scratch merge", () => {
  test("holds the conflicted merge in a detached worktree under the scratch root; removing it leaves nothing", async () => {
    const main = await gitValue(repo, ["rev-parse", "main"]);
    const started = performance.now();
    const merge = await openConflictedMerge(repo, root, "main", "side");
    const openMs = performance.now() - started;
    expect(merge).toMatchObject({ targetCommit: main, sourceCommit: await gitValue(repo, ["rev-parse", "side"]), unmerged: ["a.txt"] });
    expect(path.dirname(merge.dir)).toBe(root);
    expect(await gitValue(merge.dir, ["rev-parse", "--abbrev-ref", "HEAD"])).toBe("HEAD");
    // The resolver is shown the block it must resolve, from the scratch worktree, with merge-tree's description when given.
    const described = { path: "a.txt", kind: "content" as const, message: "CONFLICT (content): Merge conflict in a.txt" };
    const [view] = await conflictViews(merge.dir, merge.unmerged, [described]);
    expect(view).toMatchObject({ path: "a.txt", kind: "content", message: described.message, hunkCount: 1 });
    expect(view!.hunks).toMatch(/^@@ lines 1-7 @@\none\n<<<<<<< HEAD\nmain\n=======\nside\n>>>>>>> [0-9a-f]+\nthree$/u);
    // The user's checkout and branch are as they were.
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(main);
    expect(await gitValue(repo, ["status", "--porcelain"])).toBe("");

    const removing = performance.now();
    await removeScratch(repo, merge.dir);
    console.info(`[resolve] scratch merge: ${openMs.toFixed(0)} ms to open (worktree add + merge), ${(performance.now() - removing).toFixed(0)} ms to remove`);
    expect(await readdir(root)).toEqual([]);
    expect((await gitValue(repo, ["worktree", "list", "--porcelain"])).match(/^worktree /gmu)).toHaveLength(1);
  });

  test("a merge without conflicts is refused, naming both sides, and leaves no worktree", async () => {
    await expect(openConflictedMerge(repo, root, "main", "clean")).rejects.toMatchObject({
      code: "TC_GIT_RESOLVE_INVALID",
      message: expect.stringMatching(/Merging clean \([0-9a-f]{12}\) into main \([0-9a-f]{12}\) has no conflicts/u),
    });
    expect(await readdir(root)).toEqual([]);
    expect((await gitValue(repo, ["worktree", "list", "--porcelain"])).match(/^worktree /gmu)).toHaveLength(1);
  });

  test("an unknown branch is named before anything is made", async () => {
    await expect(openConflictedMerge(repo, root, "main", "no-such-branch")).rejects.toMatchObject({
      code: "TC_GIT_RESOLVE_INVALID",
      message: expect.stringContaining('The source "no-such-branch" is not a branch or commit'),
    });
    expect(await readdir(root)).toEqual([]);
  });
});

describe("what the resolver is told", () => {
  test("a conflict without text markers (modify/delete) is described by merge-tree's kind and message, and the prompt says to choose", async () => {
    const merge = await openConflictedMerge(repo, root, "main", "deleter");
    try {
      const described = { path: "a.txt", kind: "modify/delete" as const, message: "CONFLICT (modify/delete): a.txt deleted in deleter and modified in main." };
      const views = await conflictViews(merge.dir, merge.unmerged, [described]);
      expect(views).toEqual([{ path: "a.txt", kind: "modify/delete", message: described.message, hunks: undefined, hunkCount: 0 }]);
      const prompt = resolverPrompt({ dir: merge.dir, source: "deleter", target: "main", conflicts: views, sourceLog: "- abc deleter removes a.txt", targetLog: "- def main edits line 2", verify: "npm test", instructions: "Never touch vendor/." });
      expect(prompt).toContain(`This directory (${merge.dir}) is a scratch checkout of main with deleter merged into it`);
      expect(prompt).toContain(`### a.txt (modify/delete)\n${described.message}\n(no text markers: decide which version the file keeps`);
      expect(prompt).toContain("What main is for: not known");
      expect(prompt).toContain("Commits on deleter since the merge base:\n- abc deleter removes a.txt");
      expect(prompt).toContain("The result must pass `npm test`");
      expect(prompt.endsWith("Never touch vendor/.")).toBe(true);
    } finally {
      await removeScratch(repo, merge.dir);
    }
  });
});

describe("after a kill", () => {
  test("a dead process's scratch worktree is swept with the repository's record of it; a live one stays", async () => {
    const live = await openConflictedMerge(repo, root, "main", "side");
    // A process that has exited: its pid names the scratch worktree it would have left, as openConflictedMerge names them.
    const child = execFile(process.execPath, ["-e", ""]);
    await new Promise((resolve) => child.on("exit", resolve));
    const stale = path.join(root, `resolve-${child.pid}-killed-abcdef`);
    await runGit(repo, ["worktree", "add", "--quiet", "--detach", stale, "main"]);
    await runGit(stale, ["merge", "--no-commit", "--no-ff", "side"], { ok: [1] });
    try {
      expect(await sweepStaleScratch(root)).toEqual([stale]);
      expect(await readdir(root)).toEqual([path.basename(live.dir)]);
      expect(await worktreePaths(repo)).toEqual([repo, live.dir]);
    } finally {
      await removeScratch(repo, live.dir);
    }
  });
});

describe("the marker check", () => {
  test("flags markers the resolution adds, not marker-like lines the target already had", async () => {
    const merge = await openConflictedMerge(repo, root, "main", "side");
    try {
      await runGit(merge.dir, ["add", "-A"]);
      expect(await leftoverMarkers(merge.dir, merge.targetCommit)).toEqual(["a.txt:2", "a.txt:4", "a.txt:6"]);
      await writeFile(path.join(merge.dir, "a.txt"), "one\nmain and side\nthree\n");
      await runGit(merge.dir, ["add", "-A"]);
      expect(await leftoverMarkers(merge.dir, merge.targetCommit)).toEqual([]);
    } finally {
      await removeScratch(repo, merge.dir);
    }
  });
});

describe("the resolution log", () => {
  test("appends one line per resolution, skips a torn last line, and counts by reason", async () => {
    const stateDir = path.join(dir, "log-state");
    const record = (accepted: boolean, reason?: ResolutionRecord["reason"]): ResolutionRecord => ({
      at: new Date().toISOString(), repo, source: "side", target: "main", sourceCommit: "s", targetCommit: "t", files: ["a.txt"], hunks: 1,
      accepted, ...(reason ? { reason, detail: reason } : { commit: "c" }), resolver: { agent: "claude" }, durationMs: 1,
    });
    expect(resolutionStats(await readResolutions(stateDir))).toEqual({ attempts: 0, accepted: 0, rejected: 0, acceptanceRate: null, byReason: {} });
    await Promise.all([appendResolution(stateDir, record(true)), appendResolution(stateDir, record(false, "markers")), appendResolution(stateDir, record(false, "verify")), appendResolution(stateDir, record(false, "verify"))]);
    await writeFile(resolutionLogPath(stateDir), '{"torn', { flag: "a" });
    const stats = resolutionStats(await readResolutions(stateDir));
    expect(stats).toEqual({ attempts: 4, accepted: 1, rejected: 3, acceptanceRate: 0.25, byReason: { markers: 1, verify: 2 } });
  });
});
