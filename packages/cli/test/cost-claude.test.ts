/**
 * Cost with the real Claude Code against the stand-in model, which answers
 * each turn with token counts set here: a small hierarchy (an executive on
 * Sonnet, two managers on Haiku) does a few turns, and `tmux-claude cost
 * --tree --json` (the CLI, another process) equals the sums computed by hand
 * from the model's replies, per instance and per subtree, priced from the
 * shipped table, and again from a config that overrides a price. `read
 * --json` carries the instance's cost, and no second USD (the adapter's).
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { claude } from "@tmux-claude/agent-claude";
import type { UsageUpdate } from "@tmux-claude/core";
import { createClaudeHarness, eventually, isMainTurn, lastUserText, type ClaudeHarness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { cost, PRICES, type CostReport, type InstanceCost } from "@tmux-claude/plugin-cost";
import { BIN } from "./helpers.js";

const run = promisify(execFile);
const SONNET = "claude-sonnet-4-5-20250929";
const HAIKU = "claude-haiku-4-5-20251001";

/** The tokens the stand-in reports for each turn, by the marker its prompt carries. */
const TURNS = {
  "cost-e1-a": { model: SONNET, usage: { input_tokens: 1_200, output_tokens: 340, cache_creation_input_tokens: 5_000, cache_read_input_tokens: 20_000 } },
  "cost-e1-b": { model: SONNET, usage: { input_tokens: 800, output_tokens: 120, cache_creation_input_tokens: 0, cache_read_input_tokens: 26_000 } },
  "cost-m1-a": { model: HAIKU, usage: { input_tokens: 3_000, output_tokens: 900, cache_creation_input_tokens: 4_000, cache_read_input_tokens: 0 } },
  "cost-m1-b": { model: HAIKU, usage: { input_tokens: 500, output_tokens: 60, cache_creation_input_tokens: 100, cache_read_input_tokens: 7_000 } },
  "cost-m2-a": { model: HAIKU, usage: { input_tokens: 2_222, output_tokens: 333, cache_creation_input_tokens: 44, cache_read_input_tokens: 5_555 } },
} as const;
type Marker = keyof typeof TURNS;

let h: ClaudeHarness;
const updates: UsageUpdate[] = [];
let ids: { exec: string; m1: string; m2: string };
let configFile: string;

beforeAll(async () => {
  h = await createClaudeHarness({ adapterPlugin: claude(), agent: { args: ["--model", SONNET] }, agents: { haiku: { args: ["--model", HAIKU] } }, config: { plugins: [cost()] } });
  h.kernel.hooks.usage.tap("test-usage", (update) => void updates.push(update));
  for (const [marker, turn] of Object.entries(TURNS)) {
    h.model.rule({ name: marker, when: (req) => isMainTurn(req) && lastUserText(req).includes(marker), reply: { text: `Done with ${marker}.`, usage: turn.usage } });
  }
  // The CLI in its own process: the same tmux server, store and agents.
  const agent = (model: string) => ({ adapter: "claude", command: h.claude.path, env: h.env, args: ["--model", model] });
  const config = { ...h.userConfig, defaultAgent: "claude", agents: { ...h.userConfig.agents, claude: agent(SONNET), haiku: agent(HAIKU) } };
  configFile = path.join(h.dir, "tmuxclaude.config.mjs");
  await writeFile(configFile, `export default ${JSON.stringify(config)};\n`);
  // The same with Haiku's input priced at $2 (shipped: $1) and its cache reads at $0.
  await writeFile(
    path.join(h.dir, "override.config.mjs"),
    `import { cost } from "@tmux-claude/plugin-cost";\nexport default { ...${JSON.stringify(config)}, plugins: [cost({ prices: { "claude-haiku-4-5": { input: 2, output: 5, cacheWrite: 1.25, cacheRead: 0 } } })] };\n`,
  );
}, 300_000);
afterAll(async () => {
  await h?.close();
});

/** One turn: the prompt carries the marker; resolves when the turn ended. */
async function turn(id: string, marker: Marker): Promise<void> {
  await h.kernel.send(id, `Reply briefly (${marker}).`);
  await h.kernel.read(id, { wait: true, timeoutMs: 30_000 });
}

/** The tokens the model reported to an instance, summed by hand from the requests it answered (each matched one marker). */
function byHand(markers: readonly Marker[]): { input: number; output: number; cacheWrite: number; cacheRead: number; total: number } {
  const sum = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0, total: 0 };
  for (const marker of markers) {
    const answered = h.model.requests.filter((req) => isMainTurn(req) && lastUserText(req).includes(marker)).length;
    expect(answered, `requests answered for ${marker}`).toBe(1);
    const u = TURNS[marker].usage;
    sum.input += u.input_tokens;
    sum.output += u.output_tokens;
    sum.cacheWrite += u.cache_creation_input_tokens;
    sum.cacheRead += u.cache_read_input_tokens;
  }
  sum.total = sum.input + sum.output + sum.cacheWrite + sum.cacheRead;
  return sum;
}

const usd = (price: { input: number; output: number; cacheWrite: number; cacheRead: number }, t: { input: number; output: number; cacheWrite: number; cacheRead: number }) =>
  (t.input * price.input + t.output * price.output + t.cacheWrite * price.cacheWrite + t.cacheRead * price.cacheRead) / 1_000_000;

async function cli(args: string[], config = configFile): Promise<string> {
  const { stdout } = await run(process.execPath, [BIN, "--config", config, ...args], { cwd: h.workDir, timeout: 60_000 });
  return stdout;
}

