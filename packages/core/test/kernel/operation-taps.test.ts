// kernel.recordOperation holds its caller (every MCP reply, every dashboard
// action) only as long as the `operation` taps take up to a budget: a tap that
// never settles costs a reply OPERATION_TAP_BUDGET_MS and a warning naming it,
// never the reply; quick taps have finished when it returns.
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Kernel, parseConfig, type OperationEvent, type OperationInput, type Plugin } from "../../src/index.js";
import { OPERATION_TAP_BUDGET_MS } from "../../src/kernel/operations.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({}, { start: false, label: "optaps" });
});
afterAll(async () => {
  await h?.close();
});

const operation: OperationInput = { caller: "exec-1", surface: "mcp", operation: "send", target: "exec-1.mgr-1", args: {}, at: new Date().toISOString(), durationMs: 2 };

async function kernelWith(plugins: Plugin[]) {
  const lines: { level: number; msg: string; plugins?: string[]; plugin?: string }[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const kernel = new Kernel({ config: parseConfig({ ...h.userConfig, plugins }), logger, watch: "on-demand" });
  await kernel.start();
  return { kernel, lines };
}

test("a tap that never settles holds the caller for the budget only, with a warning naming its plugin; the others ran, a failing one is logged", async () => {
  const heard: OperationEvent[] = [];
  let stuckCalled = false;
  const { kernel, lines } = await kernelWith([
    { name: "stuck", apply: (ctx) => ctx.hooks.operation.tapPromise(() => ((stuckCalled = true), new Promise<void>(() => undefined))) },
    { name: "quick", apply: (ctx) => ctx.hooks.operation.tapPromise(async (event) => void heard.push(event)) },
    { name: "broken", apply: (ctx) => ctx.hooks.operation.tapPromise(async () => Promise.reject(new Error("disk full"))) },
  ]);
  try {
    const started = performance.now();
    await kernel.recordOperation(operation);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(OPERATION_TAP_BUDGET_MS - 50);
    expect(took).toBeLessThan(OPERATION_TAP_BUDGET_MS + 3_000);
    expect(stuckCalled).toBe(true);
    expect(heard).toEqual([{ ...operation, node: kernel.node }]);
    const warning = lines.find((l) => l.level === 40);
    expect(warning).toMatchObject({ plugins: ["stuck"] });
    expect(warning!.msg).toContain(`"stuck" did not finish within ${OPERATION_TAP_BUDGET_MS} ms`);
    expect(lines.find((l) => l.level === 50)).toMatchObject({ plugin: "broken", msg: "an operation tap failed" });
  } finally {
    await kernel.close();
  }
}, 30_000);

test("quick taps: the caller waits until they have finished (an audit line is written when the reply goes out), and nothing is logged", async () => {
  const heard: string[] = [];
  const { kernel, lines } = await kernelWith([
    { name: "later", apply: (ctx) => ctx.hooks.operation.tapPromise(async (event) => void (await Promise.resolve(), heard.push(event.operation))) },
  ]);
  try {
    await kernel.recordOperation(operation);
    expect(heard).toEqual(["send"]);
    expect(lines).toEqual([]);
  } finally {
    await kernel.close();
  }
}, 30_000);
