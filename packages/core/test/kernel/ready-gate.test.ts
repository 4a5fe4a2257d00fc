// The awaitReady hook: plugins hold an instance's readiness until their own
// condition holds. The kernel knows nothing of what they wait for; here a
// plugin waits for a stamp that another kernel (as another process would)
// writes into the instance's record through ctx.state(id).update.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { definePlugin, ErrorCodes, type Kernel, type ReadyGate, type SpawnResult } from "../../src/index.js";
import { createHarness, ECHO_AGENT, type Harness } from "@tmux-claude/testkit";

/** Waits until `pluginState.stamp.at` is from this launch. */
const stampGate = definePlugin({
  name: "stamp",
  setup(ctx) {
    ctx.hooks.awaitReady.tapPromise(async (gate) => {
      await gate.until((record) => ((record.pluginState?.stamp as { at?: number } | undefined)?.at ?? 0) >= gate.launchedAt);
    });
  },
});

/** The same plugin's writing side, for another kernel: `kernel.plugin<StampApi>("stamp").stamp(id)`. */
interface StampApi {
  stamp(id: string): Promise<unknown>;
}
function stampWriter() {
  const api: { ctx?: Parameters<Parameters<typeof definePlugin>[0]["setup"]>[0] } & StampApi = {
    stamp: (id) => api.ctx!.state<object>(id).update((state) => ({ ...state, at: Date.now() })),
  };
  return { ...definePlugin({ name: "stamp", setup: (ctx) => void (api.ctx = ctx) })(), api };
}

let h: Harness;
let spawner: Kernel;
let writer: Kernel;
beforeAll(async () => {
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { watch: "on-demand" });
  spawner = await h.startKernel({ watch: "on-demand", config: { plugins: [stampGate()] } });
  writer = await h.startKernel({ watch: "on-demand", config: { plugins: [stampWriter()] } });
});
afterAll(async () => {
  await h?.close();
});

test("spawn is ready, and types its prompt, only once every gate let it through", async () => {
  let settled = false;
  const spawning: Promise<SpawnResult> = spawner.spawn({ role: "executive", workDir: h.workDir, prompt: "after the stamp" });
  void spawning.finally(() => (settled = true)).catch(() => undefined);
  await expect.poll(async () => (await h.kernel.list()).find((r) => r.workDir === h.workDir && r.status === "idle")?.id, { timeout: 8_000 }).toBeDefined();
  const id = (await h.kernel.list())[0]!.id;
  expect(settled).toBe(false);
  expect(await h.received()).toEqual([]);
  await writer.plugin<StampApi>("stamp")!.stamp(id);
  const { instance, receipt } = await spawning;
  expect(instance.id).toBe(id);
  expect(receipt?.state).toBe("delivered");
  expect((await h.received()).map((m) => m.text)).toEqual(["after the stamp"]);
  expect((await h.kernel.get(id)).pluginState?.stamp).toEqual({ at: expect.any(Number) });
  await spawner.terminate(id);
});

describe("when a gate or the agent gives up", () => {
  test("a gate that ignores its signal cannot hold the spawn: the timeout names the hook, nothing is left", async () => {
    const stubborn = definePlugin({ name: "stubborn", setup: (ctx) => ctx.hooks.awaitReady.tapPromise(() => new Promise<void>(() => undefined)) });
    const k = await h.startKernel({ watch: "on-demand", config: { limits: { spawnTimeout: 1_000 }, plugins: [stubborn()] } });
    const error = await k.spawn({ role: "executive", workDir: h.workDir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.SPAWN_TIMEOUT, details: { hook: "awaitReady" } });
    expect((error as Error).message).toMatch(/not ready within limits\.spawnTimeout \(1000 ms\)\. A plugin's awaitReady tap was still waiting/u);
    expect((await k.list()).filter((r) => r.id === (error as { details: { id: string } }).details.id)).toEqual([]);
  });

  test("an agent that never gets ready fails with its own error (its screen); the gates are told why", async () => {
    const reasons: unknown[] = [];
    const watcher = definePlugin({
      name: "watcher",
      setup: (ctx) =>
        ctx.hooks.awaitReady.tapPromise(async (gate: ReadyGate) => {
          await gate.until(() => false).catch((reason: unknown) => reasons.push(reason));
        }),
    });
    const k = await h.startKernel({
      watch: "on-demand",
      config: {
        limits: { spawnTimeout: 1_500 },
        plugins: [watcher()],
        agents: { never: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_NEVER_READY: "1" } } },
      },
    });
    const error = await k.spawn({ role: "executive", workDir: h.workDir, agent: "never" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.SPAWN_TIMEOUT });
    expect((error as Error).message).toContain("echo-agent starting");
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: ErrorCodes.SPAWN_TIMEOUT });
  });
});
