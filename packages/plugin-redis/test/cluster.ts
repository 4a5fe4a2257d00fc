// Several nodes on one machine and one Redis: kernels each on a private tmux
// socket of its own, with its own node id, all with the redis plugin on one
// prefix. bus.test.ts and events.test.ts run three.
import type { Kernel, Plugin, UserConfig } from "@tmux-claude/core";
import { createHarness, removeTestSocket, startRedis, testSocket, type Harness, type RedisServer } from "@tmux-claude/testkit";
import { Redis } from "ioredis";
import { redis } from "../src/index.js";
import type { RedisPluginOptions } from "../src/options.js";
import { freshPrefix } from "./helpers.js";

export interface ClusterOptions {
  /** Part of the prefix and the socket names. */
  label: string;
  /** The node id of the harness's own kernel (`h.kernel`). */
  first: string;
  /** The redis plugin's options besides url and prefix. */
  redis?: Omit<RedisPluginOptions, "url" | "prefix">;
  /** Plugins every node runs after the redis plugin (a test's own taps). */
  plugins?: () => Plugin[];
  limits?: UserConfig["limits"];
}

export interface Cluster {
  server: RedisServer;
  /** A plain client of the same Redis, for looking at keys. */
  raw: Redis;
  h: Harness;
  prefix: string;
  /** The redis plugin's options as every node has them (for a CLI of a node: helpers' cli). */
  pluginOptions: RedisPluginOptions;
  /** The config of a node of its own: another tmux socket, another node id; the same each time, so a restarted node finds its tmux. */
  config(node: string): UserConfig;
  /** Start a serving kernel of `node`. */
  start(node: string): Promise<Kernel>;
  close(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const prefix = freshPrefix(options.label);
  const server = await startRedis();
  const raw = new Redis(server.url);
  // A test may stop Redis: the reconnect attempts are expected, not errors to print.
  raw.on("error", () => undefined);
  const pluginOptions: RedisPluginOptions = { url: server.url, prefix, ...options.redis };
  const plugins = () => [redis(pluginOptions), ...(options.plugins?.() ?? [])];
  const limits = options.limits;
  const h = await createHarness({ node: { id: options.first }, plugins: plugins(), ...(limits ? { limits } : {}) }, { label: options.label });
  const sockets: string[] = [];
  const configs = new Map<string, UserConfig>();
  const config = (node: string): UserConfig => {
    const known = configs.get(node);
    if (known) return known;
    const socket = testSocket(node);
    sockets.push(socket);
    const made: UserConfig = { tmux: { socket, configFile: "none", width: 120, height: 40 }, node: { id: node }, plugins: plugins(), ...(limits ? { limits } : {}) };
    configs.set(node, made);
    return made;
  };
  return {
    server,
    raw,
    h,
    prefix,
    pluginOptions,
    config,
    start: (node) => h.startKernel({ config: config(node) }),
    async close() {
      await h.close();
      for (const socket of sockets) await removeTestSocket(socket);
      raw.disconnect();
      await server.close();
    },
  };
}
