import { defineErrorCodes } from "@tmux-claude/core";

/** Every code this plugin raises; the kind picks the CLI's exit code. */
export const RedisErrorCodes = defineErrorCodes("redis", {
  /** No connection to Redis within the connect timeout (wrong host or port, Redis down, a firewall). */
  UNREACHABLE: { code: "TC_REDIS_UNREACHABLE", kind: "failure" },
  /** Redis refused the credentials (WRONGPASS), or wants some and got none (NOAUTH). */
  AUTH_FAILED: { code: "TC_REDIS_AUTH_FAILED", kind: "usage" },
  /** The server is too old, or a command the store needs is disabled or renamed. */
  UNSUPPORTED_SERVER: { code: "TC_REDIS_UNSUPPORTED_SERVER", kind: "usage" },
  /** The prefix already holds keys that are not this store's (no marker of ours), or another schema version. */
  PREFIX_IN_USE: { code: "TC_REDIS_PREFIX_IN_USE", kind: "usage" },
  /** An operation got no answer within its timeout (Redis went down, or the network did); ioredis reconnects by itself. */
  UNAVAILABLE: { code: "TC_REDIS_UNAVAILABLE", kind: "failure" },
  /** Another running `serve` holds this node id (node.id in the config) on the same Redis and prefix. */
  NODE_ID_IN_USE: { code: "TC_REDIS_NODE_ID_IN_USE", kind: "usage" },
  /** Redis answered an operation with an error. */
  COMMAND_FAILED: { code: "TC_REDIS_COMMAND_FAILED", kind: "failure" },
});
