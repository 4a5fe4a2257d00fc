// A warm pool under a subtree over its budget: a spawn that fits the pooled
// instance is refused like a cold one (the budget plugin's beforeTake passes
// the instance over, beforeSpawn refuses), and the instance stays pooled.
import { afterAll, beforeAll, expect, test } from "vitest";
import { isTmuxClaudeError } from "@tmux-claude/core";
import { ECHO_AGENT, countingAgent, countingUsage, createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { budgets, cost } from "../src/index.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ defaultAgent: "counting", pool: { manager: 1 }, limits: { spawnTimeout: 10_000, sendTimeout: 5_000 }, plugins: [countingAgent(), cost(), budgets()] }, { start: false, label: "budget-pool" });
  await h.startKernel({ config: { agents: { counting: { adapter: "counting", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: h.log }, inputLog: h.log } } }, watch: "all" });
});
afterAll(async () => h?.close());

test("a take from a warm pool under a subtree over its budget (action notify: no hold) is refused TC_BUDGET_EXCEEDED; the pooled instance stays", async () => {
  const k = h.kernel;
  const exec = (await k.spawn({ role: "executive", workDir: h.workDir, budget: { tokens: 50_000, action: "notify" } })).instance;
  const pooled = await eventually(async () => (await k.list()).find((r) => r.parentId === exec.id && r.pooled && r.status === "idle"), 15_000, "the pooled manager");
  countingUsage.set(exec.id, { inputTokens: 100_000, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, model: "claude-sonnet-4-5" });
  await k.send(exec.id, "/work 50");
  await k.read(exec.id, { wait: true, timeoutMs: 10_000 });
  const error = await k.spawn({ role: "manager", parentId: exec.id, workDir: h.workDir, prompt: "work" }).then(
    (result) => new Error(`spawned (${result.source})`),
    (e: unknown) => e,
  );
  expect(isTmuxClaudeError(error) && error.code).toBe("TC_BUDGET_EXCEEDED");
  expect((await k.get(pooled.id)).pooled).toBeDefined();
}, 60_000);
