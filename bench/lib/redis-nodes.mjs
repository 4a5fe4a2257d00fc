// Several nodes on one private redis-server (the test kit's startRedis, on a
// free loopback port, AOF on with fsync every second as a production Redis
// would run): node A is a serving kernel in this process, every other node a
// serving kernel in its own process (kernel-child.mjs), as `tmux-claude
// serve` runs on each machine. Each has its own private tmux socket and
// node id, all with the redis plugin on one prefix.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { forkKernel, kernelConfig, startKernel } from "./setup.mjs";
import { ROOT, killServer, trackCloser } from "./util.mjs";

/** The test kit's redis-server helper, from its build (its index also loads vitest, which a benchmark does not run under). */
export async function startBenchRedis() {
  const { startRedis } = await import(pathToFileURL(path.join(ROOT, "packages/testkit/dist/redis-server.js")).href);
  const server = await startRedis({ args: ["--appendfsync", "everysec"] });
  const untrack = trackCloser(() => server.close());
  return {
    server,
    url: server.url,
    async close() {
      untrack();
      await server.close();
    },
  };
}

/**
 * Redis and `1 + others.length` nodes: "node-a" here, the others in child
 * processes. `agents` and `limits` go to every node's config. `close()` stops
 * the nodes (their kernels, their tmux servers) and Redis.
 */
export async function startRedisNodes({ label, others = ["node-b"], agents = {}, limits = {}, prefix = `bench-${label}` }) {
  const redisServer = await startBenchRedis();
  const redisOptions = { url: redisServer.url, prefix };
  const { redis } = await import("@tmux-claude/plugin-redis");
  const nodes = [];
  const a = await startKernel({ label: `${label}-a`, node: "node-a", plugins: [redis(redisOptions)], agents, limits });
  try {
    for (const id of others) {
      const setup = kernelConfig({ label: `${label}-${id}`, node: id, agents, limits });
      const child = forkKernel();
      nodes.push({ id, setup, child });
      const { plugins: _none, ...config } = setup.userConfig;
      await child.ask({ op: "start", config, redis: redisOptions });
    }
  } catch (error) {
    await close();
    throw error;
  }
  async function close() {
    for (const node of nodes) {
      await node.child.close();
      await killServer(node.setup.socket);
    }
    await a.close();
    await killServer(a.socket);
    await redisServer.close();
  }
  return { redis: redisServer, redisOptions, a, nodes, close };
}
