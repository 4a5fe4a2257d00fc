/**
 * The redis() factory's options. Everything ioredis takes besides these
 * (TLS, username, sentinels...) passes through `connection` untouched, so
 * security settings are the user's and ioredis's, not re-invented here.
 */
import { z } from "zod";
import type { RedisOptions } from "ioredis";
import { busOptionsSchema } from "./bus/options.js";
import { eventsOptionsSchema } from "./events/options.js";

export const DEFAULT_PREFIX = "tmux-claude";
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
export const DEFAULT_HEARTBEAT_TTL_MS = 3_000;

export const redisOptionsSchema = z.strictObject({
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: z.string().regex(/^rediss?:\/\//u, 'a redis:// or rediss:// URL, e.g. "redis://127.0.0.1:6379"'),
  /**
   * Every key lives under `<prefix>:`. No ":" or glob characters, so one
   * prefix's key pattern never matches another prefix's keys.
   */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/u, 'letters, digits, "_", "." and "-" (at most 64), e.g. "tmux-claude"')
    .default(DEFAULT_PREFIX),
  /** How long init() waits for the first connection before failing. */
  connectTimeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_CONNECT_TIMEOUT_MS),
  /** How long one operation waits for Redis (also while it reconnects) before failing. */
  commandTimeoutMs: z.number().int().min(100).max(120_000).default(DEFAULT_COMMAND_TIMEOUT_MS),
  /**
   * How long a `serve`'s node heartbeat lives in Redis; it is renewed every
   * third of it. A node silent this long is lost (default: lost within 3 s).
   */
  heartbeatTtlMs: z.number().int().min(300).max(120_000).default(DEFAULT_HEARTBEAT_TTL_MS),
  /** Further ioredis options (tls, username, password, db, ...), passed through as given. */
  connection: z.record(z.string(), z.unknown()).optional(),
  /** The message bus between nodes: see bus/options.ts. */
  bus: busOptionsSchema,
  /** The events of every node in one stream: see events/options.ts. */
  events: eventsOptionsSchema,
});

export type RedisPluginOptions = z.input<typeof redisOptionsSchema>;
export type ResolvedRedisOptions = z.output<typeof redisOptionsSchema> & { connection?: RedisOptions };

/** The URL with its password (and user name's secret part) hidden, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString().replace(/\/$/u, "");
  } catch {
    // An unparsable URL may still hold a secret after "@": show only the scheme and what follows it.
    return url.replace(/\/\/[^@/]*@/u, "//***@");
  }
}
