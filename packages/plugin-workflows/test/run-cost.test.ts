/**
 * A workflow run's cost (the cost plugin, reading runs through this plugin's
 * public api): its tasks' instances summed. Agents report a known count (the
 * counting adapter); their tasks complete at their turn's end.
 */
import type { UsageUpdate } from "@tmux-claude/core";
import { cost, type CostApi, type CostReport } from "@tmux-claude/plugin-cost";
import { ECHO_AGENT, countingAgent, countingUsage, createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { workflows, type WorkflowsPluginApi } from "../src/index.js";
import { startRecorded } from "./helpers.js";

const EACH = { model: "claude-haiku-4-5", input: 10_000, output: 1_000, cacheWrite: 0, cacheRead: 50_000 };
// Haiku 4.5: $1 input, $5 output, $0.10 cache reads per million.
const EACH_USD = (10_000 * 1 + 1_000 * 5 + 50_000 * 0.1) / 1e6;

let h: Harness;
const updates: UsageUpdate[] = [];
beforeAll(async () => {
  countingUsage.set("*", { inputTokens: EACH.input, outputTokens: EACH.output, cacheCreationInputTokens: 0, cacheReadInputTokens: EACH.cacheRead, models: [EACH] });
  h = await createHarness(
    { defaultAgent: "counter", agents: { counter: { adapter: "counting", command: process.execPath, args: [ECHO_AGENT] } }, plugins: [countingAgent(), workflows(), cost()] },
    { start: false, label: "cost-runs" },
  );
  await h.startKernel({ watch: "all", beforeStart: (kernel) => kernel.hooks.usage.tap("test", (update) => void updates.push(update)) });
});
afterAll(async () => {
  await h?.close();
});

test("a run's cost is its task instances' sum; the command lists it; an instance outside the run is not in it", async () => {
  const outside = (await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "/work 5" })).instance.id;
  const api = h.kernel.plugin<WorkflowsPluginApi>("workflows")!;
  const run = startRecorded(api, "workflow: priced\nsteps:\n  - id: build\n    spawn: specialist\n    tasks: [one, two]\n", { workDir: h.workDir });
  const tasks = await Promise.all([0, 1].map((index) => run.next("spawned", (e) => e.step === "build" && e.index === index)));
  const taskIds = tasks.map((t) => t.instanceId);
  const result = await run.result;
  expect(result.state).toBe("succeeded");
  await eventually(() => [...taskIds, outside].every((id) => updates.some((u) => u.instanceId === id)), 15_000, "each instance's usage");

  const costApi = h.kernel.plugin<CostApi>("cost")!;
  const runCost = await costApi.run(result.id);
  expect(runCost?.instances.map((i) => i.id).sort()).toEqual([...taskIds].sort());
  expect(runCost?.tokens).toEqual({ input: 20_000, output: 2_000, cacheWrite: 0, cacheRead: 100_000, total: 122_000 });
  expect(runCost?.usd).toBeCloseTo(2 * EACH_USD, 12);
  expect(await costApi.run("no-such-run")).toBeUndefined();

  const command = (await h.kernel.commands()).find((c) => c.name === "cost")!;
  const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  let printed = "";
  try {
    await command.run(["--json"], h.kernel);
    printed = write.mock.calls.map((call) => String(call[0])).join("");
  } finally {
    write.mockRestore();
  }
  const report = JSON.parse(printed) as CostReport;
  expect(report.runs).toMatchObject([{ run: result.id, workflow: "priced", tokens: { total: 122_000 } }]);
  expect(report.total.tokens.total).toBe(3 * 61_000);

  // A failed run's instances are terminated (and a person may terminate them): their spend stays in the run (the cost ledger).
  for (const id of taskIds) await h.kernel.terminate(id!);
  const after = await costApi.run(result.id);
  expect(after?.instances.map((i) => i.id).sort()).toEqual([...taskIds].sort());
  expect(after?.usd).toBeCloseTo(2 * EACH_USD, 12);
});
