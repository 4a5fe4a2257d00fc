// Review findings on the merge part, each reproduced against real repositories:
// repair after a kill keeps later work (1, 2), only our own git locks go (8),
// a batch cut by a kill records the requests it merged (10).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { gitValue, runGit } from "../src/git/run.js";
import { commitTurn } from "../src/commit/auto-commit.js";
import { buildMerge } from "../src/merge/commits.js";
import { branchKey, mergeStateDir } from "../src/merge/lock.js";
import { writeAtomic } from "../src/merge/target.js";
import type { GitInstanceState } from "../src/types.js";
import { eventually } from "@tmux-claude/testkit";
import { commitFiles, gitKernels, writeFiles } from "./helpers.js";
import { mergeFixture, statusOf, type MergeFixture } from "./merge-helpers.js";

const CHILD = fileURLToPath(new URL("./fixtures/merge-child.mjs", import.meta.url));

let fx: MergeFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

/**
 * What a merge process killed right after `update-ref` leaves (moveTarget's
 * journal, then the moved ref; read-tree never ran): main at the merge of
 * `feat` (which changes a.txt), main's checkout still at the old commit.
 */
async function killedAfterRefMoved(step: "ref" | "checkout" = "checkout") {
  fx = await mergeFixture({ "a.txt": "one\ntwo\nthree\n" });
  await fx.branch("feat", { "a.txt": "one\nTWO-from-feat\nthree\n" });
  const from = await fx.head();
  const request = await fx.queue.submit(fx.request("feat"));
  const built = await buildMerge({ repo: fx.repo, onto: from, source: await fx.head("feat"), strategy: "merge", message: "m" });
  if (built.kind !== "clean") throw new Error("fixture merge is not clean");
  const stateDir = await mergeStateDir(fx.repo);
  await writeAtomic(
    path.join(stateDir, `${branchKey("main")}.journal.json`),
    JSON.stringify({ target: "main", from, to: built.commit, checkout: fx.repo, requestIds: [request.id], step, pid: 999_999 }),
  );
  await runGit(fx.repo, ["update-ref", "refs/heads/main", built.commit, from]);
  return { from, to: built.commit, request, stateDir };
}

