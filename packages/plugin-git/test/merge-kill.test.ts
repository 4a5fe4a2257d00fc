// kill -9 of a process doing a merge, at random moments: the target branch is
// either unchanged or a complete merge, never half; the next merge repairs a
// worktree the kill left between states. Runs the built package (dist) in a
// child process group, killed whole (git included), as a crash would.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { gitValue } from "../src/git/run.js";
import { mergeTree } from "../src/forecast/merge-tree.js";
import { MergeQueue } from "../src/merge/queue.js";
import { mergeStateDir } from "../src/merge/lock.js";
import { branchKey } from "../src/merge/lock.js";
import { runGit } from "../src/git/run.js";
import { commitFiles } from "./helpers.js";
import { mergeFixture, statusOf, type MergeFixture } from "./merge-helpers.js";

const CHILD = fileURLToPath(new URL("./fixtures/merge-child.mjs", import.meta.url));
const ROUNDS = 10;
const FILES = 300;

let fx: MergeFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

/** main with FILES files; `feat` rewrites all of them and adds as many; main moves on meanwhile, so the merge is a real one. */
async function bigMerge(): Promise<{ fx: MergeFixture; old: string; feature: string; tree: string }> {
  const files = Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`src/f${i}.txt`, `line ${i}\n`]));
  const fixture = await mergeFixture({ ...files, "main.txt": "main\n" });
  const changed = Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`src/f${i}.txt`, `line ${i} changed\n`]));
  const added = Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`new/n${i}.txt`, `new ${i}\n`]));
  const feature = await fixture.branch("feat", { ...changed, ...added });
  const old = await commitFiles(fixture.repo, { "main.txt": "main moved on\n" }, "main: moves on");
  const { tree } = await mergeTree(fixture.repo, old, feature);
  return { fx: fixture, old, feature, tree };
}

interface ChildRun {
  readonly killedAfterMs: number | null;
  readonly durationMs: number;
}

/** Run the merge in a child; kill its whole process group `killAfterMs` after it started merging (null: let it finish). */
async function runChild(fixture: MergeFixture, killAfterMs: number | null): Promise<ChildRun> {
  const input = JSON.stringify({
    queueDir: path.join(fixture.root, "state", "queue"),
    scratchRoot: path.join(fixture.root, "state", "scratch"),
    request: fixture.request("feat"),
  });
  const child = spawn(process.execPath, [CHILD, input], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const exited = once(child, "exit");
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const started = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("started")) resolve(performance.now());
    });
    child.on("exit", () => reject(new Error(`merge child exited before starting: ${stderr}`)));
  });
  if (killAfterMs !== null) {
    await new Promise((resolve) => setTimeout(resolve, killAfterMs));
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // it finished first
    }
  }
  const [code] = (await exited) as [number | null];
  if (killAfterMs === null && code !== 0) throw new Error(`merge child failed (${code}): ${stderr}`);
  return { killedAfterMs: killAfterMs, durationMs: performance.now() - started };
}

async function isCompleteMerge(repo: string, commit: string, old: string, feature: string, tree: string): Promise<boolean> {
  const parents = (await gitValue(repo, ["rev-list", "--parents", "-n1", commit])).split(" ").slice(1);
  const commitTree = await gitValue(repo, ["rev-parse", `${commit}^{tree}`]);
  return parents.join(" ") === `${old} ${feature}` && commitTree === tree;
}

describe("kill -9 during a merge", () => {
  it(`leaves the target unchanged or fully merged, ${ROUNDS} times at random moments, and the next merge repairs the worktree`, async () => {
    // Calibrate: how long one merge of this size takes here, so kills land inside it.
    const calibration = await bigMerge();
    fx = calibration.fx;
    const { durationMs } = await runChild(fx, null);
    expect(await isCompleteMerge(fx.repo, await fx.head(), calibration.old, calibration.feature, calibration.tree)).toBe(true);
    await fx.cleanup();

    const seen = { unchanged: 0, merged: 0, between: 0, notQueued: 0 };
    for (let round = 0; round < ROUNDS; round += 1) {
      const setup = await bigMerge();
      fx = setup.fx;
      const killAfter = Math.round(Math.random() * durationMs * 1.1);
      await runChild(fx, killAfter);

      const after = await fx.head();
      // A journal left behind: the kill came between moving the branch and bringing its worktree.
      if ((await readdir(await mergeStateDir(fx.repo))).some((name) => name.endsWith(".journal.json"))) seen.between += 1;
      if (after === setup.old) seen.unchanged += 1;
      else {
        expect(await isCompleteMerge(fx.repo, after, setup.old, setup.feature, setup.tree), `round ${round}: killed after ${killAfter} ms, main at ${after}`).toBe(true);
        seen.merged += 1;
      }

      // The next merger (a restarted kernel) repairs the worktree and serves the request the killed one left.
      const next = new MergeQueue({ dir: path.join(fx.root, "state", "queue"), scratchRoot: path.join(fx.root, "state", "scratch"), lockTimeoutMs: 30_000 });
      // A kill before the request was written leaves nothing queued: then nothing is to be merged.
      const queued = (await next.list()).length > 0;
      if (!queued) seen.notQueued += 1;
      await next.drain(fx.repo, "main");
      const final = await fx.head();
      if (queued || after !== setup.old) {
        expect(await isCompleteMerge(fx.repo, final, setup.old, setup.feature, setup.tree), `round ${round}: after recovery (killed after ${killAfter} ms)`).toBe(true);
        expect(await gitValue(fx.repo, ["write-tree"])).toBe(setup.tree);
      } else {
        expect(final).toBe(setup.old);
      }
      expect(await statusOf(fx.repo), `round ${round}: worktree after recovery (killed after ${killAfter} ms)`).toBe("");
      expect((await next.list()).filter((entry) => !entry.done)).toEqual([]);
      await fx.cleanup();
      fx = undefined;
    }
    console.log(`kill -9 rounds: ${seen.unchanged} unchanged, ${seen.merged} merged, ${seen.between} killed mid-move, ${seen.notQueued} with nothing left in the queue (killed before queueing or after finishing; one merge takes ${Math.round(durationMs)} ms here)`);
  }, 300_000);
});

