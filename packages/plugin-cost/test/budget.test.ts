// Budgets enforced, on real tmux: echo agents whose adapter reports a given
// usage (testkit's counting agent; each turn here adds 100,000 input tokens
// of claude-sonnet-4-5: $0.30 at the shipped $3 per million), the cost plugin
// pricing it, and the budget plugin acting on it.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCodes, isTmuxClaudeError, Kernel, parseConfig, type Notice } from "@tmux-claude/core";
import { ECHO_AGENT, countingAgent, countingUsage, createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { budgets, cost, withCost } from "../src/index.js";
import { budgetsOver, inList } from "../src/budget/check.js";

const PER_TURN = 100_000;

/** The usage `id` reports at the end of its next turn: `turns` turns' worth in all. */
function spend(id: string, turns: number): void {
  countingUsage.set(id, { inputTokens: turns * PER_TURN, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, model: "claude-sonnet-4-5" });
}

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  if (!isTmuxClaudeError(error)) throw error;
  return error;
}

/** A promise of the next notice `accept` takes, from the kernel's notice hook. */
function nextNotice(notices: Notice[], waiters: ((n: Notice) => void)[], accept: (n: Notice) => boolean): Promise<Notice> {
  const seen = notices.find(accept);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve) => waiters.push((n) => accept(n) && resolve(n)));
}

async function budgetTool(kernel: Kernel) {
  const tool = (await kernel.tools()).find((t) => t.name === "budget");
  if (!tool) throw new Error("no budget tool");
  return tool;
}

