// One merge at a time per target branch, across processes: core's lease lock
// (the same one its FileStore uses), in the repository's common git dir so
// every process and every state dir that merges into this repository sees it.
// It is made complete in one step (a directory renamed into place with its
// owner inside), so a kill -9 never leaves an ownerless lock behind, and a
// dead holder's lock is taken over by exactly one waiter (a tombstone per
// dead owner). The machine mutex in front of it frees the instant its holder dies.
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, TmuxClaudeError, acquireLock, cleanLockDir, isTmuxClaudeError, lockPathFor } from "@tmux-claude/core";
import { gitValue } from "../git/run.js";
import { GitErrorCodes } from "../errors.js";
import { commonDirOf } from "../git/repo.js";

/** `<common git dir>/tc-merge`: the merge lock and journal of every target of this repository. */
export async function mergeStateDir(repo: string, commonDir?: string): Promise<string> {
  const common = commonDir ?? (await commonDirOf(repo));
  const dir = join(common, "tc-merge");
  await mkdir(dir, { recursive: true });
  return dir;
}


/** A file-name-safe key for a branch (branch names may hold `/`). */
export function branchKey(branch: string): string {
  return `${branch.replace(/[^A-Za-z0-9._-]+/gu, "_").slice(0, 60)}-${createHash("sha256").update(branch).digest("hex").slice(0, 10)}`;
}

export interface TargetLock {
  release(): Promise<void>;
}

/**
 * A merge may hold the lock for minutes (verify); the lease is renewed while
 * the holder lives, and only matters when it stops renewing: a holder frozen
 * this long loses the lock.
 */
const MERGE_LEASE_MS = 60_000;

/** Where the lock of `branch` lives (a directory with an `owner` file). */
export function targetLockPath(dir: string, branch: string): string {
  return lockPathFor(dir, lockKey(branch));
}

function lockKey(branch: string): string {
  return `merge-${branchKey(branch)}`;
}

export async function lockTarget(dir: string, branch: string, timeoutMs: number): Promise<TargetLock> {
  // Tombstones of taken-over locks and temp dirs of killed lockers.
  await cleanLockDir(dir).catch(() => undefined);
  try {
    const { release } = await acquireLock(dir, lockKey(branch), { timeoutMs, leaseMs: MERGE_LEASE_MS });
    return { release };
  } catch (error) {
    if (!isTmuxClaudeError(error, ErrorCodes.LOCK_TIMEOUT)) throw error;
    const path = targetLockPath(dir, branch);
    const holder = await describeHolder(path);
    throw new TmuxClaudeError(
      GitErrorCodes.MERGE_LOCKED,
      `The merge into ${branch} waited ${timeoutMs} ms for another merge (${holder}, lock ${path}). The request stays queued: the merge holding the lock serves it, or the next merge into ${branch} does. Wait for it, or raise merge.lockTimeoutMs.`,
      { branch, lock: path, holder },
      { cause: error },
    );
  }
}

async function describeHolder(path: string): Promise<string> {
  const text = await readFile(join(path, "owner"), "utf8").catch(() => "");
  try {
    const owner = JSON.parse(text) as { pid?: number; host?: string; acquiredAt?: string };
    return `held by pid ${owner.pid} on ${owner.host} since ${owner.acquiredAt}`;
  } catch {
    return "its holder could not be read";
  }
}

