/**
 * Pricing and roll-ups without agents: tokens by model priced from the
 * table (and an override), sums of several instances, the subtree and run
 * membership, the options' validation, and an unknown model warned about once.
 */
import { createLogger, type InstanceSummary, type TokenUsage } from "@tmux-claude/core";
import { describe, expect, test } from "vitest";
import { cost, Pricer, PRICES, PRICES_AS_OF } from "../src/index.js";
import { runIds, subtreeIds } from "../src/rollup.js";

/** A logger whose warnings the test reads. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; warnings: { model?: string; msg: string }[] } {
  const warnings: { model?: string; msg: string }[] = [];
  const logger = createLogger("warn", { write: (line: string) => void warnings.push(JSON.parse(line) as { model?: string; msg: string }) });
  return { logger, warnings };
}

const usage = (models: NonNullable<TokenUsage["models"]>): TokenUsage => ({
  inputTokens: models.reduce((s, m) => s + m.input, 0),
  outputTokens: models.reduce((s, m) => s + m.output, 0),
  cacheCreationInputTokens: models.reduce((s, m) => s + m.cacheWrite, 0),
  cacheReadInputTokens: models.reduce((s, m) => s + m.cacheRead, 0),
  models,
});

describe("pricing", () => {
  test("each model's tokens at its own price (dated ids too); the instance's USD is their sum", () => {
    const { logger } = recordingLogger();
    const pricer = new Pricer(PRICES, PRICES_AS_OF, logger);
    const priced = pricer.instance("exec-1", usage([
      { model: "claude-sonnet-4-5-20250929", input: 1_000, output: 2_000, cacheWrite: 3_000, cacheRead: 4_000 },
      { model: "claude-haiku-4-5", input: 10_000, output: 0, cacheWrite: 0, cacheRead: 0 },
    ]));
    // Sonnet 4.5: 1000*3 + 2000*15 + 3000*3.75 + 4000*0.3 = 45,450 per million; Haiku 4.5: 10000*1.
    expect(priced.models.map((m) => [m.model, m.usd])).toEqual([
      ["claude-haiku-4-5", 0.01],
      ["claude-sonnet-4-5-20250929", expect.closeTo(0.04545, 12)],
    ]);
    expect(priced.usd).toBeCloseTo(0.05545, 12);
    expect(priced.tokens).toEqual({ input: 11_000, output: 2_000, cacheWrite: 3_000, cacheRead: 4_000, total: 20_000 });
    expect(priced.unpriced).toEqual([]);
  });

  test("an adapter without a breakdown: its totals under its last model; none at all: zero and $0", () => {
    const pricer = new Pricer(PRICES, PRICES_AS_OF, recordingLogger().logger);
    const plain: TokenUsage = { inputTokens: 1_000_000, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, model: "claude-opus-4-1" };
    expect(pricer.instance("a", plain)).toMatchObject({ usd: 15, models: [{ model: "claude-opus-4-1", input: 1_000_000 }] });
    expect(pricer.instance("b", undefined)).toEqual({ id: "b", models: [], tokens: { input: 0, output: 0, cacheWrite: 0, cacheRead: 0, total: 0 }, usd: 0, partial: false, unpriced: [], unpricedTokens: 0 });
  });

  test("an unknown model: tokens counted, the USD of the rest marked partial, one warning per model per process naming it and the fix", () => {
    const { logger, warnings } = recordingLogger();
    const pricer = new Pricer(PRICES, PRICES_AS_OF, logger);
    const model = `gpt-test-${process.pid}`;
    const mixed = usage([
      { model, input: 500, output: 50, cacheWrite: 0, cacheRead: 0 },
      { model: "claude-haiku-4-5", input: 1_000, output: 0, cacheWrite: 0, cacheRead: 0 },
    ]);
    const first = pricer.instance("x", mixed);
    // Haiku 4.5's 1,000 input tokens: $0.001; the unknown model's 550 tokens listed, not priced.
    expect(first).toMatchObject({ usd: expect.closeTo(0.001, 12), partial: true, unpriced: [model], unpricedTokens: 550, tokens: { total: 1_550 } });
    expect(first.models.find((m) => m.model === model)?.usd).toBeNull();
    for (let turn = 0; turn < 5; turn++) pricer.instance("x", mixed);
    // A second plugin instance in the same process does not warn again either.
    new Pricer(PRICES, PRICES_AS_OF, logger).instance("y", mixed);
    const about = warnings.filter((w) => w.model === model);
    expect(about).toHaveLength(1);
    expect(about[0]!.msg).toContain(`no price for model "${model}"`);
    expect(about[0]!.msg).toContain(`cost({ prices: { "${model}"`);
  });

  test("long-context tokens without long-context rates are left out of a partial USD, the warning naming the longContext rates to add; with rates (a config's) they are priced", () => {
    const { logger, warnings } = recordingLogger();
    const tokens = usage([
      { model: "claude-sonnet-4-5", input: 1_000, output: 0, cacheWrite: 0, cacheRead: 0 },
      { model: "claude-sonnet-4-5", input: 250_000, output: 0, cacheWrite: 0, cacheRead: 0, longContext: true },
    ]);
    const priced = new Pricer(PRICES, PRICES_AS_OF, logger).instance("l", tokens);
    expect(priced).toMatchObject({ usd: expect.closeTo(0.003, 12), partial: true, unpriced: ["claude-sonnet-4-5 (long context)"], unpricedTokens: 250_000 });
    expect(warnings.find((w) => w.msg.includes("long-context"))?.msg).toContain('"claude-sonnet-4-5": { input, output, cacheWrite, cacheRead, longContext: { input, output, cacheWrite, cacheRead } }');
    const table = { ...PRICES, "claude-sonnet-4-5": { ...PRICES["claude-sonnet-4-5"]!, longContext: { input: 6, output: 22.5, cacheWrite: 7.5, cacheRead: 0.6 } } };
    expect(new Pricer(table, PRICES_AS_OF, logger).instance("l", tokens)).toMatchObject({ usd: expect.closeTo(0.003 + 1.5, 12), partial: false, unpriced: [], unpricedTokens: 0 });
  });

  test("a sum with one unpriced part keeps the USD of the rest (partial), as the instance's does: subtree and run figures never turn unknown", () => {
    const pricer = new Pricer(PRICES, PRICES_AS_OF, recordingLogger().logger);
    const known = pricer.instance("a", usage([{ model: "claude-haiku-4-5", input: 1_000_000, output: 0, cacheWrite: 0, cacheRead: 0 }]));
    const unknown = pricer.instance("b", usage([{ model: `house-${process.pid}`, input: 300, output: 30, cacheWrite: 0, cacheRead: 0 }]));
    expect(unknown).toMatchObject({ usd: 0, partial: true, unpricedTokens: 330 });
    expect(pricer.combine("a", [known, unknown])).toMatchObject({ usd: 1, partial: true, unpriced: [`house-${process.pid}`], unpricedTokens: 330, tokens: { total: 1_000_330 } });
  });

  test("a Bedrock or Vertex id is priced as the model the API names so", () => {
    const pricer = new Pricer(PRICES, PRICES_AS_OF, recordingLogger().logger);
    const each = { input: 1_000_000, output: 0, cacheWrite: 0, cacheRead: 0 };
    const priced = pricer.instance("p", usage([{ model: "anthropic.claude-sonnet-4-5-20250929-v1:0", ...each }, { model: "claude-haiku-4-5@20251001", ...each }]));
    expect(priced).toMatchObject({ usd: expect.closeTo(3 + 1, 12), partial: false });
  });

  test("combining instances sums tokens and USD per model", () => {
    const pricer = new Pricer(PRICES, PRICES_AS_OF, recordingLogger().logger);
    const a = pricer.instance("a", usage([{ model: "claude-haiku-4-5", input: 1_000, output: 100, cacheWrite: 0, cacheRead: 0 }]));
    const b = pricer.instance("b", usage([
      { model: "claude-haiku-4-5", input: 2_000, output: 200, cacheWrite: 10, cacheRead: 20 },
      { model: "claude-opus-4-5", input: 1, output: 1, cacheWrite: 1, cacheRead: 1 },
    ]));
    const sum = pricer.combine("a", [a, b]);
    expect(sum.models).toMatchObject([
      { model: "claude-haiku-4-5", input: 3_000, output: 300, cacheWrite: 10, cacheRead: 20 },
      { model: "claude-opus-4-5", input: 1, output: 1, cacheWrite: 1, cacheRead: 1 },
    ]);
    expect(sum.tokens.total).toBe(a.tokens.total + b.tokens.total);
    expect(sum.usd).toBeCloseTo(a.usd + b.usd, 12);
  });
});

describe("options", () => {
  test("an override replaces a shipped price and adds a model; prices() shows the table and its date", () => {
    const plugin = cost({ prices: { "claude-haiku-4-5": { input: 2, output: 10, cacheWrite: 2.5, cacheRead: 0.2 }, "my-model": { input: 1, output: 1, cacheWrite: 1, cacheRead: 1 } } });
    const table = plugin.api!.prices();
    expect(table.asOf).toBe(PRICES_AS_OF);
    expect(table.models["claude-haiku-4-5"]).toEqual({ input: 2, output: 10, cacheWrite: 2.5, cacheRead: 0.2 });
    expect(table.models["my-model"]).toEqual({ input: 1, output: 1, cacheWrite: 1, cacheRead: 1 });
    expect(table.models["claude-sonnet-4-5"]).toEqual(PRICES["claude-sonnet-4-5"]);
  });

  test("a negative or non-numeric price is refused, naming the model, the kind and the value", () => {
    expect(() => cost({ prices: { "claude-haiku-4-5": { input: -1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 } } })).toThrow('prices["claude-haiku-4-5"].input: expected a number >= 0, got -1');
    expect(() => cost({ prices: { "my-model": { input: "cheap", output: 5, cacheWrite: 1, cacheRead: 1 } } } as never)).toThrow(/my-model.*input.*expected a number, got "cheap"/su);
    expect(() => cost({ prices: { "my-model": { input: 1, output: 5, cacheWrite: 1 } } } as never)).toThrow(/my-model.*cacheRead.*missing/su);
    expect(() => cost({ prices: { "my-model": { input: 1, output: 5, cacheWrite: 1, cacheRead: 1, cacheWrite1h: 2 } } } as never)).toThrow(/cacheWrite1h/u);
  });
});

describe("roll-ups", () => {
  const node = (id: string, parentId: string | null, children: string[]) => ({ id, parentId, children }) as unknown as InstanceSummary;
  const tree = [node("exec-1", null, ["mgr-1", "mgr-2"]), node("mgr-1", "exec-1", ["spec-1"]), node("mgr-2", "exec-1", []), node("spec-1", "mgr-1", []), node("exec-2", null, [])];

  test("a subtree is the instance and its descendants, parents first; an unknown id is an error naming it", () => {
    expect(subtreeIds(tree, "exec-1")).toEqual(["exec-1", "mgr-1", "spec-1", "mgr-2"]);
    expect(subtreeIds(tree, "mgr-2")).toEqual(["mgr-2"]);
    expect(() => subtreeIds(tree, "nope-1")).toThrow(/No instance "nope-1"/u);
  });

  test("a run is its tasks' instances and what they spawned, each once; a task instance whose record is gone counts nothing", () => {
    expect(runIds(tree, ["mgr-1", "spec-1", "gone-1", "exec-2"])).toEqual(["mgr-1", "spec-1", "exec-2"]);
  });
});
