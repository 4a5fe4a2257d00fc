/**
 * The reading side of `<prefix>:events`: `history` (XREVRANGE pages) and
 * `subscribe`, served by one blocking reader per kernel (XREAD BLOCK on a
 * connection of its own, opened at the first subscribe) that hands each new
 * entry to every subscriber. A subscriber with a `since` in the past first
 * gets the history after it (XRANGE); entries the reader brings meanwhile
 * are held and handed over after, each once: a subscriber keeps the next
 * stream id it accepts, and ids only grow.
 */
import { ErrorCodes, TmuxClaudeError, type Logger } from "@tmux-claude/core";
import type { Redis } from "ioredis";
import type { RedisStore } from "../redis-store.js";
import { compareStreamIds, EVENT_TYPES, MAX_SEQ, nextStreamId, parseEntry, STREAM_ID, type ClusterEvent, type EventType } from "./wire.js";

/** Which events: all by default. */
export interface EventFilter {
  readonly types?: readonly EventType[];
  readonly instanceId?: string;
  readonly node?: string;
}

export interface SubscribeOptions extends EventFilter {
  /**
   * Where to start: `"now"` (the default: only events appended from now on),
   * a stream id (`ClusterEvent.streamId`: the events after it, to resume), or
   * an ISO time (the events appended since then, by the Redis server's clock).
   */
  readonly since?: string;
}

export interface HistoryOptions extends EventFilter {
  /** As for subscribe (a stream id, or an ISO time); default: from the oldest kept. */
  readonly since?: string;
  /** The last stream id to include (a `position()`); default: up to now. */
  readonly until?: string;
  /** At most this many, the newest (default 100). */
  readonly limit?: number;
}

export type EventListener = (event: ClusterEvent) => void;

type Entries = [id: string, fields: string[] | null][];
type StreamReply = [stream: string, entries: Entries][] | null;

const PAGE = 500;
const DEFAULT_HISTORY_LIMIT = 100;
/** After a failed read that was not a lost connection (ioredis waits for a lost one itself). */
const READ_RETRY_MS = 1_000;

interface Subscriber {
  readonly filter: EventFilter;
  readonly listener: EventListener;
  /** The smallest stream id this subscriber still accepts. */
  start: string;
  /** Entries the reader brought while the history was being read; undefined once live. */
  held: ClusterEvent[] | undefined;
}

export interface FeedDeps {
  store: RedisStore;
  stream: string;
  logger: Logger;
  /** A connection with no command timeout, for XREAD BLOCK. */
  openReader(): Promise<Redis>;
}

export class EventFeed {
  private readonly subscribers = new Set<Subscriber>();
  private reader: Promise<Redis> | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  private markClosed!: () => void;
  /** Resolves once the feed closed (with the kernel): no subscriber gets anything after. */
  readonly ended = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(private readonly deps: FeedDeps) {}

  /** The stream's last id now ("0-0" when it is empty): what `until` and `since` take. */
  async position(): Promise<string> {
    const { store, stream } = this.deps;
    const last = (await store.command("events: position", (client) => client.xrevrange(stream, "+", "-", "COUNT", 1))) as Entries;
    return last[0]?.[0] ?? "0-0";
  }

