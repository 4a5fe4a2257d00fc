/**
 * Connecting to Redis, and what init() checks before the store touches
 * anything: the server answers (within a bounded time), accepts our
 * credentials, has what the store needs, and the prefix is ours or empty.
 */
import { TmuxClaudeError } from "@tmux-claude/core";
import { Redis } from "ioredis";
import { RedisErrorCodes } from "./errors.js";
import { redactUrl, type ResolvedRedisOptions } from "./options.js";

/** The store's schema version, kept in `<prefix>:meta`; another version under the prefix is refused. */
export const SCHEMA_VERSION = "1";
/** Lua with TIME in scripts that write (effects replication, the default since 5), and ACL users in URLs: 6.0. */
export const MIN_REDIS_VERSION = "6.0.0";
/** Commands the message bus sends (bus/): checked with the store's at init, so a Redis without them is refused at start, not at the first cross-node call. */
const BUS_COMMANDS = ["xadd", "xreadgroup", "xack", "xdel", "xgroup"];
/** Commands the events stream needs (events/): appending, reading back and following. */
const EVENT_COMMANDS = ["xread", "xrange", "xrevrange"];
/** Commands the store sends; a server with any of them renamed or disabled is refused at init. */
export const NEEDED_COMMANDS = ["eval", "evalsha", "script", "publish", "subscribe", "incr", "sadd", "smembers", "mget", "rpush", "lrange", "multi", "exec", "scan", ...BUS_COMMANDS, ...EVENT_COMMANDS];

export interface Connected {
  client: Redis;
  /** Set once init() succeeded: from then on a lost connection is retried forever, in the background. */
  connected(): void;
}

/**
 * A client that fails fast while init() connects (no retries: a wrong URL
 * is an error, not a wait) and reconnects forever afterwards. Commands wait
 * for a reconnect at most `commandTimeoutMs` (the offline queue is on, so a
 * short blip costs nothing; the timeout keeps a long outage from hanging).
 */
export function createClient(options: ResolvedRedisOptions): Connected {
  let initialized = false;
  const client = new Redis(options.url, {
    // ioredis keeps a 2 s timer after disconnect() of a socket that never connected (its "close" came before):
    // a CLI call that found Redis down would linger 2 s after its error. A live socket closes long before this.
    disconnectTimeout: 200,
    ...options.connection,
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times) => (initialized ? Math.min(50 * 2 ** Math.min(times, 6), 2_000) : null),
  });
  return {
    client,
    connected: () => {
      initialized = true;
    },
  };
}

/**
 * A connected client for a part of the plugin beside the store (bus, events).
 * `blocking`: no command timeout, for a connection that waits in XREAD(GROUP)
 * BLOCK as long as nothing comes (ioredis times out any number, even 0).
 * Failures reach the commands that meet them; `onError` only sees the
 * connection's errors (without a listener ioredis prints every reconnect attempt).
 */
export async function openClient(options: ResolvedRedisOptions, blocking: boolean, onError: (error: Error) => void): Promise<Redis> {
  const { client, connected } = createClient(blocking ? { ...options, commandTimeoutMs: undefined as unknown as number } : options);
  await connect(client, options);
  connected();
  client.on("error", onError);
  return client;
}

class ConnectTimeout extends Error {}

const TLS_ERROR = /certificate|self[- ]signed|SSL|TLS|UNABLE_TO_VERIFY|ERR_TLS/iu;
const AUTH_ERROR = /WRONGPASS|NOAUTH|invalid password|invalid username-password/iu;

