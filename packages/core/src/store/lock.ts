/**
 * A named lock shared by every process on this machine, built on the
 * filesystem so the embedded store needs no service, held under a lease.
 *
 * Processes of this machine first line up on the machine mutex
 * (os/machine-mutex.ts), which the kernel frees the instant its holder dies,
 * so they never judge each other's file locks. The file lock (lock-dir.ts)
 * stays for what the mutex cannot see: other hosts and pid namespaces
 * sharing the directory, and platforms without abstract sockets. There a
 * waiter wakes when the lock directory changes (inotify on its parent) or
 * when the holder's lease runs out, never on a timer of its own.
 */
import { type FSWatcher, watch as watchDir } from "node:fs";
import path from "node:path";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import { acquireMachineMutex, type ReleaseMutex } from "../os/machine-mutex.js";
import { HOST, leaseMsOf, ownLease } from "./lease-owner.js";
import {
  OWNERLESS_STALE_MS,
  isTakeable,
  lockPathFor,
  prepareLockDir,
  readHolder,
  releaseLockDir,
  removeLockDir,
  renewLockDir,
  steal,
  tryPlace,
  type Holder,
} from "./lock-dir.js";
import { joinLocalLine, keepRenewed, localLockTimeout, waitUntil, withReentrantLock, type ReleaseLock } from "./reentrant.js";
import type { Lease, LockOptions } from "./store-contract.js";

export { cleanLockDir, lockPathFor } from "./lock-dir.js";
export type { ReleaseLock } from "./reentrant.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

function describeHolder(holder: Holder, lockPath: string): string {
  switch (holder.kind) {
    case "owned": {
      const { owner } = holder;
      const lease = owner.expiresAt === undefined ? "" : `, lease until ${new Date(owner.expiresAt).toISOString()}`;
      if (owner.host !== HOST) {
        return (
          `held by pid ${owner.pid} on host ${owner.host} since ${owner.acquiredAt}${lease}, which cannot be checked from ${HOST} ` +
          `(if that machine or container no longer uses this directory, delete ${lockPath})`
        );
      }
      if (owner.pid === process.pid) return `held by this process (pid ${owner.pid}) since ${owner.acquiredAt}${lease}`;
      return `held by pid ${owner.pid} (alive) since ${owner.acquiredAt}${lease}`;
    }
    case "ownerless":
      return `held by an unknown owner (the lock has no owner file; it is taken over once it is ${OWNERLESS_STALE_MS / 1000} s old)`;
    case "gone":
      return "released just now";
  }
}

function lockTimeout(key: string, lockPath: string, timeoutMs: number, holder: Holder): TmuxClaudeError {
  return new TmuxClaudeError(
    ErrorCodes.LOCK_TIMEOUT,
    `Timed out after ${timeoutMs} ms waiting for lock "${key}" at ${lockPath}: it is ${describeHolder(holder, lockPath)}. ` +
      `If that process is stuck, stop it; a lock whose owner has exited is taken over automatically.`,
    { lockPath, key, ownerPid: holder.kind === "owned" ? holder.owner.pid : undefined, timeoutMs },
  );
}

/** When a held lock could next become takeable without any file changing (its lease or staleness running out). */
function takeableAt(holder: Holder): number | undefined {
  if (holder.kind === "owned") return holder.owner.expiresAt === undefined ? undefined : holder.owner.expiresAt + 1;
  if (holder.kind === "ownerless") return Date.now() + OWNERLESS_STALE_MS - holder.ageMs + 1;
  return undefined;
}

/** Wakes its waiter when the watched lock directory is renamed, removed or placed. */
class LockPathWatch {
  private watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;

  constructor(lockPath: string) {
    const name = path.basename(lockPath);
    try {
      this.watcher = watchDir(path.dirname(lockPath), { persistent: false }, (_event, filename) => {
        if (filename !== null && filename !== name) return;
        this.changed = true;
        this.wake?.();
      });
      this.watcher.on("error", () => this.close());
    } catch {
      // Without a watch, waiters still wake at the holder's lease expiry and at their deadline.
      this.watcher = undefined;
    }
  }