describe("repair of a merge a kill interrupted", () => {
  it("keeps an edit made afterwards to a file the merge also changes: refuses with TARGET_DIRTY instead of resetting it (review 1)", async () => {
    await killedAfterRefMoved();
    const edited = "one\ntwo\nthree\nUSER'S UNCOMMITTED LINE\n";
    await writeFile(path.join(fx!.repo, "a.txt"), edited);
    await expect(fx!.queue.drain(fx!.repo, "main")).rejects.toMatchObject({ code: "TC_GIT_TARGET_DIRTY", message: expect.stringContaining("a.txt") });
    expect(await readFile(path.join(fx!.repo, "a.txt"), "utf8")).toBe(edited);
  });

  it("finishes a file read-tree was writing when killed (the start of the merge's version) and a file it had written", async () => {
    await killedAfterRefMoved();
    await writeFile(path.join(fx!.repo, "a.txt"), "one\nTWO-fr");
    await fx!.queue.drain(fx!.repo, "main");
    expect(await readFile(path.join(fx!.repo, "a.txt"), "utf8")).toBe("one\nTWO-from-feat\nthree\n");
    expect(await statusOf(fx!.repo)).toBe("");
  });

  it("auto-commit does not commit over a half-moved checkout; the eager repair finishes the merge and the manager's work is committed after it (review 2)", async () => {
    const { to, request } = await killedAfterRefMoved();
    // The manager (working on main) ends a turn with a new file.
    await writeFile(path.join(fx!.repo, "b.txt"), "manager work\n");
    const state = { worktree: fx!.repo, branch: "main", isolation: "worktree", repo: fx!.repo } as unknown as GitInstanceState;
    await expect(commitTurn({ instanceId: "mgr", reason: "idle", lastReply: "done" }, state)).rejects.toMatchObject({ code: "TC_GIT_TARGET_DIRTY" });
    expect(await fx!.head()).toBe(to);
    // What the plugin runs at ready and before each auto-commit.
    expect(await fx!.queue.repairAll(fx!.repo)).toEqual(["main"]);
    const committed = await commitTurn({ instanceId: "mgr", reason: "idle", lastReply: "done" }, state);
    expect(committed?.files).toEqual(["b.txt"]);
    expect(await gitValue(fx!.repo, ["show", "main:a.txt"])).toBe("one\nTWO-from-feat\nthree");
    expect(await gitValue(fx!.repo, ["rev-parse", "main~1"])).toBe(to);
    // The request the killed process was serving is recorded as merged, not merged again or reported up-to-date.
    const outcome = await fx!.queue.drain(fx!.repo, "main", request.id);
    expect(outcome).toMatchObject({ status: "merged", commit: to });
    expect(await statusOf(fx!.repo)).toBe("");
  });

  it("leaves git locks another git may hold: a ref lock not holding the merge's commit, packed-refs.lock, an index.lock before read-tree started (review 8)", async () => {
    const { to } = await killedAfterRefMoved("ref");
    const common = await gitValue(fx!.repo, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
    const refLock = path.join(common, "refs", "heads", "main.lock");
    const packedLock = path.join(common, "packed-refs.lock");
    const indexLock = path.join(common, "index.lock");
    // A live `git commit` on main would hold main.lock with its own new commit.
    await writeFile(refLock, `${"1".repeat(40)}\n`);
    await writeFile(packedLock, "");
    await expect(fx!.queue.drain(fx!.repo, "main")).rejects.toMatchObject({ code: "TC_GIT_LOCK_HELD", message: expect.stringContaining(refLock) });
    expect(await readFile(refLock, "utf8")).toBe(`${"1".repeat(40)}\n`);
    expect(await readFile(packedLock, "utf8")).toBe("");

    // Our killed update-ref's lock (it holds the merge's commit) goes; an index.lock does not, since read-tree never started.
    await writeFile(refLock, `${to}\n`);
    await writeFile(indexLock, "");
    await expect(fx!.queue.drain(fx!.repo, "main")).rejects.toMatchObject({ code: "TC_GIT_LOCK_HELD", message: expect.stringContaining(indexLock) });
    await expect(readFile(refLock, "utf8")).rejects.toThrow();
    expect(await readFile(indexLock, "utf8")).toBe("");
    expect(await readFile(packedLock, "utf8")).toBe("");
  });

  it("removes an empty ref lock left while the merge was moving the branch: its git was killed between creating the lock and writing the id", async () => {
    await killedAfterRefMoved("ref");
    const common = await gitValue(fx!.repo, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
    const refLock = path.join(common, "refs", "heads", "main.lock");
    await writeFile(refLock, "");
    await fx!.queue.drain(fx!.repo, "main");
    await expect(readFile(refLock, "utf8")).rejects.toThrow();
    expect(await statusOf(fx!.repo)).toBe("");
  });
});

describe("a batch merge killed between moving the branch and its worktree", () => {
  it("records the requests the batch merged, not the first request (which conflicted) (review 10)", async () => {
    fx = await mergeFixture({ "a.txt": "one\ntwo\nthree\n" });
    await fx.branch("c1", { "a.txt": "one\nc1\nthree\n" });
    await fx.branch("ok1", { "ok1.txt": "ok1\n" });
    await fx.branch("ok2", { "ok2.txt": "ok2\n" });
    // main moves on so that c1 conflicts with it
    await commitFiles(fx.repo, { "a.txt": "one\nmain\nthree\n" }, "main: edits a.txt");
    const queueDir = path.join(fx.root, "state", "queue");
    const ids: string[] = [];
    for (const name of ["c1", "ok1", "ok2"]) ids.push((await fx.queue.submit(fx.request(name, { batch: true }))).id);
    // The kill: once main's new value is committed by update-ref, the whole merge process group dies.
    const hook = path.join(fx.repo, ".git", "hooks", "reference-transaction");
    await writeFile(hook, '#!/bin/sh\n[ "$1" = committed ] || exit 0\nwhile read old new ref; do [ "$ref" = refs/heads/main ] && kill -9 0; done\nexit 0\n');
    await chmod(hook, 0o755);
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ queueDir, scratchRoot: path.join(fx.root, "state", "scratch"), drain: { repo: fx.repo, target: "main" } })], {
      detached: true,
      stdio: "ignore",
    });
    const [, signal] = (await once(child, "exit")) as [number | null, string | null];
    expect(signal).toBe("SIGKILL");
    await writeFile(hook, "#!/bin/sh\nexit 0\n");
    const journal = JSON.parse(await readFile(path.join(await mergeStateDir(fx.repo), `${branchKey("main")}.journal.json`), "utf8"));
    expect(journal.requestIds).toEqual([ids[1], ids[2]]);

    await fx.queue.drain(fx.repo, "main");
    const resultsDir = path.join(queueDir, (await readdir(queueDir))[0]!, "results");
    const outcomes = await Promise.all(ids.map(async (id) => JSON.parse(await readFile(path.join(resultsDir, `${id}.json`), "utf8"))));
    expect(outcomes.map((o) => o.status)).toEqual(["conflict", "merged", "merged"]);
    expect(outcomes[1].reason).toMatch(/interrupted/u);
    await expect(gitValue(fx.repo, ["merge-base", "--is-ancestor", "c1", "main"])).rejects.toThrow();
    expect(await statusOf(fx.repo)).toBe("");
  }, 30_000);
});

