/**
 * The parts of AI conflict resolution that need no agent: the scratch merge
 * (made, refused when there is nothing to resolve, never left behind), the
 * marker check, the verify runner and the resolution log's stats.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gitValue, runGit } from "../src/git/run.js";
import { runVerify, verifyArgv } from "../src/merge/verify.js";
import { appendResolution, readResolutions, resolutionLogPath, resolutionStats, type ResolutionRecord } from "../src/resolve/log.js";
import { conflictHunks } from "../src/resolve/prompt.js";
import { leftoverMarkers } from "../src/resolve/resolver.js";
import { openConflictedMerge, removeScratch } from "../src/resolve/scratch.js";

let dir: string;
let repo: string;
let root: string;

async function commitFile(branch: string, file: string, text: string, message: string): Promise<void> {
  if ((await gitValue(repo, ["symbolic-ref", "--short", "HEAD"])) !== branch) await runGit(repo, ["switch", "-q", branch]);
  await writeFile(path.join(repo, file), text);
  await runGit(repo, ["add", "-A"]);
  await runGit(repo, ["commit", "-q", "-m", message]);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tc-git-resolve-checks-"));
  repo = path.join(dir, "repo");
  root = path.join(dir, "state", "git", "scratch");
  await runGit(dir, ["init", "-q", "-b", "main", repo]);
  await runGit(repo, ["config", "user.name", "t"]);
  await runGit(repo, ["config", "user.email", "t@example.invalid"]);
  // The target already has a line that looks like a marker: project text, not a conflict.
  await writeFile(path.join(repo, "notes.md"), "Title\n=======\n");
  await commitFile("main", "a.txt", "one\nbase\nthree\n", "base");
  await runGit(repo, ["branch", "side"]);
  await runGit(repo, ["branch", "clean"]);
  await commitFile("main", "a.txt", "one\nmain\nthree\n", "main edits line 2");
  await commitFile("side", "a.txt", "one\nside\nthree\n", "side edits line 2");
  await commitFile("clean", "b.txt", "new\n", "clean adds b.txt");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the scratch merge", () => {
  test("holds the conflicted merge in a detached worktree under the scratch root; removing it leaves nothing", async () => {
    const main = await gitValue(repo, ["rev-parse", "main"]);
    const merge = await openConflictedMerge(repo, root, "main", "side");
    expect(merge).toMatchObject({ targetCommit: main, sourceCommit: await gitValue(repo, ["rev-parse", "side"]), unmerged: ["a.txt"] });
    expect(path.dirname(merge.dir)).toBe(root);
    expect(await gitValue(merge.dir, ["rev-parse", "--abbrev-ref", "HEAD"])).toBe("HEAD");
    const { hunks, count } = conflictHunks(await readFile(path.join(merge.dir, "a.txt"), "utf8"));
    expect(count).toBe(1);
    expect(hunks).toMatch(/^1: one\n2: <<<<<<< HEAD\n3: main\n4: =======\n5: side\n6: >>>>>>> [0-9a-f]+\n7: three/u);
    // The user's checkout and branch are as they were.
    expect(await gitValue(repo, ["rev-parse", "main"])).toBe(main);
    expect(await gitValue(repo, ["status", "--porcelain"])).toBe("");

    await removeScratch(repo, merge.dir);
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

describe("verify", () => {
  test("a string is split into argv without a shell: quotes group, shell syntax is text", () => {
    expect(verifyArgv("npm test")).toEqual(["npm", "test"]);
    expect(verifyArgv(`node -e "process.exit(1)" 'a b' x;y`)).toEqual(["node", "-e", "process.exit(1)", "a b", "x;y"]);
    expect(verifyArgv(["npm", "run", "a b"])).toEqual(["npm", "run", "a b"]);
  });

  test("an empty or unclosed verify is one usage error naming it and the fix", () => {
    expect(() => verifyArgv("   ")).toThrow(expect.objectContaining({ code: "TC_GIT_VERIFY_INVALID", message: expect.stringContaining('verify "   " cannot be run: it names no program') }));
    expect(() => verifyArgv('npm "test')).toThrow(expect.objectContaining({ message: expect.stringContaining("unclosed \" quote") }));
    expect(() => verifyArgv([])).toThrow(expect.objectContaining({ code: "TC_GIT_VERIFY_INVALID" }));
  });

  test("passes, fails with its output, times out (killed), or cannot start, each as a verdict", async () => {
    const ok = await runVerify(dir, [process.execPath, "-e", "console.log('fine')"], 10_000);
    expect(ok).toMatchObject({ passed: true, code: 0, timedOut: false, output: "fine\n" });
    const failed = await runVerify(dir, [process.execPath, "-e", "console.error('2 tests failed'); process.exit(3)"], 10_000);
    expect(failed).toMatchObject({ passed: false, code: 3, output: "2 tests failed\n" });
    const started = Date.now();
    const slow = await runVerify(dir, [process.execPath, "-e", "setTimeout(() => {}, 60000)"], 1_000);
    expect(slow).toMatchObject({ passed: false, code: null, timedOut: true, output: expect.stringContaining("timed out after 1000 ms") });
    expect(Date.now() - started).toBeLessThan(10_000);
    const missing = await runVerify(dir, ["no-such-program-tc"], 10_000);
    expect(missing).toMatchObject({ passed: false, code: null, output: expect.stringContaining("no-such-program-tc could not be started") });
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