  /** Resolves at the next change since the last call (at once if one came already), or at `until`. */
  async next(until: number): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, until - Date.now()));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
    this.changed = false;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

async function acquireFileLock(lockPath: string, key: string, leaseMs: number, deadline: number, timeoutMs: number) {
  const owner = ownLease(key, leaseMs);
  let tmp: string | undefined = await prepareLockDir(lockPath, owner);
  // Made when the lock is first found held, then tried again at once: a release between that try and the watch is not missed.
  let changes: LockPathWatch | undefined;
  let lastChance = false;
  try {
    for (;;) {
      const placed = await tryPlace(tmp, lockPath);
      if (placed === "placed") {
        tmp = undefined;
        return owner;
      }
      if (placed === "missing") {
        owner.expiresAt = Date.now() + leaseMs;
        tmp = await prepareLockDir(lockPath, owner);
        continue;
      }
      if (!changes) {
        changes = new LockPathWatch(lockPath);
        continue;
      }
      const holder = await readHolder(lockPath);
      const freed = holder.kind === "gone" || ((await isTakeable(holder)) && (await steal(lockPath, holder)));
      if (Date.now() >= deadline) {
        // A lock seen free at the deadline still gets one more try.
        if (freed && !lastChance) {
          lastChance = true;
          continue;
        }
        throw lockTimeout(key, lockPath, timeoutMs, holder);
      }
      if (freed) continue;
      await changes.next(Math.min(deadline, takeableAt(holder) ?? deadline));
      // Our prepared lock carries the lease we will hold: it must not be placed already expired.
      if (owner.expiresAt !== undefined && owner.expiresAt - Date.now() < leaseMs / 2) {
        await removeLockDir(tmp);
        owner.expiresAt = Date.now() + leaseMs;
        tmp = await prepareLockDir(lockPath, owner);
      }
    }
  } finally {
    changes?.close();
    if (tmp !== undefined) await removeLockDir(tmp);
  }
}

const localLines = new Map<string, Promise<void>>();

/** Take the lock `key` under `dir`; the lease is renewed until released. */
export async function acquireLock(dir: string, key: string, options: LockOptions = {}): Promise<{ lease: Lease; release: ReleaseLock }> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Lock timeout for "${key}" must be a number of milliseconds >= 0, got ${String(timeoutMs)}.`,
    );
  }
  const leaseMs = leaseMsOf(options.leaseMs);
  const deadline = Date.now() + timeoutMs;
  const lockPath = lockPathFor(dir, key);
  const line = joinLocalLine(localLines, lockPath);

  let machine: ReleaseMutex | undefined;
  let owner: Awaited<ReturnType<typeof acquireFileLock>>;
  try {
    if (!(await waitUntil(line.ahead, deadline))) throw localLockTimeout(key, lockPath, timeoutMs);
    machine = await acquireMachineMutex(`lock-${lockPath}`, { timeoutMs: Math.max(0, deadline - Date.now()) }).catch(async (error: unknown) => {
      if (isTmuxClaudeError(error, ErrorCodes.LOCK_TIMEOUT)) throw lockTimeout(key, lockPath, timeoutMs, await readHolder(lockPath).catch(() => ({ kind: "gone" }) as const));
      throw error;
    });
    owner = await acquireFileLock(lockPath, key, leaseMs, deadline, timeoutMs);
  } catch (error) {
    await machine?.();
    // Our successors now wait only for our predecessor.
    line.leave();
    throw error;
  }

  const renewal = keepRenewed(leaseMs, () => renewLockDir(lockPath, owner, leaseMs));
  let released = false;
  return {
    lease: { key, token: owner.token, lost: renewal.lost },
    release: async () => {
      if (released) return;
      released = true;
      try {
        await renewal.stop();
        await releaseLockDir(lockPath, owner.token);
      } finally {
        await machine?.();
        line.leave();
      }
    },
  };
}

/** Run `fn` holding the lock `key` under `dir`; re-entrant within one async call tree (see reentrant.ts). */
export function withFileLock<T>(dir: string, key: string, fn: (lease: Lease) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = lockPathFor(dir, key);
  return withReentrantLock(lockPath, key, options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, () => acquireLock(dir, key, options), fn);
}