describe("repair of a worktree a kill left between states", () => {
  it("a branch moved but its worktree not: the next drain brings the worktree along and records the request as merged", async () => {
    const setup = await bigMerge();
    fx = setup.fx;
    const queue = new MergeQueue({ dir: path.join(fx.root, "state", "queue"), scratchRoot: path.join(fx.root, "state", "scratch"), lockTimeoutMs: 30_000 });
    const request = await queue.submit(fx.request("feat"));
    // What a process killed right after update-ref leaves: the journal, the moved ref, the old worktree.
    const merged = await gitValue(fx.repo, ["commit-tree", setup.tree, "-p", setup.old, "-p", setup.feature, "-m", "merge"]);
    const stateDir = await mergeStateDir(fx.repo);
    await writeFile(
      path.join(stateDir, `${branchKey("main")}.journal.json`),
      JSON.stringify({ target: "main", from: setup.old, to: merged, checkout: fx.repo, requestIds: [request.id], step: "checkout", pid: 999_999 }),
    );
    await runGit(fx.repo, ["update-ref", "refs/heads/main", merged, setup.old]);
    expect(await statusOf(fx.repo)).not.toBe("");
    const outcome = await queue.drain(fx.repo, "main", request.id);
    expect(outcome?.status).toBe("merged");
    expect(outcome?.commit).toBe(merged);
    expect(await fx.head()).toBe(merged);
    expect(await statusOf(fx.repo)).toBe("");
  });

  it("a kill inside read-tree (index.lock left, some files written) is finished; changes the merge did not make stop the repair", async () => {
    const setup = await bigMerge();
    fx = setup.fx;
    const queue = new MergeQueue({ dir: path.join(fx.root, "state", "queue"), scratchRoot: path.join(fx.root, "state", "scratch"), lockTimeoutMs: 30_000 });
    const merged = await gitValue(fx.repo, ["commit-tree", setup.tree, "-p", setup.old, "-p", setup.feature, "-m", "merge"]);
    const journal = path.join(await mergeStateDir(fx.repo), `${branchKey("main")}.journal.json`);
    const common = await gitValue(fx.repo, ["rev-parse", "--path-format=absolute", "--git-dir"]);
    await runGit(fx.repo, ["update-ref", "refs/heads/main", merged, setup.old]);
    await writeFile(path.join(fx.repo, "src/f1.txt"), "line 1 changed\n");
    await writeFile(path.join(common, "index.lock"), "");
    await writeFile(journal, JSON.stringify({ target: "main", from: setup.old, to: merged, checkout: fx.repo, requestIds: [], step: "checkout", pid: 999_999 }));
    await queue.drain(fx.repo, "main");
    expect(await statusOf(fx.repo)).toBe("");

    // Now a change the merge does not make: the repair refuses rather than reset it.
    const setup2 = await bigMerge();
    await fx.cleanup();
    fx = setup2.fx;
    const merged2 = await gitValue(fx.repo, ["commit-tree", setup2.tree, "-p", setup2.old, "-p", setup2.feature, "-m", "merge"]);
    await runGit(fx.repo, ["update-ref", "refs/heads/main", merged2, setup2.old]);
    await writeFile(path.join(fx.repo, "main.txt"), "the user's own edit\n");
    await writeFile(path.join(await mergeStateDir(fx.repo), `${branchKey("main")}.journal.json`), JSON.stringify({ target: "main", from: setup2.old, to: merged2, checkout: fx.repo, requestIds: [], step: "checkout", pid: 999_999 }));
    const queue2 = new MergeQueue({ dir: path.join(fx.root, "state", "queue"), scratchRoot: path.join(fx.root, "state", "scratch"), lockTimeoutMs: 30_000 });
    await expect(queue2.drain(fx.repo, "main")).rejects.toThrow(/main\.txt.*Nothing was reset/su);
    expect(await (await import("node:fs/promises")).readFile(path.join(fx.repo, "main.txt"), "utf8")).toBe("the user's own edit\n");
  });
});

describe("several processes merging into one target", () => {
  it("serve one merge at a time: three processes at once, every branch merged, none lost", async () => {
    fx = await mergeFixture();
    const names = ["p1", "p2", "p3"];
    for (const name of names) await fx.branch(name, { [`${name}.txt`]: `${name}\n` });
    const start = await fx.head();
    const outcomes = await Promise.all(
      names.map(async (name) => {
        const input = JSON.stringify({ queueDir: path.join(fx!.root, "state", "queue"), scratchRoot: path.join(fx!.root, "state", "scratch"), request: fx!.request(name) });
        const child = spawn(process.execPath, [CHILD, input], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        const [code] = (await once(child, "exit")) as [number];
        expect(code).toBe(0);
        return JSON.parse(stdout.split("\n").filter(Boolean).at(-1)!) as { status: string };
      }),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["merged", "merged", "merged"]);
    // Three merges on the first-parent line, each on top of the one before: no merge was lost to another.
    expect(await gitValue(fx.repo, ["rev-parse", "main~3"])).toBe(start);
    for (const name of names) await gitValue(fx.repo, ["merge-base", "--is-ancestor", name, "main"]);
    expect(await statusOf(fx.repo)).toBe("");
  }, 60_000);
});
