/**
 * The outbox and its sender. Every event is written to the store
 * (`notify/outbox`, one document per event and endpoint) before anything is
 * sent, and a try starts only after an atomic claim of that document, so:
 * - the same event recorded by two processes (two attached kernels, a
 *   plugin raising one notice in each with the same id) is one document and
 *   is sent once;
 * - an event survives its process: a CLI that exits mid-backoff, or crashes
 *   mid-send (its claim lapses), leaves it pending, and `serve` sends it
 *   (it reads the outbox at start and watches it).
 * A process that dies after the endpoint accepted a request but before
 * recording it as sent makes the next sender repeat it once the claim
 * lapses: receivers drop repeats by the event id (the signed body's).
 */
import { createHash } from "node:crypto";
import type { Logger, PluginData, StoreWatch } from "@tmux-claude/core";
import type { NotifyEvent } from "./event.js";
import type { FailureLog } from "./failure-log.js";
import type { ResolvedNotifyOptions } from "./options.js";
import { DeliveryError, type Destination, type Transport } from "./transports.js";

export interface OutboxEntry {
  eventId: string;
  destination: Destination;
  event: NotifyEvent;
  state: "pending" | "sent" | "failed";
  /** Tries made so far. */
  attempts: number;
  /** Epoch ms before which no try starts (the backoff). */
  nextAt: number;
  /** The process trying it now; others leave it alone until `until`, when a crashed sender's claim lapses. */
  claim?: { owner: string; until: number };
  createdAt: number;
  doneAt?: number;
  lastError?: string;
}

/** Event ids are any string (a plugin's own); keys of the store are not, so the key is a digest. */
export function outboxKey(destination: Destination, eventId: string): string {
  return `${destination}-${createHash("sha256").update(eventId).digest("hex").slice(0, 40)}`;
}

/** Sent and failed entries are kept this long, to drop late repeats of their events, then removed. */
const RETENTION_MS = 24 * 3_600_000;
/**
 * A claim outlasts the request's timeout by this much, so a live sender never
 * loses its claim mid-request. Leases and backoff are wall-clock times
 * (Date.now()) compared by every process on the store: across nodes (Redis)
 * they assume clocks that agree to well within this margin; a node whose
 * clock runs ahead may take over a live claim and repeat a send.
 */
const LEASE_MARGIN_MS = 5_000;
/** How long closing waits for sends under way (a CLI's events go out before it exits when the endpoint answers). */
const CLOSE_GRACE_MS = 5_000;

export interface SenderDeps {
  outbox: PluginData<OutboxEntry>;
  transports: readonly Transport[];
  logger: Logger;
  failures: FailureLog;
  /** Unique per process run: the claim's owner. */
  owner: string;
  options: Pick<ResolvedNotifyOptions, "retry" | "timeoutMs">;
}

/** The entry is pending under this try's claim: only then may the try record its outcome. */
function holds(entry: OutboxEntry | undefined, owner: string): entry is OutboxEntry {
  return entry?.state === "pending" && entry.claim?.owner === owner;
}

function withoutClaim(entry: OutboxEntry): OutboxEntry {
  const { claim: _claim, ...rest } = entry;
  return rest;
}

export class Sender {
  readonly #deps: SenderDeps;
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #inflight = new Set<Promise<void>>();
  /** Keys this process is sending now. */
  readonly #sending = new Set<string>();
  readonly #abort = new AbortController();
  #closing = false;
  /** Makes each try's claim unique, also between two tries of this process in one millisecond. */
  #tries = 0;
  #closed = false;
  #watch: StoreWatch | undefined;
  /** This process recorded an event: a one-shot process that did prunes old entries as it closes (there may be no serve to). */
  #recorded = false;
  #prune: NodeJS.Timeout | undefined;

  constructor(deps: SenderDeps) {
    this.#deps = deps;
  }

