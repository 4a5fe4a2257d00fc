// A plugin tool that answers with a readable `text` (the workflows plugin's
// run_workflow and run_status): the MCP answer's text is that text and its
// structured content the rest, as the core tools answer; not the whole
// object as JSON text.
import { afterAll, beforeAll, expect, test } from "vitest";
import { z } from "zod";
import type { Kernel, Plugin } from "@tmux-claude/core";
import { call, createSetup, rootClient, textOf, type Setup } from "./helpers.js";

const status: Plugin = {
  name: "status-text",
  apply: (ctx) =>
    ctx.hooks.tools.tap((tools) => [
      ...tools,
      { name: "report", description: "a report", inputSchema: z.object({}).strict(), handler: async () => ({ state: "running", steps: 2, text: "Run r-1 is running.\n  step a: succeeded" }) },
      { name: "plain", description: "data only", inputSchema: z.object({}).strict(), handler: async () => ({ state: "running" }) },
    ]),
};

let h: Setup;
let kernel: Kernel;
beforeAll(async () => {
  h = await createSetup({ plugins: [status] });
  kernel = await h.startKernel();
});
afterAll(async () => {
  await kernel?.close();
  await h?.close();
});

test("a plugin result with a text field: that text, and the rest as structured content", async () => {
  const { client, close } = await rootClient(kernel);
  try {
    const report = await call(client, "report");
    expect(textOf(report)).toBe("Run r-1 is running.\n  step a: succeeded");
    expect(report.structuredContent).toEqual({ state: "running", steps: 2 });
    // Without a text: the object is both, as before.
    const plain = await call(client, "plain");
    expect(plain.structuredContent).toEqual({ state: "running" });
    expect(JSON.parse(textOf(plain))).toEqual({ state: "running" });
  } finally {
    await close();
  }
});
