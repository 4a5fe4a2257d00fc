/**
 * The cost plugin on a real kernel, with agents that report known usage (the
 * echo agent behind an adapter that counts given tokens per model): `read`
 * and `list` carry each instance's cost (the instanceFields hook; the MCP
 * results carry such fields: packages/mcp/test/instance-fields.test.ts), `list` has a COST column, and the `cost` command's JSON and
 * table sum per instance and per subtree as computed here by hand.
 */
import type { KernelApi, TokenUsage, UsageUpdate } from "@tmux-claude/core";
import { ECHO_AGENT, countingAgent, countingUsage, createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { cost, type CostReport, type InstanceCost } from "../src/index.js";

/** What each instance's agent has used, set by the test before the turn that reports it. */
const counts = countingUsage;

const tokens = (model: string, input: number, output: number, cacheWrite: number, cacheRead: number) => ({ model, input, output, cacheWrite, cacheRead });
const usageOf = (models: ReturnType<typeof tokens>[]): TokenUsage => ({
  inputTokens: models.reduce((s, m) => s + m.input, 0),
  outputTokens: models.reduce((s, m) => s + m.output, 0),
  cacheCreationInputTokens: models.reduce((s, m) => s + m.cacheWrite, 0),
  cacheReadInputTokens: models.reduce((s, m) => s + m.cacheRead, 0),
  models,
});
// Per million: Sonnet 4.5 3/15/3.75/0.3, Haiku 4.5 1/5/1.25/0.1 (the shipped table).
const sonnet = (i: number, o: number, w: number, r: number) => (i * 3 + o * 15 + w * 3.75 + r * 0.3) / 1e6;
const haiku = (i: number, o: number, w: number, r: number) => (i * 1 + o * 5 + w * 1.25 + r * 0.1) / 1e6;
const UNKNOWN = "house-model-1";

let h: Harness;
const updates: UsageUpdate[] = [];
let ids: { exec: string; mgr: string; spec: string; other: string };
beforeAll(async () => {
  h = await createHarness(
    { defaultAgent: "counter", agents: { counter: { adapter: "counting", command: process.execPath, args: [ECHO_AGENT] } }, plugins: [countingAgent(), cost()] },
    { start: false, label: "cost" },
  );
  await h.startKernel({ watch: "all", beforeStart: (kernel) => kernel.hooks.usage.tap("test", (update) => void updates.push(update)) });
  const exec = (await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  const mgr = (await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: exec })).instance.id;
  const spec = (await h.kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr })).instance.id;
  const other = (await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  ids = { exec, mgr, spec, other };
  // A session that switched models, one on a single model, one with a model the table lacks, and one with no usage.
  counts.set(exec, usageOf([tokens("claude-sonnet-4-5-20250929", 12_000, 800, 3_000, 40_000), tokens("claude-haiku-4-5-20251001", 2_000, 100, 0, 500)]));
  counts.set(mgr, usageOf([tokens("claude-haiku-4-5-20251001", 5_000, 400, 1_000, 9_000)]));
  counts.set(spec, usageOf([tokens("claude-sonnet-4-5-20250929", 700, 70, 0, 0), tokens(UNKNOWN, 300, 30, 0, 0)]));
  for (const id of [exec, mgr, spec]) await h.kernel.send(id, "/work 10");
  await eventually(() => [exec, mgr, spec].every((id) => updates.some((u) => u.instanceId === id)), 15_000, "a usage update of each");
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const execUsd = sonnet(12_000, 800, 3_000, 40_000) + haiku(2_000, 100, 0, 500);
const mgrUsd = haiku(5_000, 400, 1_000, 9_000);
const specSonnetUsd = sonnet(700, 70, 0, 0);

/** What a command prints, through the command the plugin contributes (as the CLI runs it). */
async function runCost(kernel: KernelApi, argv: string[]): Promise<string> {
  const command = (await kernel.commands()).find((c) => c.name === "cost")!;
  const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    expect(await command.run(argv, kernel)).toBe(0);
    return write.mock.calls.map((call) => String(call[0])).join("");
  } finally {
    write.mockRestore();
  }
}

test("read and list carry each instance's cost; list has a COST column", async () => {
  const read = await h.kernel.read(ids.exec);
  const readCost = read.fields?.cost as InstanceCost;
  expect(readCost.tokens).toEqual({ input: 14_000, output: 900, cacheWrite: 3_000, cacheRead: 40_500, total: 58_400 });
  expect(readCost.usd).toBeCloseTo(execUsd, 12);
  expect(readCost.models.map((m) => m.model)).toEqual(["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"]);
  expect(read.details).toEqual([expect.stringMatching(/^cost: 58,400 tokens \(14,000 in, 900 out, 3,000 cache write, 40,500 cache read\), \$0\.\d{4}, claude-haiku/u)]);

  const listed = await h.kernel.list();
  const byId = new Map(listed.map((i) => [i.id, i]));
  expect((byId.get(ids.mgr)?.fields?.cost as InstanceCost).usd).toBeCloseTo(mgrUsd, 12);
  // spec's Sonnet tokens are priced; the unknown model's 330 are listed (partial), its usd null as in every JSON output.
  expect(byId.get(ids.spec)?.fields?.cost).toMatchObject({ usd: expect.closeTo(specSonnetUsd, 12), partial: true, unpriced: [UNKNOWN], unpricedTokens: 330, tokens: { total: 1_100 } });
  expect((byId.get(ids.spec)?.fields?.cost as InstanceCost).models.find((m) => m.model === UNKNOWN)).toMatchObject({ usd: null });
  // An instance without usage gets no cost field.
  expect(byId.get(ids.other)?.fields).toBeUndefined();
  const column = (await h.kernel.listColumns()).find((c) => c.header === "COST")!;
  expect(column.value(byId.get(ids.mgr)!)).toBe(`$${mgrUsd.toFixed(4)}`);
  expect(column.value(byId.get(ids.spec)!)).toBe(`$${specSonnetUsd.toFixed(4)} partial`);
  expect(column.value(byId.get(ids.other)!)).toBeUndefined();
});

