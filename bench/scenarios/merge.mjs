// plugin-git's merge (through the merge queue: lock, merge-tree, commit-tree,
// dirty check, compare-and-swap update-ref, read-tree of the checked-out
// target) on the 10,000-file repository of the merge-tree bench, against
// `git merge --no-ff` run in the target's checkout (the floor: what a person
// would type). Each round resets main outside the timed part.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { timedRow } from "../lib/rows.mjs";
import { execFileAsync, now, tempDir } from "../lib/util.mjs";
import { buildRepo } from "./merge-tree.mjs";

const git = (cwd, ...args) => execFileAsync("git", args, { cwd, maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout.trim());

export async function mergeBench({ quick, log }) {
  const { MergeQueue } = await import("@tmux-claude/plugin-git");
  const dir = tempDir("merge");
  const repo = path.join(dir, "repo");
  mkdirSync(repo);
  await buildRepo(repo);
  const base = await git(repo, "rev-parse", "main");
  const queue = new MergeQueue({ dir: path.join(dir, "queue"), scratchRoot: path.join(dir, "scratch"), lockTimeoutMs: 60_000 });
  const request = { repo, source: "clean-a", target: "main", strategy: "merge", resolve: "none", verifyTimeoutMs: 60_000, message: "bench merge", priority: 0, batch: false };
  const iterations = quick ? 10 : 30;
  const floor = [];
  const samples = [];
  for (let i = 0; i < 3 + iterations; i++) {
    await git(repo, "reset", "-q", "--hard", base);
    let t = now();
    await git(repo, "merge", "-q", "--no-ff", "--no-edit", "clean-a");
    const f = now() - t;
    await git(repo, "reset", "-q", "--hard", base);
    t = now();
    const outcome = await queue.run(request);
    const m = now() - t;
    if (outcome.status !== "merged") throw new Error(`merge answered ${outcome.status}: ${outcome.reason}`);
    if (i >= 3) {
      floor.push(f);
      samples.push(m);
    }
  }
  log(`merge: ${iterations} rounds done`);
  return [
    timedRow({
      id: "merge-clean",
      label: "merge(), 10000 files, clean, into the checked-out main",
      samples,
      floor,
      floorLabel: "git merge --no-ff in the checkout",
      note: "objects-only merge + CAS update-ref + read-tree of the checkout, under the queue's lock; informational (the issue sets no target)",
    }),
  ];
}
