/**
 * Warm pools on the Redis store, whose record update is optimistic (the
 * updater may run again): two kernels sharing the store take from one pool
 * at once and never get the same instance; the pool refills to its count.
 */
import { createHarness, eventually, startRedis, type Harness, type RedisServer } from "@tmux-claude/testkit";
import { afterAll, expect, it } from "vitest";
import { redis } from "../src/index.js";

let server: RedisServer | undefined;
let h: Harness | undefined;
afterAll(async () => {
  await h?.close();
  await server?.close();
});

it("two kernels on one Redis store take different pooled instances at once; the pool refills", async () => {
  server = await startRedis();
  const plugins = [redis({ url: server.url, prefix: "tc-pool" })];
  h = await createHarness({ plugins, pool: { specialist: 2 } }, { label: "redis-pool" });
  const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
  const pooled = async () => (await h!.kernel.list()).filter((r) => r.parentId === manager.id && r.pooled && r.status === "idle").map((r) => r.id);
  const before = await eventually(async () => ((await pooled()).length === 2 ? pooled() : undefined), 20_000, "2 pooled specialists");
  const other = await h.startKernel({ watch: "on-demand", config: { plugins: [redis({ url: server.url, prefix: "tc-pool" })] } });
  const [a, b] = await Promise.all([
    h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "task a" }),
    other.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "task b" }),
  ]);
  expect([a.source, b.source]).toEqual(["pool", "pool"]);
  expect(new Set([a.instance.id, b.instance.id])).toEqual(new Set(before));
  await other.close();
  const after = await eventually(async () => {
    const now = await pooled();
    return now.length === 2 && !now.some((id) => before.includes(id)) ? now : undefined;
  }, 20_000, "the pool refilled to 2");
  expect(after).toHaveLength(2);
}, 90_000);