describe("through the plugin", () => {
  const kernels = gitKernels("git-merge-repair", { "a.txt": "one\ntwo\nthree\n" });

  it("a manager's turn end finishes the interrupted merge into its branch first, then auto-commits on top of it (review 2)", async () => {
    const { h, repo } = await kernels.start({ autoCommit: true });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const branch = `tc/${manager.id}`;
    const from = await gitValue(repo, ["rev-parse", branch]);
    const featWorktree = path.join(h.workDir, "..", `feat-${process.pid}`);
    await runGit(repo, ["worktree", "add", "-q", "-b", "feat", featWorktree, branch]);
    const feature = await commitFiles(featWorktree, { "a.txt": "one\nTWO-from-feat\nthree\n" }, "feat");
    const built = await buildMerge({ repo, onto: from, source: feature, strategy: "merge", message: "m" });
    if (built.kind !== "clean") throw new Error("fixture merge is not clean");
    // The killed merge: journal, ref moved, the manager's checkout not.
    await writeAtomic(
      path.join(await mergeStateDir(repo), `${branchKey(branch)}.journal.json`),
      JSON.stringify({ target: branch, from, to: built.commit, checkout: manager.workDir, requestIds: [], step: "checkout", pid: 999_999 }),
    );
    await runGit(repo, ["update-ref", `refs/heads/${branch}`, built.commit, from]);
    await writeFiles(manager.workDir, { "b.txt": "manager work\n" });
    await h.kernel.send(manager.id, "/work 50 write b.txt");
    await h.kernel.read(manager.id, { wait: true, timeoutMs: 10_000 });
    await eventually(async () => (await gitValue(repo, ["rev-parse", `${branch}~1`]).catch(() => "")) === built.commit, 15_000, "the auto-commit on top of the merge");
    expect(await gitValue(repo, ["show", `${branch}:a.txt`])).toBe("one\nTWO-from-feat\nthree");
    expect(await gitValue(repo, ["show", `${branch}:b.txt`])).toBe("manager work");
    expect(await statusOf(manager.workDir)).toBe("");
    await runGit(repo, ["worktree", "remove", "--force", featWorktree]);
  }, 60_000);
});