test("cost --tree --json equals the model's replies summed by hand, per instance and subtree; USD from the table, and from an override", async () => {
  const exec = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "Reply briefly (cost-e1-a)." });
  await h.kernel.read(exec.instance.id, { wait: true, timeoutMs: 30_000 });
  const [m1, m2] = await Promise.all(
    (["cost-m1-a", "cost-m2-a"] as const).map(async (marker) => {
      const { instance } = await h.kernel.spawn({ role: "manager", agent: "haiku", workDir: h.workDir, parentId: exec.instance.id, prompt: `Reply briefly (${marker}).` });
      await h.kernel.read(instance.id, { wait: true, timeoutMs: 30_000 });
      return instance.id;
    }),
  );
  ids = { exec: exec.instance.id, m1: m1!, m2: m2! };
  await turn(ids.exec, "cost-e1-b");
  await turn(ids.m1, "cost-m1-b");

  const own = { exec: byHand(["cost-e1-a", "cost-e1-b"]), m1: byHand(["cost-m1-a", "cost-m1-b"]), m2: byHand(["cost-m2-a"]) };
  // The usage announced after each instance's last turn is what the store keeps (and the CLI reads).
  for (const [key, id] of Object.entries(ids)) {
    const expected = own[key as keyof typeof own];
    await eventually(() => updates.some((u) => u.instanceId === id && u.usage.inputTokens === expected.input), 20_000, `${id}'s usage after its last turn`);
  }

  const report = JSON.parse(await cli(["cost", "--tree", "--json"])) as CostReport;
  const row = (id: string) => report.instances.find((r) => r.id === id)!;
  // The executive first, then its children (which of the two managers got the lower id is a race).
  expect(report.instances[0]!.id).toBe(ids.exec);
  expect(report.instances.map((r) => r.id).sort()).toEqual(Object.values(ids).sort());
  const sonnet = PRICES["claude-sonnet-4-5"]!;
  const haiku = PRICES["claude-haiku-4-5"]!;
  for (const [key, id] of Object.entries(ids)) {
    const tokens = own[key as keyof typeof own];
    expect(row(id).tokens, id).toEqual(tokens);
    expect(row(id).models.map((m) => m.model)).toEqual([key === "exec" ? SONNET : HAIKU]);
    expect(row(id).usd).toBeCloseTo(usd(key === "exec" ? sonnet : haiku, tokens), 10);
    expect(row(id).unpriced).toEqual([]);
  }
  // The executive's subtree: itself on Sonnet, both managers on Haiku.
  const managers = { input: own.m1.input + own.m2.input, output: own.m1.output + own.m2.output, cacheWrite: own.m1.cacheWrite + own.m2.cacheWrite, cacheRead: own.m1.cacheRead + own.m2.cacheRead };
  const subtree = row(ids.exec).subtree!;
  expect(subtree.tokens.total).toBe(own.exec.total + own.m1.total + own.m2.total);
  expect(subtree.models).toEqual([
    { model: HAIKU, ...managers, usd: expect.closeTo(usd(haiku, managers), 10) },
    { model: SONNET, input: own.exec.input, output: own.exec.output, cacheWrite: own.exec.cacheWrite, cacheRead: own.exec.cacheRead, usd: expect.closeTo(usd(sonnet, own.exec), 10) },
  ]);
  expect(subtree.usd).toBeCloseTo(usd(sonnet, own.exec) + usd(haiku, managers), 10);
  expect(row(ids.m2).subtree?.tokens).toEqual(own.m2);
  expect(report.total.usd).toBeCloseTo(subtree.usd!, 10);

  // An overridden price: the same tokens, Haiku's share at the config's prices.
  const overridden = { input: 2, output: 5, cacheWrite: 1.25, cacheRead: 0 };
  const withOverride = JSON.parse(await cli(["cost", ids.exec, "--tree", "--json"], path.join(h.dir, "override.config.mjs"))) as CostReport;
  expect(withOverride.pricesOverridden).toEqual(["claude-haiku-4-5"]);
  expect(withOverride.instances.find((r) => r.id === ids.m1)?.usd).toBeCloseTo(usd(overridden, own.m1), 10);
  expect(withOverride.instances[0]!.subtree?.usd).toBeCloseTo(usd(sonnet, own.exec) + usd(overridden, managers), 10);

  // read --json carries the instance's cost.
  const read = JSON.parse(await cli(["read", ids.m1, "--json"])) as { fields: { cost: InstanceCost } };
  expect(read.fields.cost.tokens).toEqual(own.m1);
  expect(read.fields.cost.usd).toBeCloseTo(usd(haiku, own.m1), 10);

  // One USD in a result: with the override, read and list --json show the cost plugin's figure, not also the adapter's costUsd at the shipped prices.
  const readOverridden = JSON.parse(await cli(["read", ids.m1, "--json"], path.join(h.dir, "override.config.mjs"))) as { usage: Record<string, unknown>; fields: { cost: InstanceCost } };
  expect(readOverridden.usage).toMatchObject({ inputTokens: own.m1.input });
  expect(readOverridden.usage).not.toHaveProperty("costUsd");
  expect(readOverridden.fields.cost.usd).toBeCloseTo(usd(overridden, own.m1), 10);
  const listed = JSON.parse(await cli(["list", "--json"], path.join(h.dir, "override.config.mjs"))) as { id: string; usage?: Record<string, unknown> }[];
  expect(listed.find((i) => i.id === ids.m1)?.usage).not.toHaveProperty("costUsd");
}, 300_000);
