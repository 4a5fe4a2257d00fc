/**
 * A named mutex shared by every process on this machine, built on the
 * filesystem so the embedded store needs no service.
 *
 * A lock is the directory `<dir>/<safe-key>.lock` holding an `owner` file
 * (pid, process start time, host, a unique token). It is created complete:
 * the directory is prepared under a temporary name and renamed into place,
 * and `rename` of a directory onto an existing non-empty one fails, so the
 * lock never exists without its owner (a crash cannot leave an ownerless lock).
 *
 * A lock whose owner died is taken over: the stale directory is renamed to a
 * tombstone named after the dead owner's token. Only one stealer can create
 * that tombstone; a late stealer who read the same dead owner finds it
 * occupied and cannot move a newer, live lock away. Tombstones are removed by
 * `cleanLockDir` once they are old.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import { acquireMachineMutex, type ReleaseMutex } from "../os/machine-mutex.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

const BACKOFF_START_MS = 1;
const BACKOFF_CAP_MS = 20;
/**
 * This module never makes a lock without an owner file; one that has none was
 * made by something else. Give its maker this long before taking it over.
 */
const OWNERLESS_STALE_MS = 10_000;
const OWNER_FILE = "owner";

export interface LockOptions {
  /** How long to wait for the lock before failing with LOCK_TIMEOUT. Default 10 s. */
  timeoutMs?: number;
}

/** Releases the lock. Calling it again does nothing. */
export type ReleaseLock = () => Promise<void>;

interface LockOwner {
  pid: number;
  /** Process start time (/proc/<pid>/stat field 22), so a reused pid is not taken for the owner. Null where unknown. */
  start: string | null;
  host: string;
  token: string;
  key: string;
  acquiredAt: string;
}

type Holder =
  | { kind: "gone" }
  | { kind: "owned"; owner: LockOwner; identity: string }
  | { kind: "ownerless"; identity: string; ageMs: number };

/**
 * A file-name-safe, readable, collision-free form of `text`: letters, digits,
 * `_`, `-` and `.` stay, every other byte becomes `%XX`. Names longer than
 * `maxLength` (at least 40) are cut and end in a hash.
 */
