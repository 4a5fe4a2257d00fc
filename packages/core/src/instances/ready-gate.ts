import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { KernelHooks } from "../kernel/hooks.js";
import type { ReadyGate } from "../kernel/events.js";
import type { InstanceRecord } from "../store/types.js";
import type { StateStore, StoreWatch } from "../store/store-contract.js";

/**
 * After the deadline, taps get this long to reject with their own explanation
 * before the kernel gives up on them with a generic one: a tap that ignores its
 * signal cannot hold a spawn forever, one that honors it is heard.
 */
const TAP_GRACE_MS = 1_000;

export interface OpenReadyGates {
  hooks: KernelHooks;
  store: StateStore;
  instance: InstanceRecord;
  launchedAt: number;
  restart: boolean;
  timeoutMs: number;
  /** Aborted when the instance is let go of (exited, terminated, kernel closing). */
  gone: AbortSignal;
}

export interface ReadyGates {
  /** Settles once every `awaitReady` tap settled, or the deadline and the grace after it passed. */
  readonly done: Promise<void>;
  /** Rejects as soon as a tap fails before the deadline (e.g. it knows its condition can never hold); never resolves. */
  readonly failedEarly: Promise<never>;
  /** Stop waiting: the agent itself failed, with this reason. */
  cancel(reason: unknown): void;
}

/** Run the plugins' readiness gates for one launch, while the agent starts. */
export function openReadyGates(options: OpenReadyGates): ReadyGates {
  const { instance, timeoutMs } = options;
  const stop = new AbortController();
  const deadline = setTimeout(
    () =>
      stop.abort(
        new TmuxClaudeError(ErrorCodes.SPAWN_TIMEOUT, `Instance "${instance.id}" was not ready within limits.spawnTimeout (${timeoutMs} ms).`, { id: instance.id }),
      ),
    timeoutMs,
  );
  const signal = AbortSignal.any([stop.signal, options.gone]);
  const gate: ReadyGate = {
    instance,
    restart: options.restart,
    launchedAt: options.launchedAt,
    signal,
    until: (accept) => untilRecord(options.store, instance.id, accept, signal),
  };
  const taps = options.hooks.awaitReady.promise(gate);
  const done = Promise.race([taps, afterGrace(signal, instance.id)]).finally(() => clearTimeout(deadline));
  const failedEarly = new Promise<never>((_, reject) => {
    done.catch((error: unknown) => {
      if (!stop.signal.aborted) reject(error);
    });
  });
  // Both are awaited later or raced; a rejection nobody reached yet is not unhandled.
  done.catch(() => undefined);
  failedEarly.catch(() => undefined);
  return { done, failedEarly, cancel: (reason) => stop.abort(reason) };
}

/** Rejects TAP_GRACE_MS after `signal` aborted, with its reason, naming the hook whose taps did not settle. */
function afterGrace(signal: AbortSignal, id: string): Promise<never> {
  return new Promise<never>((_, reject) => {
    const onAbort = () => {
      const timer = setTimeout(() => {
        const reason = signal.reason as unknown;
        if (reason instanceof TmuxClaudeError && reason.code === ErrorCodes.SPAWN_TIMEOUT) {
          reject(
            new TmuxClaudeError(
              ErrorCodes.SPAWN_TIMEOUT,
              `${reason.message} A plugin's awaitReady tap was still waiting for instance "${id}" and said nothing. See the plugins in your config; raise limits.spawnTimeout if it is only slow.`,
              { id, hook: "awaitReady" },
            ),
          );
        } else {
          reject(reason);
        }
      }, TAP_GRACE_MS);
      timer.unref();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The stored record once `accept` holds, re-read on every store change of that instance. */
export function untilRecord(store: StateStore, id: string, accept: (record: InstanceRecord) => boolean, signal: AbortSignal): Promise<InstanceRecord> {
  return new Promise<InstanceRecord>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let settled = false;
    let checking = false;
    let again = false;
    let watching: StoreWatch | undefined;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      watching?.stop();
      signal.removeEventListener("abort", onAbort);
      settle();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    // One read at a time; a change during a read means one more read after it.
    const check = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const record = await store.get(id);
          if (!record) {
            finish(() => reject(new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `Instance "${id}" was removed while it was being made ready.`, { id })));
            return;
          }
          if (accept(record)) {
            finish(() => resolve(record));
            return;
          }
        } while (again && !settled);
      } catch (error) {
        finish(() => reject(error));
      } finally {
        checking = false;
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    // Read once the watch is ready: a change between the read and the watch is not missed.
    watching = store.watch((change) => {
      if (change.kind === "instance" && change.id === id) void check();
    });
    watching.ready.then(check, (error: unknown) => finish(() => reject(error)));
  });
}
