import { createHarness, eventually, startRedis, type Harness, type RedisServer } from "@tmux-claude/testkit";
import { INSTANCE_ENV, type Plugin } from "@tmux-claude/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redis } from "../src/index.js";
import { freshPrefix } from "./helpers.js";

const SECRET = `instance-secret-${"s".repeat(32)}`;

/** Gives every launch an MCP token, as the mcp plugin does. */
const minting: Plugin = {
  name: "minting",
  apply: (ctx) => {
    ctx.hooks.beforeSpawn.tapPromise(async (plan) => ({ ...plan, env: { ...plan.env, [INSTANCE_ENV.endpointToken]: SECRET } }));
  },
};

/** Every string, list and hash value under the prefix, as one text. */
async function everything(raw: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  for (const key of await raw.keys(`${prefix}:*`)) {
    const type = await raw.type(key);
    if (type === "string") parts.push((await raw.get(key)) ?? "");
    else if (type === "list") parts.push(...(await raw.lrange(key, 0, -1)));
    else if (type === "hash") parts.push(JSON.stringify(await raw.hgetall(key)));
    else if (type === "set") parts.push(...(await raw.smembers(key)));
  }
  return parts.join("\n");
}

describe("a kernel on the redis plugin", () => {
  let server: RedisServer;
  let h: Harness;
  const prefix = freshPrefix("kernel");

  beforeAll(async () => {
    server = await startRedis();
    h = await createHarness({ plugins: [minting, redis({ url: server.url, prefix })] }, { label: "redis" });
  });

  afterAll(async () => {
    await h?.close();
    await server?.close();
  });

  it("spawns, sends, lists and terminates the echo agent with its state in Redis", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const raw = new Redis(server.url);
    try {
      expect(JSON.parse((await raw.get(`${prefix}:record:${instance.id}`)) ?? "{}").id).toBe(instance.id);
      // The instance's secret is not in Redis: its record keeps a digest.
      expect(JSON.parse((await raw.get(`${prefix}:record:${instance.id}`)) ?? "{}").launch.env[INSTANCE_ENV.endpointToken]).toMatch(/^sha256:/u);
      expect(await everything(raw, prefix)).not.toContain(SECRET);
      expect((await h.kernel.send(instance.id, "hello redis")).state).toBe("delivered");
      await eventually(async () => (await h.received()).some((m) => m.text === "hello redis"), 10_000, "the echo agent got the message");
      // A second kernel (as another process would be) sees the instance through Redis.
      const other = await h.startKernel({ watch: "on-demand" });
      expect((await other.list()).map((i) => i.id)).toEqual([instance.id]);
      expect((await other.send(instance.id, "from the other kernel")).state).toBe("delivered");
      await eventually(async () => (await h.received()).some((m) => m.text === "from the other kernel"), 10_000, "the second kernel's message");
      // The history is written by the sending kernel; the serving one learns it through the store's watch.
      await eventually(
        async () => JSON.stringify((await h.kernel.get(instance.id)).messages?.map((m) => m.text)) === JSON.stringify(["hello redis", "from the other kernel"]),
        5_000,
        "both messages in the serving kernel's history",
      );
      // A message for a busy agent waits in its Redis queue; the serving kernel claims and delivers it once idle.
      expect((await other.send(instance.id, "/work 600")).state).toBe("delivered");
      const queued = await other.send(instance.id, "after the work");
      expect(queued.state).toBe("queued");
      await eventually(async () => (await h.received()).some((m) => m.text === "after the work"), 10_000, "the queued message");
      await eventually(async () => (await raw.exists(`${prefix}:queue:${instance.id}`)) === 0, 5_000, "the queue emptied");
      await h.kernel.terminate(instance.id);
      expect(await h.kernel.list()).toEqual([]);
      expect(await raw.exists(`${prefix}:record:${instance.id}`)).toBe(0);
      expect(await raw.sismember(`${prefix}:reserved`, instance.id)).toBe(1);
    } finally {
      raw.disconnect();
    }
  });
});