export function safeName(text: string, maxLength = 120): string {
  let safe = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const isPlain =
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      byte === 0x5f || // _
      byte === 0x2d || // -
      (byte === 0x2e && safe.length > 0); // . (never leading: no hidden files, no "." or "..")
    safe += isPlain ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (safe.length > maxLength) {
    // Keep a readable start; the hash keeps different long texts apart.
    const head = safe.slice(0, Math.max(0, maxLength - 33)).replace(/%[0-9A-F]?$/u, "");
    safe = `${head}~${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
  }
  return safe;
}

/** The directory that represents the lock `key` under `dir`. */
export function lockPathFor(dir: string, key: string): string {
  if (key.length === 0) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `A lock key must not be empty (lock directory ${dir}). Pass a name such as "instance:<id>".`);
  }
  return path.join(path.resolve(dir), `${safeName(key)}.lock`);
}

// ---------------------------------------------------------------------------
// Process identity

const HOST = os.hostname();
let ownStart: string | null | undefined;

interface ProcStat {
  state: string;
  start: string;
}

function parseProcStat(text: string): ProcStat | undefined {
  // Field 2 (comm) is in parentheses and may itself contain ") ", so split after the last one.
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const start = fields[19];
  if (state === undefined || start === undefined || !/^\d+$/u.test(start)) return undefined;
  return { state, start };
}

function ownStartTime(): string | null {
  if (ownStart === undefined) {
    ownStart = null;
    if (process.platform === "linux") {
      try {
        ownStart = parseProcStat(readFileSync("/proc/self/stat", "utf8"))?.start ?? null;
      } catch {
        ownStart = null;
      }
    }
  }
  return ownStart;
}

/** The process's stat, null when there is no such process, undefined when this cannot be known here. */
async function readProcStat(pid: number): Promise<ProcStat | null | undefined> {
  if (process.platform !== "linux") return undefined;
  try {
    return parseProcStat(await fs.readFile(`/proc/${pid}/stat`, "utf8"));
  } catch (error) {
    return errorCode(error) === "ENOENT" || errorCode(error) === "ESRCH" ? null : undefined;
  }
}

async function isOwnerDead(owner: LockOwner): Promise<boolean> {
  // Another machine's process table cannot be checked from here: never steal from it.
  if (owner.host !== HOST) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if (errorCode(error) === "ESRCH") return true;
    // EPERM: the process exists but belongs to someone else.
  }
  const stat = await readProcStat(owner.pid);
  if (stat === null) return true;
  if (stat === undefined) return false;
  // A killed process stays a zombie until its parent reaps it; it holds nothing any more.
  if (stat.state === "Z" || stat.state === "X") return true;
  return owner.start !== null && stat.start !== owner.start;
}

function parseOwner(text: string): LockOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const owner = value as Partial<LockOwner>;
  if (typeof owner.pid !== "number" || !Number.isSafeInteger(owner.pid) || owner.pid <= 0) return undefined;
  if (typeof owner.token !== "string" || !/^[A-Za-z0-9_-]+$/u.test(owner.token)) return undefined;
  return {
    pid: owner.pid,
    start: typeof owner.start === "string" ? owner.start : null,
    host: typeof owner.host === "string" ? owner.host : HOST,
    token: owner.token,
    key: typeof owner.key === "string" ? owner.key : "",
    acquiredAt: typeof owner.acquiredAt === "string" ? owner.acquiredAt : "",
  };
}

// ---------------------------------------------------------------------------
// The lock directory

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
}

function lockFailed(action: string, file: string, error: unknown): TmuxClaudeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new TmuxClaudeError(
    ErrorCodes.STORE_FAILED,
    `Could not ${action} ${file}: ${reason}. Check that the lock directory is writable by this user.`,
    { path: file },
    { cause: error },
  );
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/** Create the lock directory, complete with its owner file, under a temporary name. */
async function prepareLockDir(lockPath: string, owner: LockOwner): Promise<string> {
  const tmp = `${lockPath}.${process.pid}.${randomHex(6)}.tmp`;
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
async function tryPlace(tmp: string, lockPath: string): Promise<"placed" | "held" | "missing"> {
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

async function readHolder(lockPath: string): Promise<Holder> {
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
    return { kind: "ownerless", identity: ownerlessIdentity(stat), ageMs: Date.now() - stat.mtimeMs };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return { kind: "gone" };
    throw lockFailed("inspect lock", lockPath, error);
  }
}

function ownerlessIdentity(stat: { ino: number; mtimeMs: number }): string {
  return `ownerless-${stat.ino}-${Math.floor(stat.mtimeMs)}`;
}

async function identityAt(file: string): Promise<string | undefined> {
  const holder = await readHolder(file);
  return holder.kind === "gone" ? undefined : holder.identity;
}

/**
 * Move the abandoned lock with `identity` out of the way. True when this call
 * moved it; false when someone else already did (or it changed hands).
 */
async function steal(lockPath: string, identity: string): Promise<boolean> {
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

async function removeLockDir(dir: string): Promise<void> {
  try {
    await fs.unlink(path.join(dir, OWNER_FILE));
    await fs.rmdir(dir);
  } catch {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function describeHolder(holder: Holder, lockPath: string): string {
  switch (holder.kind) {
    case "owned": {
      const { owner } = holder;
      if (owner.host !== HOST) {
        return (
          `held by pid ${owner.pid} on host ${owner.host} since ${owner.acquiredAt}, which cannot be checked from ${HOST} ` +
          `(if that machine or container no longer uses this directory, delete ${lockPath})`
        );
      }
      if (owner.pid === process.pid) return `held by this process (pid ${owner.pid}) since ${owner.acquiredAt}`;
      return `held by pid ${owner.pid} (alive) since ${owner.acquiredAt}`;
    }
    case "ownerless":
      return `held by an unknown owner (the lock has no owner file; it is taken over once it is ${OWNERLESS_STALE_MS / 1000} s old)`;
    case "gone":
      return "released just now";
  }
}

function lockTimeout(key: string, lockPath: string, timeoutMs: number, holder: Holder | "local"): TmuxClaudeError {
  const held =
    holder === "local"
      ? `held by another operation in this process (pid ${process.pid})`
      : describeHolder(holder, lockPath);
  const ownerPid = holder === "local" ? process.pid : holder.kind === "owned" ? holder.owner.pid : undefined;
  return new TmuxClaudeError(
    ErrorCodes.LOCK_TIMEOUT,
    `Timed out after ${timeoutMs} ms waiting for lock "${key}" at ${lockPath}: it is ${held}. ` +
      `If that process is stuck, stop it; a lock whose owner has exited is taken over automatically.`,
    { lockPath, key, ownerPid, timeoutMs },
  );
}

async function acquireFileLock(lockPath: string, key: string, deadline: number, timeoutMs: number): Promise<string> {
  const owner: LockOwner = {
    pid: process.pid,
    start: ownStartTime(),
    host: HOST,
    token: `${process.pid}-${ownStartTime() ?? "0"}-${randomHex(8)}`,
    key,
    acquiredAt: new Date().toISOString(),
  };
  let tmp: string | undefined = await prepareLockDir(lockPath, owner);
  let datedAt = Date.now();
  let delayMs = BACKOFF_START_MS;
  let lastChance = false;
  try {
    for (;;) {
      // The lock's age is its directory's mtime: after a long wait, date it now so it is not placed looking old.
      if (Date.now() - datedAt > 1_000) {
        const now = new Date();
        await fs.utimes(tmp, now, now).catch(() => undefined);
        datedAt = now.getTime();
      }
      const placed = await tryPlace(tmp, lockPath);
      if (placed === "placed") {
        tmp = undefined;
        return owner.token;
      }
      if (placed === "missing") {
        tmp = await prepareLockDir(lockPath, owner);
        datedAt = Date.now();
        continue;
      }
      const holder = await readHolder(lockPath);
      // "gone": released between our two looks. Either way, try again at once.
      // Judging the owner takes a moment in which a short-lived owner may release and
      // exit and a new holder take the lock: steal only what is still the lock judged.
      const freed =
        holder.kind === "gone" ||
        ((holder.kind === "owned" ? await isOwnerDead(holder.owner) : holder.ageMs > OWNERLESS_STALE_MS) &&
          (await identityAt(lockPath)) === holder.identity &&
          (await steal(lockPath, holder.identity)));
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        // A lock seen free at the deadline still gets one more try.
        if (freed && !lastChance) {
          lastChance = true;
          continue;
        }
        throw lockTimeout(key, lockPath, timeoutMs, holder);
      }
      if (freed) continue;
      await sleep(Math.min(delayMs, remaining));
      delayMs = Math.min(delayMs * 2, BACKOFF_CAP_MS);
    }
  } finally {
    if (tmp !== undefined) await removeLockDir(tmp);
  }
}

async function releaseFileLock(lockPath: string, token: string): Promise<void> {
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
      `The lock ${lockPath} was taken over by another process while this process (pid ${process.pid}) held it; the work done under it may have overlapped. ` +
        `This happens when processes share a state directory across pid namespaces; give each its own directory or use a shared store.`,
      { path: lockPath },
    );
  }
  await removeLockDir(released);
}

// ---------------------------------------------------------------------------
// In-process queueing: waiters in one process line up on a promise chain
// first, so a process does not spin against its own lock.

const localTails = new Map<string, Promise<void>>();

/** Wait for `promise`; false when the deadline came first. */
async function waitUntil(promise: Promise<void>, deadline: number): Promise<boolean> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) {
    // Still let an already-settled predecessor through.
    return Promise.race([promise.then(() => true), Promise.resolve().then(() => false)]);
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), remaining);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Take the lock `key` under `dir`; resolves with the function that releases it. */
export async function acquireLock(dir: string, key: string, options: LockOptions = {}): Promise<ReleaseLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Lock timeout for "${key}" must be a number of milliseconds >= 0, got ${String(timeoutMs)}.`,
    );
  }
  const deadline = Date.now() + timeoutMs;
  const lockPath = lockPathFor(dir, key);

  const previous = localTails.get(lockPath) ?? Promise.resolve();
  let finishLocal!: () => void;
  const mine = new Promise<void>((resolve) => {
    finishLocal = resolve;
  });
  const tail = previous.then(() => mine);
  localTails.set(lockPath, tail);
  const leaveQueue = (): void => {
    finishLocal();
    if (localTails.get(lockPath) === tail) localTails.delete(lockPath);
  };

  let token: string;
  let machine: ReleaseMutex | undefined;
  try {
    if (!(await waitUntil(previous, deadline))) throw lockTimeout(key, lockPath, timeoutMs, "local");
    // Processes of this machine first line up on a mutex the kernel frees when its
    // holder dies, so they never judge each other's file locks: short-lived processes
    // (CLI commands) exiting right after a release made a judged-dead lock change
    // hands under a stealer. The file lock stays for what the mutex cannot see.
    machine = await acquireMachineMutex(`lock-${lockPath}`, { timeoutMs: Math.max(0, deadline - Date.now()) }).catch(async (error: unknown) => {
      if (isTmuxClaudeError(error, ErrorCodes.LOCK_TIMEOUT)) throw lockTimeout(key, lockPath, timeoutMs, await readHolder(lockPath).catch(() => ({ kind: "gone" }) as const));
      throw error;
    });
    token = await acquireFileLock(lockPath, key, deadline, timeoutMs);
  } catch (error) {
    await machine?.();
    // Our successors now wait only for our predecessor.
    leaveQueue();
    throw error;
  }

  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      await releaseFileLock(lockPath, token);
    } finally {
      await machine?.();
      leaveQueue();
    }
  };
}

