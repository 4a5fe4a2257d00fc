// Shared by the merge tests: a repository with `main` checked out and feature
// branches made in linked worktrees, and a queue in a temp dir.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gitValue, runGit } from "../src/git/run.js";
import { MergeQueue } from "../src/merge/queue.js";
import type { NewRequest } from "../src/merge/queue.js";
import { commitFiles, makeRepo } from "./helpers.js";

export interface MergeFixture {
  readonly root: string;
  readonly repo: string;
  readonly queue: MergeQueue;
  /** A branch from `main` (or `from`) with one commit of `files`, made in its own worktree. */
  branch(name: string, files: Record<string, string>, from?: string): Promise<string>;
  request(source: string, extra?: Partial<NewRequest>): NewRequest;
  head(branch?: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function mergeFixture(files: Record<string, string> = { "a.txt": "one\ntwo\nthree\n" }): Promise<MergeFixture> {
  const root = await mkdtemp(path.join(tmpdir(), "tc-merge-test-"));
  const repo = await makeRepo(path.join(root, "repo"), files);
  const queue = new MergeQueue({ dir: path.join(root, "state", "queue"), scratchRoot: path.join(root, "state", "scratch"), lockTimeoutMs: 30_000 });
  return {
    root,
    repo,
    queue,
    async branch(name, branchFiles, from = "main") {
      const worktree = path.join(root, "wt", name.replace(/\//gu, "_"));
      await runGit(repo, ["worktree", "add", "-q", "-b", name, worktree, from]);
      return commitFiles(worktree, branchFiles, `${name}: change`);
    },
    request(source, extra = {}) {
      return { repo, source, target: "main", strategy: "merge", resolve: "none", verifyTimeoutMs: 30_000, message: `Merge ${source}`, priority: 0, batch: false, ...extra };
    },
    head: (branch = "main") => gitValue(repo, ["rev-parse", `refs/heads/${branch}`]),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Tracked changes and untracked files of a checkout (`git status --porcelain`). */
export async function statusOf(checkout: string): Promise<string> {
  return gitValue(checkout, ["status", "--porcelain"]);
}