describe("budgets", () => {
  let h: Harness;
  const notices: Notice[] = [];
  const waiters: ((n: Notice) => void)[] = [];
  beforeAll(async () => {
    h = await createHarness({ defaultAgent: "counting", limits: { spawnTimeout: 10_000, sendTimeout: 5_000 }, plugins: [countingAgent(), cost(), budgets()] }, { start: false, label: "budget" });
    await h.startKernel({
      // The echo agent logs what it receives to the harness's log (what h.received() reads), also the adapter's evidence.
      config: { agents: { counting: { adapter: "counting", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: h.log }, inputLog: h.log } } },
      watch: "all",
      beforeStart: (kernel) =>
        kernel.hooks.notice.tap("test", (notice) => {
          notices.push(notice);
          for (const waiter of waiters) waiter(notice);
        }),
    });
  });
  afterAll(async () => h?.close());

  test("pause: the turn that crosses a subtree's budget pauses the subtree and tells the parent; a spawn into it is refused with the figures; raising the budget resumes delivery", async () => {
    const k = h.kernel;
    const exec = (await k.spawn({ role: "executive", workDir: h.workDir })).instance;
    const mgr = (await k.spawn({ role: "manager", workDir: h.workDir, parentId: exec.id, budget: { usd: 0.5 } })).instance;
    const spec = (await k.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr.id })).instance;

    spend(mgr.id, 1);
    await k.send(mgr.id, "/work 100");
    await k.read(mgr.id, { wait: true, timeoutMs: 10_000 });
    const crossing = nextNotice(notices, waiters, (n) => n.kind === "budget" && n.instanceId === mgr.id);
    // Queued behind this turn: the crossing must hold it, not let it be typed at the turn's end.
    spend(spec.id, 1);
    await k.send(spec.id, "/work 300");
    const behind = await k.send(spec.id, "queued behind the crossing turn");
    expect(behind.state).toBe("queued");
    const notice = await crossing;

    // $0.30 + $0.30 = $0.60 of $0.50: the whole subtree is paused, the notice raised once with a stable id.
    expect(notice).toMatchObject({
      kind: "budget",
      source: "budget",
      severity: "error",
      eventId: `budget:${mgr.id}:usd=0.5,tokens=-`,
      title: `Budget of ${mgr.id}'s subtree crossed: $0.6000 of $0.5000; delivery paused`,
      data: { subtree: mgr.id, instances: [mgr.id, spec.id], spent: { tokens: 2 * PER_TURN, usd: expect.closeTo(0.6, 6) }, budget: { usd: 0.5, action: "pause", source: "its spawn's budget" } },
    });
    for (const id of [mgr.id, spec.id]) expect((await k.read(id)).paused).toBe(`budget of ${mgr.id}'s subtree crossed: $0.6000 of $0.5000 (its spawn's budget)`);
    expect((await k.read(exec.id)).paused).toBeUndefined();
    // The parent is told, in its own input.
    const told = await eventually(async () => (await h.received()).find((m) => m.text.startsWith(`[tmux-claude] The budget of your child ${mgr.id}'s subtree is used up`)), 10_000, "the parent's message");
    expect(told.text).toContain("$0.6000 of $0.5000");
    // Its queued message is held; so is one sent now.
    const later = await k.send(mgr.id, "sent while paused");
    expect(later.state).toBe("queued");
    expect((await h.received()).map((m) => m.text)).not.toContain("queued behind the crossing turn");

    const refused = await rejection(k.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr.id }));
    expect(refused.code).toBe("TC_BUDGET_EXCEEDED");
    expect(refused.message).toContain(`Spawn refused: the subtree of "${mgr.id}" has spent $0.6000 of $0.5000 (its budget, from its spawn's budget)`);
    expect(refused.details).toMatchObject({ subtree: mgr.id, spent: { tokens: 2 * PER_TURN }, budget: { usd: 0.5 } });

    // A child may not raise its own budget; its parent (or a person) may.
    const tool = await budgetTool(k);
    expect((await rejection(tool.handler({ instanceId: mgr.id, usd: 5 }, { instanceId: mgr.id, role: "manager" }))).code).toBe(ErrorCodes.FORBIDDEN);
    const raised = (await tool.handler({ instanceId: mgr.id, usd: 5 }, { instanceId: exec.id, role: "executive" })) as { resumed: string[]; paused: unknown[]; text: string };
    expect(raised.resumed.sort()).toEqual([mgr.id, spec.id].sort());
    expect(raised.paused).toEqual([]);
    expect(raised.text).toContain(`${mgr.id}'s subtree: budget $5.0000, action pause (its spawn's budget)`);
    await k.waitDelivered(behind, 10_000);
    await k.waitDelivered(later, 10_000);
    const texts = (await h.received()).map((m) => m.text);
    expect(texts).toContain("queued behind the crossing turn");
    expect(texts).toContain("sent while paused");
    // Spawning under it works again; the crossing was told once.
    await k.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr.id });
    expect(notices.filter((n) => n.kind === "budget" && n.instanceId === mgr.id)).toHaveLength(1);
    await k.terminate(exec.id, { cascade: true });
  });

  test("stop terminates the subtree; notify only raises a notice", async () => {
    const k = h.kernel;
    const stopped = (await k.spawn({ role: "executive", workDir: h.workDir, budget: { tokens: 150_000, action: "stop" } })).instance;
    const child = (await k.spawn({ role: "manager", workDir: h.workDir, parentId: stopped.id })).instance;
    const notified = (await k.spawn({ role: "executive", workDir: h.workDir, budget: { tokens: 50_000, action: "notify" } })).instance;
    const stopNotice = nextNotice(notices, waiters, (n) => n.instanceId === stopped.id);
    const notifyNotice = nextNotice(notices, waiters, (n) => n.instanceId === notified.id);
    for (const id of [notified.id, stopped.id, child.id]) spend(id, 1);
    await k.send(notified.id, "/work 50");
    await k.send(stopped.id, "/work 50");
    await k.read(stopped.id, { wait: true, timeoutMs: 10_000 });
    await k.send(child.id, "/work 50");

    expect(await stopNotice).toMatchObject({ severity: "error", title: `Budget of ${stopped.id}'s subtree crossed: 200,000 of 150,000 tokens; subtree terminated` });
    await eventually(async () => !(await k.list()).some((i) => i.id === stopped.id || i.id === child.id), 15_000, "the subtree terminated");
    expect(await notifyNotice).toMatchObject({ severity: "warning", title: `Budget of ${notified.id}'s subtree crossed: 100,000 of 50,000 tokens; notice only` });
    expect((await k.read(notified.id)).paused).toBeUndefined();
    // A budget set below what was spent acts at once (a new value: a new notice).
    const tool = await budgetTool(k);
    const lowered = nextNotice(notices, waiters, (n) => n.eventId === `budget:${notified.id}:usd=-,tokens=60000`);
    const report = (await tool.handler({ instanceId: notified.id, tokens: 60_000, action: "notify" }, { instanceId: null, role: null })) as { over?: string };
    expect(report.over).toBe("100,000 of 60,000 tokens");
    expect((await lowered).title).toBe(`Budget of ${notified.id}'s subtree crossed: 100,000 of 60,000 tokens; notice only`);
    await k.terminate(notified.id);
  });

  test("bad input: the budget command and tool name the value", async () => {
    const k = h.kernel;
    const exec = (await k.spawn({ role: "executive", workDir: h.workDir })).instance;
    const command = (await k.commands()).find((c) => c.name === "budget")!;
    for (const [argv, says] of [
      [[exec.id, "--usd=-3"], "usd must be a number of US dollars, 0 or more; got -3"],
      [[exec.id, "--usd", "ten"], 'usd must be a number of US dollars, 0 or more; got "ten"'],
      [[exec.id, "--tokens", "1.5"], "tokens must be a whole number, 0 or more; got 1.5"],
      [[exec.id, "--usd", "1", "--clear"], "--clear removes the budget"],
      [[], "takes one instance id, got none"],
    ] as const) {
      const error = await rejection(command.run([...argv], k));
      expect(error.code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect(error.message).toContain(says);
    }
    const tool = await budgetTool(k);
    expect((await rejection(tool.handler({ instanceId: exec.id, usd: 1, clear: true }, { instanceId: null, role: null }))).message).toContain("clear removes the budget");
    await k.terminate(exec.id);
  });
});