// ---------------------------------------------------------------------------
// withFileLock: re-entrant within one async call tree.

interface Hold {
  released: boolean;
  /** Nested holders of the same lock, run one at a time. */
  tail: Promise<void>;
}

const heldLocks = new AsyncLocalStorage<ReadonlyMap<string, Hold>>();

/** Line up behind other nested holders of a lock this call tree already holds. */
async function enterNested(outer: Hold, key: string, lockPath: string, timeoutMs: number): Promise<ReleaseLock> {
  const deadline = Date.now() + timeoutMs;
  const previous = outer.tail;
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  outer.tail = previous.then(() => mine);
  if (!(await waitUntil(previous, deadline))) {
    done();
    throw lockTimeout(key, lockPath, timeoutMs, "local");
  }
  return async () => done();
}

/** Wait until no nested holder is queued or running, then mark the hold released. */
async function settle(hold: Hold): Promise<void> {
  for (;;) {
    const tail = hold.tail;
    await tail;
    if (tail === hold.tail) break;
  }
  hold.released = true;
}

/**
 * Run `fn` holding the lock `key`. Re-entrant: code running inside `fn` (in
 * the same async call tree) that asks for the same lock gets it at once,
 * one nested caller at a time, instead of waiting for itself until timeout.
 * The lock is released only after nested callers started inside `fn` finish.
 */
export async function withFileLock<T>(dir: string, key: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = lockPathFor(dir, key);
  const context = heldLocks.getStore();
  const outer = context?.get(lockPath);
  const release =
    outer !== undefined && !outer.released
      ? await enterNested(outer, key, lockPath, options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS)
      : await acquireLock(dir, key, options);

  const hold: Hold = { released: false, tail: Promise.resolve() };
  const inner = new Map(context ?? []);
  inner.set(lockPath, hold);
  let result: T;
  try {
    result = await heldLocks.run(inner, fn);
  } catch (error) {
    await settle(hold);
    // The caller needs fn's error more than a failure to release.
    await release().catch(() => undefined);
    throw error;
  }
  await settle(hold);
  await release();
  return result;
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
