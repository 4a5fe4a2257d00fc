/**
 * The events of every node in one place (issue 13, part 2): each kernel
 * appends the events its hooks fire to the stream `<prefix>:events`
 * (publisher.ts), and any plugin of any node reads them through the
 * plugin's api, `ctx.plugin<RedisApi>("redis").events` (feed.ts), or a
 * person with `tmux-claude events` (command.ts).
 */
import type { PluginContext } from "@tmux-claude/core";
import { openClient } from "../connection.js";
import type { ResolvedRedisOptions } from "../options.js";
import type { RedisStore } from "../redis-store.js";
import { eventsCommand } from "./command.js";
import { EventFeed, type EventListener, type HistoryOptions, type SubscribeOptions } from "./feed.js";
import { EventPublisher, tapEvents } from "./publisher.js";
import type { ClusterEvent } from "./wire.js";

/** What other plugins use: `ctx.plugin<RedisApi>("redis").events`, from `init` on. */
export interface EventsApi {
  /**
   * Be handed every event of every node from `since` on (default "now"), in
   * the order they were appended, each once (by `eventId`), until the
   * returned function is called or the kernel closes. Resolves once the
   * events after `since` were handed over and every later one will be.
   * The listener must not throw.
   */
  subscribe(options: SubscribeOptions, listener: EventListener): Promise<() => void>;
  /** The newest `limit` (default 100) matching events after `since`, oldest first. */
  history(options?: HistoryOptions): Promise<ClusterEvent[]>;
  /** The stream's last id now: a `since` that means "after everything so far", or an `until`. */
  position(): Promise<string>;
}

export function eventsKey(prefix: string): string {
  return `${prefix}:events`;
}

export function installEvents(ctx: PluginContext, store: RedisStore, options: ResolvedRedisOptions): EventsApi {
  const stream = eventsKey(options.prefix);
  const logger = ctx.logger;
  tapEvents(ctx, new EventPublisher({ store, stream, maxLen: options.events.maxLen, logger }));
  const feed = new EventFeed({
    store,
    stream,
    logger,
    openReader: () => openClient(options, true, (error) => logger.debug({ err: error }, "events: redis connection error")),
  });
  // Closed before the store (onClose runs before the kernel closes its store): the reader's catch-up reads go through the store.
  ctx.onClose(() => feed.close());
  ctx.hooks.commands.tap((commands) => [...commands, eventsCommand(feed)]);
  return {
    subscribe: (subscribeOptions, listener) => feed.subscribe(subscribeOptions, listener),
    history: (historyOptions) => feed.history(historyOptions),
    position: () => feed.position(),
  };
}

export { formatEvent } from "./command.js";
export type { EventFilter, EventListener, HistoryOptions, SubscribeOptions } from "./feed.js";
export { EVENT_TYPES, type ClusterEvent, type EventInstance, type EventType } from "./wire.js";
