/**
 * The filesystem side of a lock: the directory `<dir>/<safe-key>.lock`
 * holding an `owner` file (pid, process start time, host, token, lease
 * expiry). It is created complete: the directory is prepared under a
 * temporary name and renamed into place, and `rename` of a directory onto an
 * existing non-empty one fails, so the lock never exists without its owner.
 *
 * An abandoned lock (owner dead or lease expired) is taken over: it is
 * renamed to a tombstone named after the abandoned owner's token. Only one
 * stealer can create that tombstone; a late stealer who judged the same owner
 * finds it occupied and cannot move a newer, live lock away. Tombstones are
 * removed by `cleanLockDir` once they are old.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { isAbandoned, parseOwner, type LeaseOwner } from "./lease-owner.js";
import { errorCode, safeName } from "./safe-name.js";

/**
 * This module never makes a lock without an owner file; one that has none was
 * made by something else. Give its maker this long before taking it over.
 */
export const OWNERLESS_STALE_MS = 10_000;
const OWNER_FILE = "owner";

export type Holder =
  | { kind: "gone" }
  | { kind: "owned"; owner: LeaseOwner; identity: string }
  | { kind: "ownerless"; identity: string; ageMs: number };

/** The directory that represents the lock `key` under `dir`. */
export function lockPathFor(dir: string, key: string): string {
  if (key.length === 0) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `A lock key must not be empty (lock directory ${dir}). Pass a name such as "instance:<id>".`);
  }
  return path.join(path.resolve(dir), `${safeName(key)}.lock`);
}

export function lockFailed(action: string, file: string, error: unknown): TmuxClaudeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new TmuxClaudeError(
    ErrorCodes.STORE_FAILED,
    `Could not ${action} ${file}: ${reason}. Check that the lock directory is writable by this user.`,
    { path: file },
    { cause: error },
  );
}

