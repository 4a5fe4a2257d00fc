import { existsSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { mergeTree } from "../forecast/merge-tree.js";
import { dirtyPaths, resolveCommit } from "../git/repo.js";
import { isAncestor } from "../merge/commits.js";
import { gitValue } from "../git/run.js";

/** What GC needs to know about one worktree before it may remove anything. */
export interface WorktreeFacts {
  /** The directory is there (a worktree deleted by hand only needs its registration removed). */
  readonly exists: boolean;
  /** Paths with tracked changes or untracked, not ignored files (`git status --porcelain`); empty = clean. */
  readonly dirty: readonly string[];
  /** The commit checked out, or null when the directory is gone. */
  readonly head: string | null;
  /** Bytes on disk (a directory walk: blocks allocated, symlinks not followed). */
  readonly sizeBytes: number;
  /** Newest of the branch's last commit time and the directory's own change time, in ms. */
  readonly lastActivityMs: number;
}

/** `measure: false` skips the size walk (0): terminate decides without it, and a tree with dependencies installed is large. */
export async function worktreeFacts(worktree: string, measure = true): Promise<WorktreeFacts> {
  if (!existsSync(worktree)) return { exists: false, dirty: [], head: null, sizeBytes: 0, lastActivityMs: 0 };
  // HEAD's commit time comes with it (`%H %ct`): one git process for both.
  const [dirty, headLine, changed, sizeBytes] = await Promise.all([
    dirtyPaths(worktree),
    gitValue(worktree, ["log", "-1", "--format=%H %ct", "HEAD"]).catch(() => ""),
    lstat(worktree),
    measure ? directorySize(worktree) : Promise.resolve(0),
  ]);
  const [head = "", committedAt = "0"] = headLine.split(" ");
  return {
    exists: true,
    dirty,
    head: head || null,
    sizeBytes,
    lastActivityMs: Math.max(Number(committedAt) * 1000, changed.mtimeMs),
  };
}

/**
 * Is everything on `branch` already in `base`? Either it is an ancestor
 * (merged, fast-forwarded or rebased onto), or merging it into `base` would
 * change nothing (it was squash-merged or cherry-picked): `merge-tree` of the
 * two yields the base's own tree. An unknown base counts as not merged.
 */
export async function isMergedInto(gitDir: string, branch: string, base: string): Promise<boolean> {
  const [branchCommit, baseCommit] = await Promise.all([resolveCommit(gitDir, branch), resolveCommit(gitDir, base)]);
  if (!branchCommit || !baseCommit) return false;
  if (await isAncestor(gitDir, branchCommit, baseCommit)) return true;
  const merged = await mergeTree(gitDir, baseCommit, branchCommit, { hunks: false });
  return merged.clean && merged.tree === (await gitValue(gitDir, ["rev-parse", `${baseCommit}^{tree}`]));
}


/** Disk use of a directory tree, walked without following symlinks (no `du`: not everywhere, and a shell-out). */
export async function directorySize(root: string): Promise<number> {
  let total = 0;
  let level = [root];
  // Breadth first, a directory level at a time: the stats of one level run together instead of one after another.
  while (level.length) {
    const listed = await Promise.all(level.map((dir) => readdir(dir, { withFileTypes: true }).catch(() => [])));
    const next: string[] = [];
    const files: string[] = [];
    listed.forEach((entries, i) => {
      for (const entry of entries) (entry.isDirectory() ? next : files).push(path.join(level[i]!, entry.name));
    });
    // Vanished while walking: it takes no space we could free.
    const sizes = await Promise.all(files.map((file) => lstat(file).then((s) => (s.blocks ? s.blocks * 512 : s.size), () => 0)));
    for (const size of sizes) total += size;
    level = next;
  }
  return total;
}
