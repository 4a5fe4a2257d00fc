/**
 * The kernel's instanceFields hook as MCP callers see it: what a plugin adds
 * to instances reaches the `read` and `list` results (structured `fields`,
 * `details` lines in the text); a plugin whose tap fails costs only its
 * fields, never the read or list.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { definePlugin, type Kernel } from "@tmux-claude/core";
import { call, createSetup, rootClient, textOf, type Setup } from "./helpers.js";

/** Adds each instance's role length, and a line for people. */
const sizes = definePlugin({
  name: "sizes",
  setup(ctx) {
    ctx.hooks.instanceFields.tap((request) => {
      for (const instance of request.instances) request.add(ctx.name, instance.id, { roleLength: instance.role.length, operation: request.operation }, `sizes: role of ${instance.role.length} letters`);
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
  h = await createSetup({ plugins: [broken(), sizes()] });
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
