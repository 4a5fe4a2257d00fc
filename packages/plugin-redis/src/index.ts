/**
 * The Redis plugin: `plugins: [redis({ url: process.env.REDIS_URL })]` keeps
 * the kernel's state (instances, queues, claims, locks) in Redis, shared by
 * every process and machine on the same URL and prefix. See README.md.
 */
import { parsePluginOptions, type Plugin } from "@tmux-claude/core";
import { redisOptionsSchema, type RedisPluginOptions, type ResolvedRedisOptions } from "./options.js";
import { RedisStore } from "./redis-store.js";
import { installNodes } from "./nodes/index.js";
import { installBus } from "./bus/index.js";
import { installEvents, type EventsApi } from "./events/index.js";
import { doctorChecks } from "./doctor.js";

export const PLUGIN_NAME = "redis";

/** What other plugins get through `ctx.plugin<RedisApi>("redis")`. */
export interface RedisApi {
  /** The events of every node: subscribe, history (see EventsApi). Usable from `init` on. */
  readonly events: EventsApi;
}

/**
 * The plugin: its apply hands the kernel a RedisStore, which the kernel opens
 * (init) and closes. A plain object rather than definePlugin: its `api` is
 * handed out before `apply` runs and reaches the parts built there.
 */
export function redis(options: RedisPluginOptions): Plugin<RedisApi> {
  const resolved = parsePluginOptions(PLUGIN_NAME, redisOptionsSchema, options) as ResolvedRedisOptions;
  let events: EventsApi | undefined;
  const applied = (): EventsApi => {
    if (!events) throw new Error('The redis plugin is not applied yet: use its api from a hook (init or later), not while plugins are being applied.');
    return events;
  };
  return {
    name: PLUGIN_NAME,
    api: {
      events: {
        subscribe: (subscribeOptions, listener) => applied().subscribe(subscribeOptions, listener),
        history: (historyOptions) => applied().history(historyOptions),
        position: () => applied().position(),
      },
    },
    apply(ctx) {
      const store = new RedisStore(resolved);
      ctx.useStore(store);
      installNodes(ctx, store, resolved.heartbeatTtlMs);
      installBus(ctx, resolved);
      events = installEvents(ctx, store, resolved);
    },
    doctor: () => doctorChecks(resolved),
  };
}

export { RedisStore } from "./redis-store.js";
export { RedisErrorCodes } from "./errors.js";
export { DEFAULT_PREFIX, redactUrl, redisOptionsSchema, type RedisPluginOptions } from "./options.js";
export { MIN_REDIS_VERSION, SCHEMA_VERSION } from "./connection.js";
export * as luaScripts from "./scripts.js";
export { formatNodes, nodeViews, type NodeInfo, type NodeView } from "./nodes/index.js";
export { eventsKey, formatEvent, EVENT_TYPES, type EventsApi, type ClusterEvent, type EventInstance, type EventType, type EventFilter, type EventListener, type HistoryOptions, type SubscribeOptions } from "./events/index.js";
