import { createHarness, startRedis, type Harness, type RedisServer } from "@tmux-claude/testkit";
import type { Plugin, PluginContext } from "@tmux-claude/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { redis } from "../src/index.js";
import { freshPrefix } from "./helpers.js";

let server: RedisServer;
const harnesses: Harness[] = [];
const prefix = freshPrefix("data");

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  for (const h of harnesses) await h.close();
  await server?.close();
});

/** A kernel of its own node (its own tmux server) on the shared prefix, with a plugin "runs" whose ctx the test uses. */
async function node(label: string): Promise<PluginContext> {
  let captured: PluginContext | undefined;
  const plugin: Plugin = { name: "runs", apply: (ctx) => void (captured = ctx) };
  const h = await createHarness({ plugins: [redis({ url: server.url, prefix }), plugin] }, { label, start: false, watch: "on-demand" });
  harnesses.push(h);
  const kernel = await h.startKernel();
  expect(kernel.node).toContain(label);
  return captured!;
}

it("shares a plugin's documents between nodes through Redis: writes, watch and updates of both", async () => {
  const [a, b] = await Promise.all([node("data-a"), node("data-b")]);
  const onA = a.data<{ by: string[] }>("runs");
  const onB = b.data<{ by: string[] }>("runs");
  const keys: string[] = [];
  let wake: (() => void) | undefined;
  const watch = onB.watch((key) => {
    keys.push(key);
    wake?.();
  });
  await watch.ready;
  const arrived = new Promise<void>((resolve) => (wake = resolve));
  await onA.update("run-1", () => ({ by: ["a"] }));
  await arrived;
  expect(keys).toEqual(["run-1"]);
  expect(await onB.get("run-1")).toEqual({ by: ["a"] });
  // Both nodes append at once: each sees the other's write and none is lost.
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => [onA.update("run-1", (run) => ({ by: [...(run?.by ?? []), `a${i}`] })), onB.update("run-1", (run) => ({ by: [...(run?.by ?? []), `b${i}`] }))]).flat(),
  );
  expect((await onA.get("run-1"))?.by).toHaveLength(21);
  watch.stop();

  const raw = new Redis(server.url);
  try {
    expect(JSON.parse((await raw.hget(`${prefix}:doc:runs/runs:run-1`, "json")) ?? "null").by).toHaveLength(21);
    expect(await raw.smembers(`${prefix}:docs:runs/runs`)).toEqual(["run-1"]);
    // A document something else wrote, that is not JSON, is named with the store and the fix.
    await raw.hset(`${prefix}:doc:runs/runs:broken`, "v", "0", "json", "{ not json");
    await expect(onA.get("broken")).rejects.toMatchObject({
      code: "TC_STORE_FAILED",
      message: expect.stringMatching(new RegExp(`"runs/runs/broken" in the Redis store at redis://.* \\(prefix "${prefix}"\\) is not valid JSON.*fix or remove it`, "u")),
    });
    await raw.del(`${prefix}:doc:runs/runs:broken`);
  } finally {
    raw.disconnect();
  }
  expect(await onB.delete("run-1")).toBe(true);
  expect(await onA.list()).toEqual([]);
});
