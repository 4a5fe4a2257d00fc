/**
 * The cost ledger: a terminated instance's spend stays in its parent's
 * subtree (CostApi.subtree, what budgets read) and in `cost`, marked
 * terminated, for this process and another one; old entries go after the
 * retention.
 */
import type { KernelApi, TokenUsage, UsageUpdate } from "@tmux-claude/core";
import { ECHO_AGENT, countingAgent, countingUsage, createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { cost, type CostApi, type CostReport } from "../src/index.js";
import { expired, LEDGER_RETENTION_DAYS, type LedgerEntry } from "../src/ledger.js";

const haiku = (input: number): TokenUsage => ({ inputTokens: input, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, models: [{ model: "claude-haiku-4-5", input, output: 0, cacheWrite: 0, cacheRead: 0 }] });

let h: Harness;
const updates: UsageUpdate[] = [];
beforeAll(async () => {
  h = await createHarness(
    { defaultAgent: "counter", agents: { counter: { adapter: "counting", command: process.execPath, args: [ECHO_AGENT] } }, plugins: [countingAgent(), cost()] },
    { start: false, label: "cost-ledger" },
  );
  await h.startKernel({ watch: "all", beforeStart: (kernel) => kernel.hooks.usage.tap("test", (update) => void updates.push(update)) });
}, 120_000);
afterAll(async () => {
  await h?.close();
});

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

test("a terminated child's tokens stay in its parent's subtree, its own cost and the cost report (marked terminated)", async () => {
  const exec = (await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  const mgr = (await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: exec })).instance.id;
  // A manager without usage between them: its entry (written at terminate) keeps the spec's link up to exec.
  const spec = (await h.kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr })).instance.id;
  countingUsage.set(exec, haiku(1_000_000));
  countingUsage.set(spec, haiku(9_000_000));
  for (const id of [exec, spec]) await h.kernel.send(id, "/work 10");
  await eventually(() => [exec, spec].every((id) => updates.some((u) => u.instanceId === id)), 15_000, "a usage update of each");
  const api = h.kernel.plugin<CostApi>("cost")!;
  expect((await api.subtree(exec)).usd).toBeCloseTo(10, 9);

  await h.kernel.terminate(mgr, { cascade: true });
  // Haiku 4.5 input: $1 per million. Without the ledger: $1 (exec alone).
  const subtree = await api.subtree(exec);
  expect(subtree.usd).toBeCloseTo(10, 9);
  expect(subtree.instances.map((i) => i.id)).toEqual([exec, mgr, spec]);
  expect((await api.instance(spec)).usd).toBeCloseTo(9, 9);

  const report = JSON.parse(await runCost(h.kernel, ["--tree", "--json"])) as CostReport;
  const row = (id: string) => report.instances.find((r) => r.id === id)!;
  expect(row(spec)).toMatchObject({ status: "terminated", terminated: true, parentId: mgr, tokens: { total: 9_000_000 } });
  expect(row(exec).subtree?.usd).toBeCloseTo(10, 9);
  expect(await runCost(h.kernel, ["--tree"])).toMatch(new RegExp(`^    ${spec.replace(/\./gu, "\\.")}\\s+terminated\\s`, "mu"));

  // Another process reads the same ledger from the store.
  const other = await h.startKernel({ watch: "on-demand" });
  expect((await other.plugin<CostApi>("cost")!.subtree(exec)).usd).toBeCloseTo(10, 9);
  await other.close();
});

test(`terminated instances' entries go ${LEDGER_RETENTION_DAYS} days after their terminate; unmarked ones that long after their last write (if their record is gone)`, () => {
  const day = 24 * 60 * 60 * 1000;
  const now = Date.parse("2026-12-05T00:00:00Z");
  const entry = (writtenDaysAgo: number, terminatedDaysAgo?: number): LedgerEntry => ({ parentId: null, root: "x", role: "executive", depth: 1, updatedAt: new Date(now - writtenDaysAgo * day).toISOString(), ...(terminatedDaysAgo !== undefined ? { terminatedAt: new Date(now - terminatedDaysAgo * day).toISOString() } : {}) });
  const entries = [
    { key: "old", value: entry(40, LEDGER_RETENTION_DAYS + 1) },
    { key: "recent", value: entry(40, LEDGER_RETENTION_DAYS - 1) },
    { key: "quiet", value: entry(LEDGER_RETENTION_DAYS + 1) },
    { key: "active", value: entry(1) },
  ];
  expect(expired(entries, now)).toEqual({ terminated: ["old"], unmarked: ["quiet"] });
});
