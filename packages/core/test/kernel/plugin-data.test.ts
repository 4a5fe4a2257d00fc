import { afterAll, beforeAll, expect, test } from "vitest";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { createLogger, ErrorCodes, FileStore, Kernel, parseConfig, type Plugin, type PluginContext, type PluginData } from "../../src/index.js";
import { expectError } from "../helpers/expect-error.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({}, { start: false, label: "data" });
});
afterAll(async () => {
  await h?.close();
});

interface Run {
  state: string;
}

/** A plugin that hands its ctx to the test. */
function capture(name: string, contexts: Map<string, PluginContext>, more?: (ctx: PluginContext) => void): Plugin {
  return {
    name,
    apply(ctx) {
      contexts.set(name, ctx);
      more?.(ctx);
    },
  };
}

test("ctx.data keeps each plugin's collections apart, in the store every kernel on it shares, and reports their changes", async () => {
  const contexts = new Map<string, PluginContext>();
  const kernel = await h.startKernel({ watch: "on-demand", config: { plugins: [capture("alpha", contexts), capture("beta", contexts)] } });
  const alpha = contexts.get("alpha")!.data<Run>("runs");
  const beta = contexts.get("beta")!.data<Run>("runs");
  expect(alpha.collection).toBe("alpha/runs");

  const changed: string[] = [];
  const watch = alpha.watch((key) => changed.push(key));
  await watch.ready;
  expect(await alpha.update("run-1", (current) => current ?? { state: "running" })).toEqual({ state: "running" });
  await beta.update("run-1", () => ({ state: "beta's" }));
  await beta.update("run-2", () => ({ state: "beta's" }));
  expect(await alpha.get("run-1")).toEqual({ state: "running" });
  expect(await alpha.list()).toEqual([{ key: "run-1", value: { state: "running" } }]);
  expect((await beta.list()).map((doc) => doc.key)).toEqual(["run-1", "run-2"]);

  // The store under the kernel holds them under the plugins' names, for every other process on it.
  const store = new FileStore(h.stateDir);
  await store.init();
  expect(await store.getDoc("alpha/runs", "run-1")).toEqual({ state: "running" });
  expect(await store.getDoc("beta/runs", "run-2")).toEqual({ state: "beta's" });
  await store.updateDoc("alpha/runs", "run-3", () => ({ state: "from elsewhere" }));
  await store.close();

  await expect.poll(() => [...new Set(changed)].sort(), { timeout: 5_000 }).toEqual(["run-1", "run-3"]);
  watch.stop();
  expect(await alpha.delete("run-1")).toBe(true);
  expect(await alpha.delete("run-1")).toBe(false);
  expect((await alpha.list()).map((doc) => doc.key)).toEqual(["run-3"]);
  expect(await beta.get("run-1")).toEqual({ state: "beta's" });
  await kernel.close();
});

test("ctx.data names a bad collection or plugin name, works from init until the kernel closed, and a shutdown tap may still write", async () => {
  const contexts = new Map<string, PluginContext>();
  let early: PluginData | undefined;
  const kernel = await h.startKernel({
    watch: "on-demand",
    config: {
      plugins: [
        capture("gamma", contexts, (ctx) => {
          early = ctx.data("runs");
          ctx.hooks.init.tapPromise(async () => void (await ctx.data("runs").update("at-init", () => 1)));
          ctx.hooks.shutdown.tapPromise(async () => void (await ctx.data("runs").update("at-shutdown", () => 2)));
        }),
      ],
    },
  });
  const ctx = contexts.get("gamma")!;
  await expectError((async () => ctx.data("../runs"))(), ErrorCodes.INVALID_ARGUMENT, '"../runs"');
  await expectError((async () => ctx.data("r".repeat(60)))(), ErrorCodes.INVALID_ARGUMENT, "longer than 64 characters");
  expect(ctx.data("runs/archive").collection).toBe("gamma/runs/archive");
  await expect(early!.update("bad key", () => 1)).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, message: expect.stringContaining('"bad key"') });
  expect(await early!.get("at-init")).toBe(1);
  await kernel.close();
  await expect(early!.get("at-init")).rejects.toMatchObject({ code: ErrorCodes.KERNEL_STATE });

  const store = new FileStore(h.stateDir);
  await store.init();
  expect(await store.getDoc("gamma/runs", "at-shutdown")).toBe(2);
  await store.close();

  // A plugin whose name cannot start a collection's name is told so, naming it.
  const scoped = new Kernel({ config: parseConfig({ ...h.config, plugins: [capture("@acme/store", contexts)] }), logger: createLogger("silent") });
  await scoped.start();
  await expectError((async () => contexts.get("@acme/store")!.data("runs"))(), ErrorCodes.PLUGIN_INVALID, 'Plugin "@acme/store" cannot keep data', 'e.g. "acme-store"');
  await scoped.close();
});

test("ctx.data before the store is open says when it will be", async () => {
  let caught: unknown;
  const plugin: Plugin = {
    name: "delta",
    async apply(ctx) {
      caught = await ctx.data("runs").get("x").catch((error: unknown) => error);
    },
  };
  const kernel = await h.startKernel({ watch: "on-demand", config: { plugins: [plugin] } });
  expect(caught).toMatchObject({ code: ErrorCodes.KERNEL_STATE, message: expect.stringContaining('Plugin "delta" used ctx.data("runs") while the kernel is starting') });
  await kernel.close();
});