/** Connect within the connect timeout, or fail with an error naming the URL (never its password) and the fix. */
export async function connect(client: Redis, options: ResolvedRedisOptions): Promise<void> {
  const url = redactUrl(options.url);
  const errors: string[] = [];
  const onError = (error: Error): void => {
    errors.push(error.message);
  };
  client.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ConnectTimeout(`no answer within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      }),
    ]);
  } catch (error) {
    client.disconnect();
    // ioredis adds "Connection is closed." after the real cause (refused, TLS, DNS): it says nothing more.
    const all = [...errors, (error as Error).message].filter((message, index, list) => list.indexOf(message) === index);
    const causes = all.length > 1 ? all.filter((message) => message !== "Connection is closed.") : all;
    if (causes.some((message) => AUTH_ERROR.test(message))) {
      throw new TmuxClaudeError(
        RedisErrorCodes.AUTH_FAILED,
        `Redis at ${url} refused the credentials: ${causes.find((message) => AUTH_ERROR.test(message))!.replace(/\.$/u, "")}. ` +
          `Put the right password in the URL (redis://:PASSWORD@host:port, or redis://USER:PASSWORD@... for an ACL user) or in the plugin's connection.password.`,
        { url },
      );
    }
    // "within N ms" only when it was the wait that ran out: a refused connection fails at once, and saying otherwise misleads.
    const waited = error instanceof ConnectTimeout ? ` within ${options.connectTimeoutMs} ms` : "";
    throw new TmuxClaudeError(
      RedisErrorCodes.UNREACHABLE,
      `Could not connect to Redis at ${url}${waited} (${causes.join("; ")}). ` +
        (causes.some((message) => TLS_ERROR.test(message))
          ? `The TLS handshake failed: give the server's CA in the plugin's connection.tls.ca (a PEM string, e.g. readFileSync("ca.crt", "utf8")), and connection.tls.servername when its certificate names another host.`
          : `Check that redis-server runs there and the host and port are right (redis-cli -u URL ping)${waited ? ", or raise connectTimeoutMs" : ""}.`),
      { url, timeoutMs: options.connectTimeoutMs },
    );
  } finally {
    clearTimeout(timer);
    client.off("error", onError);
  }
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The server is new enough and has every command the store sends; resolves with its version. */
export async function checkServer(client: Redis, url: string): Promise<string> {
  const info = await client.info("server");
  const version = /^redis_version:(\S+)/mu.exec(info)?.[1] ?? "unknown";
  if (version === "unknown" || compareVersions(version, MIN_REDIS_VERSION) < 0) {
    throw new TmuxClaudeError(
      RedisErrorCodes.UNSUPPORTED_SERVER,
      `Redis at ${url} is version ${version}; the tmux-claude store needs ${MIN_REDIS_VERSION} or newer. Upgrade redis-server, or point the url at a newer one.`,
      { url, version },
    );
  }
  const described = (await client.call("command", "info", ...NEEDED_COMMANDS)) as unknown[];
  const missing = NEEDED_COMMANDS.filter((_, index) => !Array.isArray(described[index]));
  if (missing.length > 0) {
    throw new TmuxClaudeError(
      RedisErrorCodes.UNSUPPORTED_SERVER,
      `Redis at ${url} lacks commands the tmux-claude store needs: ${missing.join(", ")} (renamed or disabled with rename-command, or an ACL). ` +
        `Enable them for this user, or use a Redis that has them.`,
      { url, missing },
    );
  }
  return version;
}

/**
 * The prefix is ours (its meta marker has our schema version) or empty, when
 * it becomes ours. A prefix holding anything else is refused, so the store
 * never writes among another application's keys.
 */
export async function claimPrefix(client: Redis, prefix: string, url: string): Promise<void> {
  if ((await inspectPrefix(client, prefix, url)) === "ours") return;
  const meta = `${prefix}:meta`;
  await client.hsetnx(meta, "schema", SCHEMA_VERSION);
  await client.hsetnx(meta, "createdAt", new Date().toISOString());
}

/** Whether the prefix is a store of ours or empty, reading only (doctor uses it too); anything else throws TC_REDIS_PREFIX_IN_USE. */
export async function inspectPrefix(client: Redis, prefix: string, url: string): Promise<"ours" | "empty"> {
  const meta = `${prefix}:meta`;
  const schema = await client.hget(meta, "schema");
  if (schema === SCHEMA_VERSION) return "ours";
  if (schema !== null) {
    throw new TmuxClaudeError(
      RedisErrorCodes.PREFIX_IN_USE,
      `The prefix "${prefix}" at ${url} holds a tmux-claude store of schema version ${schema}; this version reads ${SCHEMA_VERSION}. ` +
        `Use the tmux-claude version that wrote it, or give this one another prefix (redis({ prefix })).`,
      { url, prefix, schema },
    );
  }
  // The prefix has no glob characters (options), so this pattern matches its keys only.
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    if (keys.length > 0) {
      // Another process may have made the store in the meantime: its marker makes the keys ours.
      if ((await client.hget(meta, "schema")) === SCHEMA_VERSION) return "ours";
      throw new TmuxClaudeError(
        RedisErrorCodes.PREFIX_IN_USE,
        `The prefix "${prefix}" at ${url} already holds keys that are not a tmux-claude store (e.g. "${keys[0]}", and no "${meta}" marker). ` +
          `Nothing was changed. Give the store a prefix of its own (redis({ prefix: "tmux-claude-2" })), or remove those keys if they are leftovers.`,
        { url, prefix, key: keys[0] },
      );
    }
    cursor = next;
  } while (cursor !== "0");
  return "empty";
}