  /**
   * Be handed every matching event from `since` on, in stream order, each
   * once; resolves (with the function that ends it) once the history after
   * `since` was handed over and every later event will be.
   */
  async subscribe(options: SubscribeOptions, listener: EventListener): Promise<() => void> {
    if (this.closed) throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, "The redis plugin's events are closed (the kernel closed); subscribe before closing.");
    checkFilter(options);
    const since = options.since ?? "now";
    const start = since === "now" ? undefined : startOf(since);
    const subscriber: Subscriber = { filter: options, listener, start: start ?? "0-0", held: [] };
    // Joined before the position is read: whatever the reader brings from here on is held, nothing falls in between.
    this.subscribers.add(subscriber);
    const unsubscribe = () => void this.subscribers.delete(subscriber);
    try {
      await this.startReader();
      if (start === undefined) subscriber.start = nextStreamId(await this.position());
      else await this.pages(subscriber.start, "+", (event) => this.hand(subscriber, event));
    } catch (error) {
      unsubscribe();
      throw error;
    }
    const held = subscriber.held ?? [];
    subscriber.held = undefined;
    for (const event of held) this.hand(subscriber, event);
    return unsubscribe;
  }

  /** The newest `limit` matching events in the range, oldest first. */
  async history(options: HistoryOptions = {}): Promise<ClusterEvent[]> {
    checkFilter(options);
    const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `The events history limit ${String(limit)} is not a whole number of 1 or more. Give e.g. limit: 100.`, { limit });
    }
    if (options.until !== undefined && !STREAM_ID.test(options.until)) {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `"${options.until}" is not a stream id (like 1733380000000-0). Give until a ClusterEvent's streamId or a position().`, { until: options.until });
    }
    const start = options.since === undefined ? "-" : options.since === "now" ? nextStreamId(await this.position()) : startOf(options.since);
    const { store, stream } = this.deps;
    const found: ClusterEvent[] = [];
    let end = options.until ?? "+";
    while (found.length < limit) {
      const page = (await store.command("events: history", (client) => client.xrevrange(stream, end, start, "COUNT", PAGE))) as Entries;
      for (const [id, fields] of page) {
        const event = parseEntry(id, fields);
        if (event && matches(options, event)) found.push(event);
      }
      if (page.length < PAGE) break;
      end = previousStreamId(page.at(-1)![0]);
    }
    return found.slice(0, limit).reverse();
  }

  /** Stop the reader; subscribers get nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    // The blocked XREAD only ends with its connection.
    (await this.reader?.catch(() => undefined))?.disconnect();
    await this.loop;
    this.markClosed();
  }

  /** Every entry from `start` to `end`, forward, page by page. */
  private async pages(start: string, end: string, each: (event: ClusterEvent) => void): Promise<void> {
    const { store, stream } = this.deps;
    for (let from = start; ; ) {
      const page = (await store.command("events: catch up", (client) => client.xrange(stream, from, end, "COUNT", PAGE))) as Entries;
      for (const [id, fields] of page) {
        const event = parseEntry(id, fields);
        if (event) each(event);
      }
      if (page.length < PAGE) return;
      from = nextStreamId(page.at(-1)![0]);
    }
  }

  /** One matching event, once: only when it is at or after where the subscriber stands. */
  private hand(subscriber: Subscriber, event: ClusterEvent): void {
    if (compareStreamIds(event.streamId!, subscriber.start) < 0) return;
    subscriber.start = nextStreamId(event.streamId!);
    if (!matches(subscriber.filter, event)) return;
    try {
      subscriber.listener(event);
    } catch (error) {
      this.deps.logger.error({ err: error, event: event.eventId }, "events: a subscriber's listener threw (it must not); the others still get the event");
    }
  }

  private async startReader(): Promise<void> {
    if (this.reader) {
      await this.reader;
      return;
    }
    this.reader = (async () => {
      const reader = await this.deps.openReader();
      // Read from the end as it is now: a subscriber that wants earlier events reads them with XRANGE.
      const cursor = await this.position();
      this.loop = this.read(reader, cursor);
      return reader;
    })();
    // A failed connect is tried again by the next subscribe.
    this.reader.catch(() => (this.reader = undefined));
    await this.reader;
  }

  private async read(reader: Redis, from: string): Promise<void> {
    let cursor = from;
    let failing = false;
    while (!this.closed) {
      let reply: StreamReply;
      try {
        reply = (await reader.xread("COUNT", PAGE, "BLOCK", 0, "STREAMS", this.deps.stream, cursor)) as StreamReply;
        failing = false;
      } catch (error) {
        if (this.closed) return;
        if (!failing) this.deps.logger.warn({ err: error }, "events: reading the events stream failed; retrying until Redis answers");
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
        continue;
      }
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        cursor = id;
        const event = parseEntry(id, fields);
        if (!event) continue;
        for (const subscriber of this.subscribers) {
          if (subscriber.held) subscriber.held.push(event);
          else this.hand(subscriber, event);
        }
      }
    }
  }
}

function matches(filter: EventFilter, event: ClusterEvent): boolean {
  return (
    (filter.types === undefined || filter.types.includes(event.type)) &&
    (filter.instanceId === undefined || filter.instanceId === event.instanceId) &&
    (filter.node === undefined || filter.node === event.node)
  );
}

function checkFilter(filter: EventFilter): void {
  const unknown = (filter.types ?? []).filter((type) => !(EVENT_TYPES as readonly string[]).includes(type));
  if (unknown.length > 0) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `Unknown event type(s): ${unknown.join(", ")}. Known: ${EVENT_TYPES.join(", ")}.`, { types: unknown });
  }
}

/** The first stream id a `since` takes in: after a stream id, or from an ISO time (its millisecond). */
export function startOf(since: string): string {
  if (STREAM_ID.test(since)) return nextStreamId(since);
  const ms = /^\d{4}-\d\d-\d\d/u.test(since) ? Date.parse(since) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `"${since}" is neither a stream id (like 1733380000000-0, an event's streamId) nor an ISO time (like 2026-12-05T06:00:00Z). Give one of those, or "now".`,
      { since },
    );
  }
  return `${Math.max(0, ms)}-0`;
}

function previousStreamId(id: string): string {
  const [ms, seq = "0"] = id.split("-");
  const s = BigInt(seq);
  return s > 0n ? `${ms}-${s - 1n}` : `${BigInt(ms!) - 1n}-${MAX_SEQ}`;
}