  /** Record the event for every endpoint and start sending it; returns at once (the kernel never waits on an endpoint). */
  add(event: NotifyEvent): void {
    if (this.#closed) return;
    this.#recorded = true;
    for (const transport of this.#deps.transports) this.#track(this.#record(transport.destination, event));
  }

  /**
   * `serve`: send what earlier processes left pending, take over what other
   * processes leave (a CLI exiting mid-backoff), and drop old entries.
   */
  recover(): void {
    // In the background: serve starts without waiting on a large outbox, and a
    // store that fails here is a warning (#track), not a failed start.
    this.#track(this.#recover());
  }

  async #recover(): Promise<void> {
    const { outbox } = this.#deps;
    if (this.#closing) return;
    this.#watch = outbox.watch((key) => this.#track(this.#reconsider(key)));
    await this.#watch.ready;
    // close() may have come while we waited: it stopped the watch; start nothing more.
    if (this.#closing) return;
    await this.#sweep(true);
    if (this.#closing) return;
    this.#prune = setInterval(() => this.#track(this.#sweep(true)), RETENTION_MS / 4);
    this.#prune.unref();
  }

  /** Let sends under way finish (bounded), then stop; pending entries stay in the store for the next sender. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#watch?.stop();
    if (this.#prune) clearInterval(this.#prune);
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    const serving = this.#watch !== undefined;
    if (!serving && this.#recorded) this.#track(this.#sweep(false));
    await this.#settle(CLOSE_GRACE_MS);
    this.#closed = true;
    // Requests still open are cut; their attempts release their claims while the store is still open.
    this.#abort.abort();
    await this.#settle(1_000);
  }

  async #settle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#inflight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadline - Date.now())));
      await Promise.race([Promise.allSettled([...this.#inflight]), timeout]);
      clearTimeout(timer);
    }
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) =>
      // A store that failed (or closed under us): the entry stays as it was and is retried by the next sender.
      this.#deps.logger.warn({ err: error instanceof Error ? { message: error.message, code: (error as { code?: string }).code } : String(error) }, "notify: the outbox could not be read or written"),
    );
    this.#inflight.add(tracked);
    void tracked.finally(() => this.#inflight.delete(tracked));
  }

  async #record(destination: Destination, event: NotifyEvent): Promise<void> {
    const now = Date.now();
    const key = outboxKey(destination, event.eventId);
    // Created only when absent: a repeat of the event (another process, a retried tap) finds the first one's entry.
    const stored = await this.#deps.outbox.update(
      key,
      (current) => current ?? { eventId: event.eventId, destination, event, state: "pending", attempts: 0, nextAt: now, createdAt: now },
    );
    if (stored?.state === "pending") this.#schedule(key, stored);
  }

  async #reconsider(key: string): Promise<void> {
    if (this.#closing || this.#sending.has(key)) return;
    const entry = await this.#deps.outbox.get(key);
    if (entry?.state === "pending") this.#schedule(key, entry);
  }

  /** Remove entries done longer ago than the retention; with `schedulePending`, also try every pending one (serve). */
  async #sweep(schedulePending: boolean): Promise<void> {
    const now = Date.now();
    for (const { key, value } of await this.#deps.outbox.list()) {
      if (value.state === "pending") {
        if (schedulePending) this.#schedule(key, value);
      }
      else if ((value.doneAt ?? value.createdAt) < now - RETENTION_MS) await this.#deps.outbox.delete(key);
    }
  }

  /** Try the entry when its backoff ends, or when another process's claim on it would lapse. */
  #schedule(key: string, entry: OutboxEntry): void {
    if (this.#closed || this.#sending.has(key)) return;
    const at = Math.max(entry.nextAt, entry.claim?.until ?? 0);
    const delay = at - Date.now();
    if (delay <= 0) {
      this.#track(this.#attempt(key));
      return;
    }
    // While closing, a later try is the next sender's (serve's) to make.
    if (this.#closing) return;
    const existing = this.#timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#track(this.#attempt(key));
    }, delay);
    // A timer must not keep a finished CLI alive: what it would send stays in the outbox.
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  async #attempt(key: string): Promise<void> {
    if (this.#closed || this.#sending.has(key)) return;
    const { outbox, options } = this.#deps;
    const now = Date.now();
    const until = now + options.timeoutMs + LEASE_MARGIN_MS;
    const owner = `${this.#deps.owner}#${++this.#tries}`;
    this.#sending.add(key);
    try {
      const entry = await outbox.update(key, (current) => {
        if (!current || current.state !== "pending" || current.nextAt > now || (current.claim && current.claim.until > now)) return current;
        return { ...current, claim: { owner, until } };
      });
      if (!entry || entry.state !== "pending") return;
      if (entry.claim?.owner !== owner) {
        // Not ours yet (backoff) or another process's: look again when that ends.
        this.#sending.delete(key);
        this.#schedule(key, entry);
        return;
      }
      await this.#send(key, entry, owner);
    } finally {
      this.#sending.delete(key);
    }
  }

  async #send(key: string, entry: OutboxEntry, owner: string): Promise<void> {
    const { outbox, transports, failures, options } = this.#deps;
    const transport = transports.find((candidate) => candidate.destination === entry.destination);
    if (!transport) {
      // The config lost this endpoint since the event was recorded: nothing can send it.
      await outbox.update(key, (current) => (holds(current, owner) ? { ...withoutClaim(current), state: "failed", doneAt: Date.now(), lastError: `no ${entry.destination} endpoint configured` } : current));
      return;
    }
    const attempts = entry.attempts + 1;
    try {
      await transport.send(entry.event, AbortSignal.any([this.#abort.signal, AbortSignal.timeout(options.timeoutMs)]));
    } catch (error) {
      if (this.#abort.signal.aborted) {
        // Cut by close, not by the endpoint: not a try; the next sender starts at once.
        await outbox.update(key, (current) => (holds(current, owner) ? { ...withoutClaim(current), nextAt: Date.now() } : current));
        return;
      }
      await this.#failed(key, transport, attempts, error, owner);
      return;
    }
    const doneAt = Date.now();
    // Delivered is a fact whoever holds the claim now (ours lapsed, another took it): marking it stops that sender's retries.
    await outbox.update(key, (current) => current && (current.state === "sent" ? current : { ...withoutClaim(current), state: "sent", attempts, doneAt }));
    failures.delivered(transport);
  }

  async #failed(key: string, transport: Transport, attempts: number, error: unknown, owner: string): Promise<void> {
    const { outbox, failures, options } = this.#deps;
    // Only a DeliveryError's message is known to hold no URL (a Slack or Discord URL's path is its credential).
    const reason = error instanceof DeliveryError ? error.message : `unexpected ${error instanceof Error ? error.name : typeof error}`;
    const retryable = !(error instanceof DeliveryError) || error.retryable;
    const giveUp = !retryable || attempts >= options.retry.attempts;
    const delay = Math.min(options.retry.maxDelayMs, options.retry.initialDelayMs * 2 ** (attempts - 1));
    const failedAt = Date.now();
    // Only while the claim is still ours: once it lapsed, another sender owns the entry and its live claim stays.
    const next = await outbox.update(key, (current) =>
      !holds(current, owner) ? current : giveUp
        ? { ...withoutClaim(current), state: "failed", attempts, doneAt: failedAt, lastError: reason }
        : { ...withoutClaim(current), attempts, nextAt: failedAt + delay, lastError: reason },
    );
    failures.failed(transport, giveUp && !retryable ? `${reason} (not retried: the endpoint refused the request)` : reason, giveUp ? "gave up" : "retrying", next?.eventId ?? key);
    if (next?.state === "pending") {
      this.#sending.delete(key);
      this.#schedule(key, next);
    }
  }
}