function tmpName(base: string): string {
  return `${base}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
}

/** Create the lock directory, complete with its owner file, under a temporary name. */
export async function prepareLockDir(lockPath: string, owner: LeaseOwner): Promise<string> {
  const tmp = tmpName(lockPath);
  try {
    await fs.mkdir(tmp, { mode: 0o700 });
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw lockFailed("create lock directory", tmp, error);
    try {
      await fs.mkdir(path.dirname(lockPath), { recursive: true, mode: 0o700 });
      await fs.mkdir(tmp, { mode: 0o700 });
    } catch (retryError) {
      throw lockFailed("create lock directory", tmp, retryError);
    }
  }
  try {
    await fs.writeFile(path.join(tmp, OWNER_FILE), JSON.stringify(owner), { mode: 0o600, flag: "wx" });
  } catch (error) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw lockFailed("write lock owner file in", tmp, error);
  }
  return tmp;
}

/** Try to make `tmp` the lock: "placed", "held" (someone has it) or "missing" (tmp was cleaned away). */
export async function tryPlace(tmp: string, lockPath: string): Promise<"placed" | "held" | "missing"> {
  try {
    await fs.rename(tmp, lockPath);
    return "placed";
  } catch (error) {
    const code = errorCode(error);
    // ENOTEMPTY/EEXIST: a lock directory is there; ENOTDIR: something else is (handled as ownerless).
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR") return "held";
    // cleanLockDir removed our prepared directory during a very long wait.
    if (code === "ENOENT") return "missing";
    throw lockFailed("create lock", lockPath, error);
  }
}

export async function readHolder(lockPath: string): Promise<Holder> {
  try {
    const owner = parseOwner(await fs.readFile(path.join(lockPath, OWNER_FILE), "utf8"));
    if (owner) return { kind: "owned", owner, identity: owner.token };
  } catch (error) {
    const code = errorCode(error);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw lockFailed("read lock owner of", lockPath, error);
  }
  try {
    const stat = await fs.stat(lockPath);
    // Between the two looks the lock may have been released and placed anew by
    // someone else (complete, with its owner): look again before calling it ownerless,
    // or a live lock prepared long ago (an old mtime) would be taken over.
    const owner = parseOwner(await fs.readFile(path.join(lockPath, OWNER_FILE), "utf8").catch(() => ""));
    if (owner) return { kind: "owned", owner, identity: owner.token };
    return { kind: "ownerless", identity: `ownerless-${stat.ino}-${Math.floor(stat.mtimeMs)}`, ageMs: Date.now() - stat.mtimeMs };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return { kind: "gone" };
    throw lockFailed("inspect lock", lockPath, error);
  }
}

async function identityAt(file: string): Promise<string | undefined> {
  const holder = await readHolder(file);
  return holder.kind === "gone" ? undefined : holder.identity;
}

/** Whether the holder can be taken over now. */
export async function isTakeable(holder: Holder): Promise<boolean> {
  if (holder.kind === "gone") return true;
  if (holder.kind === "ownerless") return holder.ageMs > OWNERLESS_STALE_MS;
  return isAbandoned(holder.owner);
}

/**
 * Move the abandoned lock `holder` out of the way. True when this call moved
 * it; false when someone else already did (or it changed hands).
 */
export async function steal(lockPath: string, holder: Exclude<Holder, { kind: "gone" }>): Promise<boolean> {
  // Judging the owner takes a moment in which a short-lived owner may release and
  // exit and a new holder take the lock: steal only what is still the lock judged.
  const { identity } = holder;
  if ((await identityAt(lockPath)) !== identity) return false;
  const tomb = `${lockPath}.${identity}.dead`;
  try {
    await fs.rename(lockPath, tomb);
  } catch (error) {
    const code = errorCode(error);
    // ENOENT: already gone. ENOTEMPTY/EEXIST: the tombstone exists, so another stealer won.
    if (code === "ENOENT" || code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR") return false;
    throw lockFailed("take over abandoned lock", lockPath, error);
  }
  const moved = await identityAt(tomb);
  if (moved === identity) {
    // Renaming keeps the directory's old mtime; date the tombstone now so cleanup keeps it long enough.
    const now = new Date();
    await fs.utimes(tomb, now, now).catch(() => undefined);
    return true;
  }
  // Only reachable when the tombstone had been cleaned up or the lock was not ours to judge
  // (an ownerless file): we moved a live lock. Put it back before anyone else takes the path.
  try {
    await fs.rename(tomb, lockPath);
  } catch (error) {
    throw new TmuxClaudeError(
      ErrorCodes.STORE_FAILED,
      `While taking over the abandoned lock ${lockPath}, a newer lock was moved to ${tomb} and could not be put back (${String(error)}). ` +
        `Two processes may both believe they hold it; restart the processes that use this state directory.`,
      { path: lockPath },
      { cause: error },
    );
  }
  return false;
}

export async function removeLockDir(dir: string): Promise<void> {
  try {
    await fs.unlink(path.join(dir, OWNER_FILE));
    await fs.rmdir(dir);
  } catch {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Extend the lease of the lock we hold. False when the lock is no longer
 * ours (taken over after our lease ran out): the caller has lost it.
 */
export async function renewLockDir(lockPath: string, owner: LeaseOwner, leaseMs: number): Promise<boolean> {
  const holder = await readHolder(lockPath);
  // Never renew what already expired: a stealer may be taking it over right now.
  if (holder.kind !== "owned" || holder.owner.token !== owner.token || Date.now() > (holder.owner.expiresAt ?? Infinity)) return false;
  const file = path.join(lockPath, OWNER_FILE);
  const tmp = tmpName(file);
  try {
    await fs.writeFile(tmp, JSON.stringify({ ...owner, expiresAt: Date.now() + leaseMs }), { mode: 0o600, flag: "wx" });
    await fs.rename(tmp, file);
    return true;
  } catch {
    await fs.unlink(tmp).catch(() => undefined);
    return false;
  }
}

export async function releaseLockDir(lockPath: string, token: string): Promise<void> {
  // Rename first so the lock path is freed atomically; removing the files in place would
  // leave an empty directory that a rename could replace while we are still deleting.
  const released = `${lockPath}.${token}.dead`;
  try {
    await fs.rename(lockPath, released);
  } catch (error) {
    if (errorCode(error) === "ENOENT") {
      throw new TmuxClaudeError(
        ErrorCodes.STORE_FAILED,
        `The lock ${lockPath} disappeared while this process (pid ${process.pid}) held it; the work done under it may have overlapped with another process. ` +
          `Check that nothing else deletes files in the state directory.`,
        { path: lockPath },
      );
    }
    throw lockFailed("release lock", lockPath, error);
  }
  const moved = await identityAt(released);
  if (moved !== token) {
    await fs.rename(released, lockPath).catch(() => undefined);
    throw new TmuxClaudeError(
      ErrorCodes.STORE_FAILED,
      `The lock ${lockPath} was taken over by another process while this process (pid ${process.pid}) held it: its lease ran out (the process stalled?), so the work done under it may have overlapped. ` +
        `Pass a longer leaseMs if the holder can stall that long.`,
      { path: lockPath },
    );
  }
  // The lock path is free and verified ours since the rename: removing the tombstone is
  // nobody's wait, so it runs after the release returns (cleanLockDir removes what a crash leaves).
  removeInBackground(released);
}

/** Tombstones of released locks being removed; FileStore.close waits for them. */
const removals = new Set<Promise<void>>();

function removeInBackground(dir: string): void {
  const removal = removeLockDir(dir).finally(() => removals.delete(removal));
  removals.add(removal);
}

/** Settles once the tombstones of the locks released so far are removed. */
export async function lockRemovalsSettled(): Promise<void> {
  while (removals.size) await Promise.all([...removals]);
}

/**
 * Remove what crashed processes left in a lock directory: half-made locks
 * (`*.tmp`) and tombstones of taken-over or released locks (`*.dead`) older
 * than `olderThanMs`. Tombstones must outlive any stealer still deciding, so
 * keep `olderThanMs` far above a lock operation's duration.
 */
export async function cleanLockDir(dir: string, olderThanMs = 60_000): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw lockFailed("list lock directory", dir, error);
  }
  const cutoff = Date.now() - olderThanMs;
  await Promise.all(
    names
      .filter((name) => name.endsWith(".tmp") || name.endsWith(".dead"))
      .map(async (name) => {
        const file = path.join(dir, name);
        try {
          const stat = await fs.lstat(file);
          if (stat.mtimeMs < cutoff) await fs.rm(file, { recursive: true, force: true });
        } catch (error) {
          if (errorCode(error) !== "ENOENT") throw lockFailed("remove leftover", file, error);
        }
      }),
  );
}