test("which budgets bound an instance: its spawn's, else its role's, else the default; ancestors' too, nearest first", async () => {
  const config = parseConfig({ limits: { budget: { default: { usd: 10 }, roles: { manager: { tokens: 1000, action: "stop" } }, action: "notify" } } });
  const at = (id: string, role: string, parentId: string | null, budget?: { usd: number }) => ({ id, role, parentId, children: [], ...(budget ? { budget } : {}) }) as never;
  const instances = [at("exec-1", "executive", null), at("mgr-1", "manager", "exec-1"), at("spec-1", "specialist", "mgr-1", { usd: 1 })];
  expect((await budgetsOver(config, inList(instances), "spec-1")).map(({ root, budget }) => [(root as { id: string }).id, budget])).toEqual([
    ["spec-1", { usd: 1, action: "notify", source: "its spawn's budget" }],
    ["mgr-1", { tokens: 1000, action: "stop", source: "limits.budget.roles.manager" }],
    ["exec-1", { usd: 10, action: "notify", source: "limits.budget.default" }],
  ]);
  // Without the cost plugin the kernel does not start, naming it (before it touches tmux or the store).
  const alone = new Kernel({ config: parseConfig({ plugins: [budgets()] }), closeOnSignal: false });
  await expect(alone.start()).rejects.toMatchObject({ code: ErrorCodes.PLUGIN_MISSING_DEPENDENCY, message: expect.stringContaining('Plugin "budget" needs plugin(s) "cost"') });
  await alone.close();
  // The CLI's config gets both plugins, once.
  const plugins = withCost(withCost(parseConfig({}))).plugins.map((p) => p.name);
  expect(plugins).toEqual(["cost", "budget"]);
});