test("cost --tree --json: each instance's own figures and its subtree's, summed by hand; the table says the same", async () => {
  const report = JSON.parse(await runCost(h.kernel, ["--tree", "--json"])) as CostReport;
  const row = (id: string) => report.instances.find((r) => r.id === id)!;
  expect(report.instances.map((r) => r.id)).toEqual([ids.exec, ids.mgr, ids.spec, ids.other]);
  expect(row(ids.mgr).usd).toBeCloseTo(mgrUsd, 12);
  // mgr's subtree: itself and spec, whose unknown model's tokens are left out of a partial USD; they still count.
  expect(row(ids.mgr).subtree).toMatchObject({ usd: expect.closeTo(mgrUsd + specSonnetUsd, 12), partial: true, unpriced: [UNKNOWN], unpricedTokens: 330, tokens: { input: 6_000, output: 500, cacheWrite: 1_000, cacheRead: 9_000, total: 16_500 } });
  // The unpriced model's usd is null in the JSON (scripts see the key).
  expect(row(ids.mgr).subtree?.models.find((m) => m.model === UNKNOWN)).toMatchObject({ usd: null });
  expect(row(ids.exec).subtree?.tokens).toEqual({ input: 20_000, output: 1_400, cacheWrite: 4_000, cacheRead: 49_500, total: 74_900 });
  expect(row(ids.exec).subtree?.models).toMatchObject([
    { model: "claude-haiku-4-5-20251001", input: 7_000, output: 500, cacheWrite: 1_000, cacheRead: 9_500 },
    { model: "claude-sonnet-4-5-20250929", input: 12_700, output: 870, cacheWrite: 3_000, cacheRead: 40_000 },
    { model: UNKNOWN, input: 300, output: 30, cacheWrite: 0, cacheRead: 0 },
  ]);
  expect(row(ids.other)).toMatchObject({ usd: 0, tokens: { total: 0 }, subtree: { usd: 0 } });
  expect(report.total.tokens.total).toBe(74_900);
  expect(report.pricesAsOf).toMatch(/^\d{4}-\d{2}-\d{2}$/u);

  // One instance: its own row; with --tree, its subtree's rows.
  const one = JSON.parse(await runCost(h.kernel, [ids.mgr, "--json"])) as CostReport;
  expect(one.instances.map((r) => r.id)).toEqual([ids.mgr]);
  expect(one.total.usd).toBeCloseTo(mgrUsd, 12);
  const sub = JSON.parse(await runCost(h.kernel, [ids.mgr, "--tree", "--json"])) as CostReport;
  expect(sub.instances.map((r) => r.id)).toEqual([ids.mgr, ids.spec]);

  const table = await runCost(h.kernel, ["--tree"]);
  const subtreeUsd = (execUsd + mgrUsd + specSonnetUsd).toFixed(4).replace(".", "\\.");
  expect(table).toMatch(new RegExp(`^${ids.exec}\\s+idle\\s+14,000\\s+900\\s+3,000\\s+40,500\\s+58,400\\s+\\$${execUsd.toFixed(4).replace(".", "\\.")}\\s+74,900\\s+\\$${subtreeUsd} partial\\s`, "mu"));
  expect(table).toMatch(new RegExp(`^  ${ids.mgr}\\s`, "mu"));
  expect(table).toContain(`USD partial: 330 tokens have no price (${UNKNOWN})`);
  expect(table).toContain(`add a price for "${UNKNOWN}": cost({ prices: { "${UNKNOWN}": { input, output, cacheWrite, cacheRead } } })`);
  expect(table).toContain(`the shipped table of ${report.pricesAsOf}`);
});

test("the command refuses an unknown instance and an unknown flag, naming them", async () => {
  await expect(runCost(h.kernel, ["nope-9"])).rejects.toMatchObject({ code: "TC_INSTANCE_NOT_FOUND", message: expect.stringContaining('"nope-9"') });
  await expect(runCost(h.kernel, ["--bogus"])).rejects.toMatchObject({ code: "TC_INVALID_ARGUMENT", message: expect.stringMatching(/--bogus.*Usage: tmux-claude cost/su) });
});

test("CostApi: instance and subtree from the store's records, as another process sees them", async () => {
  const other = await h.startKernel({ watch: "on-demand", config: { ...h.userConfig, plugins: [countingAgent(), cost({ prices: { [UNKNOWN]: { input: 10, output: 20, cacheWrite: 0, cacheRead: 0 } } })] } });
  const api = other.plugin<import("../src/index.js").CostApi>("cost")!;
  expect((await api.instance(ids.exec)).usd).toBeCloseTo(execUsd, 12);
  // With the unknown model priced by the config, the whole subtree has a USD figure.
  const subtree = await api.subtree(ids.exec);
  expect(subtree.instances.map((i) => i.id)).toEqual([ids.exec, ids.mgr, ids.spec]);
  expect(subtree.unpriced).toEqual([]);
  expect(subtree.usd).toBeCloseTo(execUsd + mgrUsd + sonnet(700, 70, 0, 0) + (300 * 10 + 30 * 20) / 1e6, 12);
  await other.close();
});
