/**
 * The kernel's instanceFields hook as MCP callers see it: what a plugin adds
 * to instances reaches the `read` and `list` results (structured `fields`,
 * `details` lines in the text), under the plugin's own name; a plugin whose
 * tap fails costs only its fields, never the read or list.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { definePlugin, type Kernel } from "@tmux-claude/core";
import { countingAgent, countingUsage, ECHO_AGENT } from "@tmux-claude/testkit";
import { call, createSetup, rootClient, textOf, type Setup } from "./helpers.js";

/** Adds each instance's role length, and a line for people: under its own name, which the kernel gives (add takes none). */
const sizes = definePlugin({
  name: "sizes",
  setup(ctx) {
    ctx.hooks.instanceFields.tap((request) => {
      for (const instance of request.instances) request.add(instance.id, { roleLength: instance.role.length, operation: request.operation }, `sizes: role of ${instance.role.length} letters`);
    });
  },
});
/** Fails whenever asked (registered first): must not take list, read or the next plugin's fields down. */
const broken = definePlugin({
  name: "broken",
  setup(ctx) {
    ctx.hooks.instanceFields.tap(() => {
      throw new Error("broken on purpose");
    });
  },
});

let h: Setup;
let kernel: Kernel;
beforeAll(async () => {
  h = await createSetup({ plugins: [broken(), sizes(), countingAgent()], agents: { counter: { adapter: "counting", command: process.execPath, args: [ECHO_AGENT] } } });
  kernel = await h.startKernel();
});
afterAll(async () => {
  await h?.close();
});

test("read and list results carry the fields plugins add; a failing tap only loses its own", async () => {
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  const { client, close } = await rootClient(kernel);
  try {
    const read = await call(client, "read", { instanceId: instance.id });
    expect(read.isError).toBeFalsy();
    expect(read.structuredContent).toMatchObject({ id: instance.id, fields: { sizes: { roleLength: 9, operation: "read" } }, details: ["sizes: role of 9 letters"] });
    expect(textOf(read)).toContain("sizes: role of 9 letters");
    const list = await call(client, "list");
    expect((list.structuredContent as { instances: unknown[] }).instances).toEqual([expect.objectContaining({ id: instance.id, fields: { sizes: { roleLength: 9, operation: "list" } } })]);
    expect(textOf(list)).toContain("sizes: role of 9 letters");
  } finally {
    await close();
  }
});

test("read's usage leaves out the adapter's costUsd: the USD shown is the cost plugin's field, priced with the config's prices", async () => {
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir, agent: "counter" });
  countingUsage.set(instance.id, { inputTokens: 1_000, outputTokens: 10, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, model: "claude-haiku-4-5", costUsd: 0.00105 });
  const { client, close } = await rootClient(kernel);
  try {
    const read = await call(client, "read", { instanceId: instance.id });
    expect(read.isError).toBeFalsy();
    const usage = (read.structuredContent as { usage?: Record<string, unknown> }).usage;
    expect(usage).toMatchObject({ inputTokens: 1_000, outputTokens: 10, model: "claude-haiku-4-5" });
    expect(usage).not.toHaveProperty("costUsd");
  } finally {
    countingUsage.delete(instance.id);
    await close();
  }
});
