import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitValue } from "../src/git/run.js";
import { MergeQueue } from "../src/merge/queue.js";
import { lockTarget, mergeStateDir } from "../src/merge/lock.js";
import { mergeFixture, statusOf, type MergeFixture } from "./merge-helpers.js";

let fx: MergeFixture;
beforeEach(async () => {
  fx = await mergeFixture();
});
afterEach(async () => {
  await fx.cleanup();
});

/** The subjects of main's first-parent history after `since`, oldest first. */
async function mergedInOrder(since: string): Promise<string[]> {
  return (await gitValue(fx.repo, ["log", "--first-parent", "--reverse", "--format=%s", `${since}..main`])).split("\n").filter(Boolean);
}

describe("merge queue", () => {
  it("serves requests first come, first served, a higher priority first", async () => {
    for (const name of ["a", "b", "c", "d"]) await fx.branch(name, { [`${name}.txt`]: `${name}\n` });
    const start = await fx.head();
    for (const name of ["a", "b", "c"]) await fx.queue.submit(fx.request(name, { message: `Merge ${name}` }));
    await fx.queue.submit(fx.request("d", { message: "Merge d", priority: 5 }));
    await fx.queue.drain(fx.repo, "main");
    expect(await mergedInOrder(start)).toEqual(["Merge d", "Merge a", "Merge b", "Merge c"]);
    expect(await statusOf(fx.repo)).toBe("");
  });

  it("persists: a queue made later (a restarted kernel) serves what an earlier one queued", async () => {
    await fx.branch("a", { "a.txt": "a\n" });
    const queued = await fx.queue.submit(fx.request("a"));
    const restarted = new MergeQueue({ dir: path.join(fx.root, "state", "queue"), scratchRoot: path.join(fx.root, "state", "scratch"), lockTimeoutMs: 30_000 });
    expect((await restarted.list()).map((entry) => entry.id)).toEqual([queued.id]);
    const outcome = await restarted.drain(fx.repo, "main", queued.id);
    expect(outcome?.status).toBe("merged");
    expect(await restarted.list()).toEqual([]);
  });

  it("one merge at a time per target: a second merger waits for the lock, then serves its request", async () => {
    await fx.branch("a", { "a.txt": "a\n" });
    const stateDir = await mergeStateDir(fx.repo);
    const held = await lockTarget(stateDir, "main", 5_000);
    let done = false;
    const running = fx.queue.run(fx.request("a")).then((outcome) => {
      done = true;
      return outcome;
    });
    // Once it has queued it waits on the lock: the target does not move while another merger holds it.
    const before = await fx.head();
    while ((await fx.queue.list()).length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    expect(await fx.head()).toBe(before);
    await held.release();
    expect((await running).status).toBe("merged");
  });

  it("a lock whose holder died (kill -9) is taken over", async () => {
    const stateDir = await mergeStateDir(fx.repo);
    const { mkdir, writeFile } = await import("node:fs/promises");
    const { targetLockPath } = await import("../src/merge/lock.js");
    const { hostname } = await import("node:os");
    const lock = targetLockPath(stateDir, "main");
    await mkdir(lock);
    await writeFile(path.join(lock, "owner"), JSON.stringify({ pid: 999_999, start: null, host: hostname(), token: "dead-holder", key: "k", acquiredAt: new Date(0).toISOString() }));
    await fx.branch("a", { "a.txt": "a\n" });
    expect((await fx.queue.run(fx.request("a"))).status).toBe("merged");
  });

  it("a batch is verified once; a failing batch is bisected: the good are merged, the culprit reported", async () => {
    const names = ["b1", "b2", "bad", "b4"];
    for (const name of names) await fx.branch(name, { [`${name}.txt`]: `${name}\n` });
    // Count verify runs through a file each run appends to, outside the scratch worktrees.
    const counter = path.join(fx.root, "verify-runs.txt");
    const verify = ["node", "-e", `require('fs').appendFileSync(${JSON.stringify(counter)}, 'x'); process.exit(require('fs').existsSync('bad.txt') ? 1 : 0)`];
    const start = await fx.head();
    const requests = [];
    for (const name of names) requests.push(await fx.queue.submit(fx.request(name, { batch: true, verify, message: `Merge ${name}` })));
    await fx.queue.drain(fx.repo, "main");
    const { readFile, readdir } = await import("node:fs/promises");
    const resultsDir = path.join(fx.root, "state", "queue", (await readdir(path.join(fx.root, "state", "queue")))[0]!, "results");
    const outcomes = await Promise.all(requests.map(async (r) => JSON.parse(await readFile(path.join(resultsDir, `${r.id}.json`), "utf8"))));
    expect(outcomes.map((o) => o.status)).toEqual(["merged", "merged", "verify-failed", "merged"]);
    expect(outcomes[2].reason).toMatch(/verify/u);
    // One target move for the whole batch: main's first parent is the old main, and the good three are in it.
    expect(await gitValue(fx.repo, ["rev-parse", "main~3"])).toBe(start);
    for (const name of ["b1", "b2", "b4"]) expect(await gitValue(fx.repo, ["merge-base", "--is-ancestor", name, "main"]).then(() => true)).toBe(true);
    await expect(gitValue(fx.repo, ["merge-base", "--is-ancestor", "bad", "main"])).rejects.toThrow();
    // all four (fail), left half b1+b2 (pass), right half bad+b4 (fail), bad (fail), b4 (pass)
    expect((await readFile(counter, "utf8")).length).toBe(5);
    expect(await statusOf(fx.repo)).toBe("");
  });

  it("a passing batch moves the target once and runs verify once", async () => {
    for (const name of ["p1", "p2", "p3"]) await fx.branch(name, { [`${name}.txt`]: `${name}\n` });
    const counter = path.join(fx.root, "verify-runs.txt");
    const verify = ["node", "-e", `require('fs').appendFileSync(${JSON.stringify(counter)}, 'x')`];
    const start = await fx.head();
    const ids = [];
    for (const name of ["p1", "p2", "p3"]) ids.push((await fx.queue.submit(fx.request(name, { batch: true, verify }))).id);
    const outcome = await fx.queue.drain(fx.repo, "main", ids[2]);
    expect(outcome?.status).toBe("merged");
    expect(outcome?.batch).toEqual(ids);
    const { readFile } = await import("node:fs/promises");
    expect((await readFile(counter, "utf8")).length).toBe(1);
    expect(await gitValue(fx.repo, ["rev-parse", "main~3"])).toBe(start);
    expect(await gitValue(fx.repo, ["reflog", "-1", "--format=%gs", "main"])).toMatch(/batch of 3/u);
  });

  it("batches only requests that ask for the same verify: one's failing verify never rejects another, nor is skipped for it", async () => {
    for (const name of ["plain", "checked", "plain2"]) await fx.branch(name, { [`${name}.txt`]: `${name}\n` });
    const failing = ["node", "-e", "process.exit(1)"];
    const plain = await fx.queue.submit(fx.request("plain", { batch: true }));
    const checked = await fx.queue.submit(fx.request("checked", { batch: true, verify: failing }));
    const plain2 = await fx.queue.submit(fx.request("plain2", { batch: true }));
    await fx.queue.drain(fx.repo, "main");
    const { readFile, readdir } = await import("node:fs/promises");
    const resultsDir = path.join(fx.root, "state", "queue", (await readdir(path.join(fx.root, "state", "queue")))[0]!, "results");
    const statusOfRequest = async (id: string) => JSON.parse(await readFile(path.join(resultsDir, `${id}.json`), "utf8")).status;
    expect(await statusOfRequest(plain.id)).toBe("merged");
    expect(await statusOfRequest(plain2.id)).toBe("merged");
    expect(await statusOfRequest(checked.id)).toBe("verify-failed");
    await expect(gitValue(fx.repo, ["merge-base", "--is-ancestor", "checked", "main"])).rejects.toThrow();
  });

  it("a merger that waits longer than lockTimeoutMs gets TC_GIT_MERGE_LOCKED naming the holder", async () => {
    const stateDir = await mergeStateDir(fx.repo);
    const held = await lockTarget(stateDir, "main", 5_000);
    await expect(lockTarget(stateDir, "main", 200)).rejects.toMatchObject({ code: "TC_GIT_MERGE_LOCKED", message: expect.stringContaining(String(process.pid)) });
    await held.release();
    await (await lockTarget(stateDir, "main", 200)).release();
  });

  it("compare-and-swap: a target that moved since the merge was built is not clobbered", async () => {
    const feature = await fx.branch("a", { "a2.txt": "a\n" });
    const { moveTarget } = await import("../src/merge/target.js");
    const { commitFiles } = await import("./helpers.js");
    const stale = await fx.head();
    const moved = await commitFiles(fx.repo, { "elsewhere.txt": "someone else\n" }, "someone else moves main");
    const merged = await gitValue(fx.repo, ["commit-tree", `${feature}^{tree}`, "-p", stale, "-p", feature, "-m", "stale merge"]);
    await expect(
      moveTarget({ repo: fx.repo, stateDir: await mergeStateDir(fx.repo), target: "main", from: stale, to: merged, requestId: "r", reason: "test" }),
    ).rejects.toMatchObject({ code: "TC_GIT_TARGET_MOVED" });
    expect(await fx.head()).toBe(moved);
    expect(await statusOf(fx.repo)).toBe("");
    // Through the queue the merge is rebuilt on the moved target.
    expect((await fx.queue.run(fx.request("a"))).status).toBe("merged");
    expect(await gitValue(fx.repo, ["rev-parse", "main^1"])).toBe(moved);
  });
});
