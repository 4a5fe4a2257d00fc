/**
 * The Redis plugin: `plugins: [redis({ url: process.env.REDIS_URL })]` keeps
 * the kernel's state (instances, queues, claims, locks) in Redis, shared by
 * every process and machine on the same URL and prefix. See README.md.
 */
import { definePlugin, type Plugin } from "@tmux-claude/core";
import { redisOptionsSchema, type RedisPluginOptions } from "./options.js";
import { RedisStore } from "./redis-store.js";
import { installNodes } from "./nodes/index.js";
import { installBus } from "./bus/index.js";
import { doctorChecks } from "./doctor.js";

export const PLUGIN_NAME = "redis";

/** The plugin: its apply hands the kernel a RedisStore, which the kernel opens (init) and closes. */
export function redis(options: RedisPluginOptions): Plugin {
  return definePlugin({
    name: PLUGIN_NAME,
    options: redisOptionsSchema,
    setup: (ctx, resolved) => {
      const store = new RedisStore(resolved);
      ctx.useStore(store);
      installNodes(ctx, store, resolved.heartbeatTtlMs);
      installBus(ctx, resolved);
    },
    doctor: doctorChecks,
  })(options);
}

export { RedisStore } from "./redis-store.js";
export { RedisErrorCodes } from "./errors.js";
export { DEFAULT_PREFIX, redactUrl, redisOptionsSchema, type RedisPluginOptions } from "./options.js";
export { MIN_REDIS_VERSION, SCHEMA_VERSION } from "./connection.js";
export * as luaScripts from "./scripts.js";
export { formatNodes, nodeViews, type NodeInfo, type NodeView } from "./nodes/index.js";
