import { existsSync } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import path from "node:path";
import { dirtyPaths, resolveCommit } from "../git/repo.js";
import { gitValue, runGit } from "../git/run.js";

/** What GC needs to know about one worktree before it may remove anything. */
export interface WorktreeFacts {
  /** The directory is there (a worktree deleted by hand only needs `git worktree prune`). */
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

export async function worktreeFacts(worktree: string): Promise<WorktreeFacts> {
  if (!existsSync(worktree)) return { exists: false, dirty: [], head: null, sizeBytes: 0, lastActivityMs: 0 };
  const dirty = await dirtyPaths(worktree);
  const head = (await resolveCommit(worktree, "HEAD")) ?? null;
  const committedAt = head ? Number(await gitValue(worktree, ["log", "-1", "--format=%ct", head])) * 1000 : 0;
  const changedAt = (await lstat(worktree)).mtimeMs;
  return {
    exists: true,
    dirty,
    head,
    sizeBytes: await directorySize(worktree),
    lastActivityMs: Math.max(committedAt, changedAt),
  };
}

/**
 * Is everything on `branch` already in `base`? Either it is an ancestor
 * (merged, fast-forwarded or rebased onto), or merging it into `base` would
 * change nothing (it was squash-merged or cherry-picked): `merge-tree` of the
 * two yields the base's own tree. An unknown base counts as not merged.
 */
export async function isMergedInto(gitDir: string, branch: string, base: string): Promise<boolean> {
  const branchCommit = await resolveCommit(gitDir, branch);
  const baseCommit = await resolveCommit(gitDir, base);
  if (!branchCommit || !baseCommit) return false;
  const ancestor = await runGit(gitDir, ["merge-base", "--is-ancestor", branchCommit, baseCommit], { ok: [0, 1] });
  if (ancestor.code === 0) return true;
  const merged = await runGit(gitDir, ["merge-tree", "--write-tree", "--no-messages", baseCommit, branchCommit], { ok: [0, 1] });
  if (merged.code !== 0) return false;
  const mergedTree = merged.stdout.split("\n")[0]!.trim();
  return mergedTree === (await gitValue(gitDir, ["rev-parse", `${baseCommit}^{tree}`]));
}

/** The repository's common git directory (`.git` of the main worktree), where worktree commands can run from anywhere. */
export async function commonGitDir(worktreeOrRepo: string): Promise<string> {
  return path.resolve(worktreeOrRepo, await gitValue(worktreeOrRepo, ["rev-parse", "--git-common-dir"]));
}

/** Disk use of a directory tree, walked without following symlinks (no `du`: not everywhere, and a shell-out). */
export async function directorySize(root: string): Promise<number> {
  let total = 0;
  const pending = [root];
  while (pending.length) {
    const dir = pending.pop()!;
    let handle;
    try {
      handle = await opendir(dir);
    } catch {
      continue; // Vanished or unreadable while walking: it takes no space we could free.
    }
    for await (const entry of handle) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else {
        const stats = await lstat(full).catch(() => undefined);
        if (stats) total += stats.blocks ? stats.blocks * 512 : stats.size;
      }
    }
  }
  return total;
}
