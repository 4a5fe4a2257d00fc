import { createHarness, eventually, startRedis, type Harness, type RedisServer } from "@tmux-claude/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redis } from "../src/index.js";
import { freshPrefix } from "./helpers.js";

describe("a kernel on the redis plugin", () => {
  let server: RedisServer;
  let h: Harness;
  const prefix = freshPrefix("kernel");

  beforeAll(async () => {
    server = await startRedis();
    h = await createHarness({ plugins: [redis({ url: server.url, prefix })] }, { label: "redis" });
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
      expect((await h.kernel.send(instance.id, "hello redis")).state).toBe("delivered");
      await eventually(async () => (await h.received()).some((m) => m.text === "hello redis"), 10_000, "the echo agent got the message");
      // A second kernel (as another process would be) sees the instance through Redis.
      const other = await h.startKernel({ watch: "on-demand" });
      expect((await other.list()).map((i) => i.id)).toEqual([instance.id]);
      await h.kernel.terminate(instance.id);
      expect(await h.kernel.list()).toEqual([]);
      expect(await raw.exists(`${prefix}:record:${instance.id}`)).toBe(0);
      expect(await raw.sismember(`${prefix}:reserved`, instance.id)).toBe(1);
    } finally {
      raw.disconnect();
    }
  });
});
