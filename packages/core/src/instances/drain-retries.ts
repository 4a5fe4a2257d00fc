/**
 * When a drain of an instance's queue failed, when to try again: a failure
 * of the agent (no receipt, a pane that did not answer) can only change at
 * its next output or status change; a failure of the store (Redis away)
 * cannot wait for that, since an idle agent gives no sign, so it is tried
 * again on a timer, backing off.
 */
import type { Logger } from "pino";
import type { Registry } from "./registry.js";

/** A drain the store failed is tried again after this, doubling up to the max. */
const STORE_RETRY_MS = 500;
const STORE_RETRY_MAX_MS = 5_000;

export class DrainRetries {
  /** Retries waiting for their instance's next output or status change, by instance id. */
  private readonly waiting = new Map<string, () => void>();
  /** Drains that failed on the store in a row, by instance id. */
  private readonly storeFailures = new Map<string, number>();

  constructor(
    private readonly registry: Registry,
    private readonly logger: Logger,
    private readonly drain: (id: string) => void,
  ) {}

  /** A drain of `id` went through: the next store failure starts the backoff afresh. */
  succeeded(id: string): void {
    this.storeFailures.delete(id);
  }

  /** Try again at the instance's next output or status change. */
  onNextSign(id: string): void {
    const live = this.registry.get(id);
    if (!live || this.waiting.has(id)) return;
    const again = (): void => {
      stop();
      this.drain(id);
    };
    const onStatus = (changed: string): void => {
      if (changed === id) again();
    };
    const stop = (): void => {
      this.waiting.delete(id);
      live.listeners.delete(again);
      this.registry.events.off("status", onStatus);
      live.gone.signal.removeEventListener("abort", stop);
    };
    live.listeners.add(again);
    this.registry.events.on("status", onStatus);
    live.gone.signal.addEventListener("abort", stop, { once: true });
    this.waiting.set(id, stop);
  }

  /** The store failed the drain: try again after a while, backing off to STORE_RETRY_MAX_MS, warning once per outage. */
  afterStoreFailure(id: string, error: unknown): void {
    const failures = this.storeFailures.get(id) ?? 0;
    this.storeFailures.set(id, failures + 1);
    this.logger[failures === 0 ? "warn" : "debug"]({ err: error, instance: id }, "could not use the store to deliver a queued message; trying again");
    if (this.registry.closed) return;
    setTimeout(() => this.drain(id), Math.min(STORE_RETRY_MS * 2 ** failures, STORE_RETRY_MAX_MS)).unref();
  }
}
