/**
 * A subtree budget with the real Claude Code against the stand-in model, which
 * answers each turn with token counts set here: the turn that crosses the
 * budget pauses the subtree (the message queued behind that turn never reaches
 * the model), a spawn into it is refused with the figures, and raising the
 * budget resumes delivery.
 */
import { claude } from "@tmux-claude/agent-claude";
import type { Notice } from "@tmux-claude/core";
import { createClaudeHarness, isMainTurn, lastUserText, type ClaudeHarness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { budgets, cost } from "@tmux-claude/plugin-cost";

const SONNET = "claude-sonnet-4-5-20250929";
/** What the stand-in reports for each turn, by the marker its prompt carries. */
const TURNS = {
  "budget-a": { input_tokens: 100_000, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  "budget-b": { input_tokens: 60_000, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  "budget-c": { input_tokens: 1_000, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
} as const;
const asked = (marker: string) => h.model.requests.filter((req) => isMainTurn(req) && lastUserText(req).includes(marker)).length;

let h: ClaudeHarness;
const notices: Notice[] = [];
let noticed: (n: Notice) => void = () => undefined;
beforeAll(async () => {
  h = await createClaudeHarness({ adapterPlugin: claude(), agent: { args: ["--model", SONNET] }, config: { plugins: [cost(), budgets()] } });
  h.kernel.hooks.notice.tap("test", (notice) => {
    notices.push(notice);
    noticed(notice);
  });
  for (const [marker, usage] of Object.entries(TURNS)) {
    h.model.rule({ name: marker, when: (req) => isMainTurn(req) && lastUserText(req).includes(marker), reply: { text: `Done with ${marker}.`, usage } });
  }
}, 300_000);
afterAll(async () => {
  await h?.close();
});

test("Claude Code: the turn that crosses a subtree's token budget pauses it, a spawn into it is refused, raising the budget resumes delivery", async () => {
  const k = h.kernel;
  const exec = (await k.spawn({ role: "executive", workDir: h.workDir, prompt: "Reply briefly (budget-a).", budget: { tokens: 150_000 } })).instance;
  await k.read(exec.id, { wait: true, timeoutMs: 30_000 });
  // Under budget: a child may be spawned.
  const mgr = (await k.spawn({ role: "manager", workDir: h.workDir, parentId: exec.id, agent: "echo" })).instance;

  const crossing = new Promise<Notice>((resolve) => (noticed = (n) => n.kind === "budget" && resolve(n)));
  await k.send(exec.id, "Reply briefly (budget-b).");
  const held = await k.send(exec.id, "Reply briefly (budget-c).");
  const notice = await crossing;
  // 100,000 + 60,000 input and Claude Code's output tokens: over 150,000.
  expect(notice.title).toMatch(/^Budget of exec-1's subtree crossed: 160,\d{3} of 150,000 tokens; delivery paused$/u);
  expect(notice.eventId).toBe("budget:exec-1:usd=-,tokens=150000");
  await k.read(exec.id, { wait: true, timeoutMs: 30_000 });
  for (const id of [exec.id, mgr.id]) expect((await k.read(id)).paused).toMatch(/^budget of exec-1's subtree crossed: 160,\d{3} of 150,000 tokens \(its spawn's budget\)$/u);
  expect((await k.read(exec.id)).queued).toBe(1);
  expect(held.state).toBe("queued");
  expect(asked("budget-c")).toBe(0);

  const refused = await k.spawn({ role: "manager", workDir: h.workDir, parentId: exec.id, agent: "echo" }).then(
    () => undefined,
    (error: unknown) => error as Error & { code: string; details: Record<string, unknown> },
  );
  expect(refused?.code).toBe("TC_BUDGET_EXCEEDED");
  expect(refused?.message).toMatch(/Spawn refused: the subtree of "exec-1" has spent 160,\d{3} of 150,000 tokens/u);

  const tool = (await k.tools()).find((t) => t.name === "budget")!;
  const raised = (await tool.handler({ instanceId: exec.id, tokens: 1_000_000 }, { instanceId: null, role: null })) as { resumed: string[] };
  expect(raised.resumed.sort()).toEqual([exec.id, mgr.id].sort());
  await k.waitDelivered(held, 30_000);
  await k.read(exec.id, { wait: true, timeoutMs: 30_000 });
  expect(asked("budget-c")).toBe(1);
  expect(notices.filter((n) => n.kind === "budget")).toHaveLength(1);
}, 300_000);
