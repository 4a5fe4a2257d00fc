/**
 * What every store's locks share inside one process: callers of the same
 * lock line up (os/local-line.ts), a call tree that holds a lock may take it
 * again (re-entrancy), and a held lease is renewed.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { Lease } from "./store-contract.js";

export { joinLocalLine } from "../os/local-line.js";

/** Releases a lock. Calling it again does nothing. */
export type ReleaseLock = () => Promise<void>;

/** Wait for `promise`; false when the deadline came first. */
export async function waitUntil(promise: Promise<unknown>, deadline: number): Promise<boolean> {
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

export function localLockTimeout(key: string, where: string, timeoutMs: number): TmuxClaudeError {
  return new TmuxClaudeError(
    ErrorCodes.LOCK_TIMEOUT,
    `Timed out after ${timeoutMs} ms waiting for lock "${key}" at ${where}: it is held by another operation in this process (pid ${process.pid}). ` +
      `If that operation is stuck, find what it waits for; a lock whose holder has exited is taken over automatically.`,
    { lockPath: where, key, ownerPid: process.pid, timeoutMs },
  );
}

interface Hold {
  lease: Lease;
  released: boolean;
  /** Nested holders of the same lock, run one at a time. */
  tail: Promise<void>;
}

const heldLocks = new AsyncLocalStorage<ReadonlyMap<string, Hold>>();

/** Line up behind other nested holders of a lock this call tree already holds. */
async function enterNested(outer: Hold, key: string, where: string, timeoutMs: number): Promise<ReleaseLock> {
  const deadline = Date.now() + timeoutMs;
  const previous = outer.tail;
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  outer.tail = previous.then(() => mine);
  if (!(await waitUntil(previous, deadline))) {
    done();
    throw localLockTimeout(key, where, timeoutMs);
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
 * Run `fn` holding the lock that `acquire` takes, identified by `scope` (the
 * same lock must have the same scope in every store handle of this process).
 * Re-entrant: code running inside `fn` (in the same async call tree) that asks
 * for the same lock gets it at once, one nested caller at a time, instead of
 * waiting for itself until timeout. The lock is released only after nested
 * callers started inside `fn` finish.
 */
export async function withReentrantLock<T>(
  scope: string,
  key: string,
  timeoutMs: number,
  acquire: () => Promise<{ lease: Lease; release: ReleaseLock }>,
  fn: (lease: Lease) => Promise<T>,
): Promise<T> {
  const context = heldLocks.getStore();
  const outer = context?.get(scope);
  const { lease, release } =
    outer !== undefined && !outer.released ? { lease: outer.lease, release: await enterNested(outer, key, scope, timeoutMs) } : await acquire();

  const hold: Hold = { lease, released: false, tail: Promise.resolve() };
  const inner = new Map(context ?? []);
  inner.set(scope, hold);
  let result: T;
  try {
    result = await heldLocks.run(inner, () => fn(lease));
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
 * Renew a lease every third of its length until stopped; `renew` resolving
 * false (or failing) means the lease was lost, which aborts `lost`. Stopping
 * waits for a renewal under way, so a release never races it.
 */
export function keepRenewed(leaseMs: number, renew: () => Promise<boolean>): { lost: AbortSignal; stop: () => Promise<void> } {
  const lost = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    running = running.then(async () => {
      if (stopped || lost.signal.aborted) return;
      const ok = await renew().catch(() => false);
      if (!ok && !stopped) {
        lost.abort(new TmuxClaudeError(ErrorCodes.LOCK_TIMEOUT, `A lease could not be renewed within its ${leaseMs} ms and may have been taken over.`));
        clearInterval(timer);
      }
    });
  }, Math.max(10, Math.floor(leaseMs / 3)));
  // A lease must not keep a finished CLI alive; a process that ends stops renewing, as it should.
  timer.unref();
  return {
    lost: lost.signal,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
