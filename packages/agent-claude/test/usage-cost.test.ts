/**
 * The real Claude Code against the stand-in model, asked for a given model:
 * the usage the kernel announces after a turn names the model (from the
 * transcript), carries its cost from the price table, and is stored on the
 * record for every process.
 */
import { eventually } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { UsageUpdate } from "@tmux-claude/core";
import { modelUsd } from "../src/index.js";
import { createClaudeHarness, type ClaudeHarness } from "./helpers.js";

const MODEL = "claude-sonnet-4-5-20250929";
let h: ClaudeHarness;
const updates: UsageUpdate[] = [];
beforeAll(async () => {
  // Claude Code sends the model it was asked for; the stand-in answers as that model.
  h = await createClaudeHarness({ agent: { args: ["--model", MODEL] } });
  h.kernel.hooks.usage.tap("test-usage", (update) => void updates.push(update));
}, 300_000);
afterAll(async () => {
  await h?.close();
});

test("a turn's usage names the model that answered and its cost; the record keeps it", async () => {
  const tokens = { input_tokens: 12_000, cache_creation_input_tokens: 3_000, cache_read_input_tokens: 40_000 };
  h.model.rule({ name: "priced", when: (req) => JSON.stringify(req.body.messages ?? "").includes("what does this cost"), reply: { text: "Not much.", usage: tokens } });
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "what does this cost" });
  await h.kernel.read(instance.id, { wait: true, timeoutMs: 15_000 });
  const main = h.model.requests.find((r) => JSON.stringify(r.body.messages ?? "").includes("what does this cost"));
  expect(main?.body.model).toBe(MODEL);

  // The first announcement already has it: the turn end waits for Claude Code to write the reply to its transcript.
  const update = await eventually(() => updates.find((u) => u.instanceId === instance.id), 15_000, "a usage update");
  const { usage } = update;
  expect(usage).toMatchObject({ model: MODEL, inputTokens: 12_000, cacheCreationInputTokens: 3_000, cacheReadInputTokens: 40_000 });
  expect(usage.outputTokens).toBeGreaterThan(0);
  // Sonnet 4.5: $3 input, $15 output, $3.75 cache writes, $0.30 cache reads per million tokens.
  expect(usage.costUsd).toBeCloseTo((12_000 * 3 + usage.outputTokens * 15 + 3_000 * 3.75 + 40_000 * 0.3) / 1_000_000, 10);
  // One pricing path: the cost plugin prices the same tokens with the same function.
  expect(usage.costUsd).toBeCloseTo(modelUsd(usage.models![0]!)!, 10);
  const listed = (await h.kernel.list()).find((i) => i.id === instance.id);
  expect(listed?.usage).toEqual(usage);
}, 120_000);
