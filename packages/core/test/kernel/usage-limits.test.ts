// Usage limits in the kernel, through the adapter contract (setStatus
// "limited" with limitedUntil): the reset by a timer (no continue message
// without resumeOnReset; queued messages delivered then), spawns onto a
// limited account waiting for the reset or refused with it, accounts shared
// by agents that name the same one.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCodes, commandAdapter, definePlugin, safeParseConfig, type DriverContext, type InstanceStatus, type Kernel, type StatusChange, type StatusReport } from "../../src/index.js";
import { ECHO_AGENT, createHarness, type Harness } from "@tmux-claude/testkit";
import { expectError } from "../helpers/expect-error.js";

/**
 * The command adapter, whose drivers' contexts the test keeps: it reports the
 * usage limit as an adapter would. While limited, the echo agent's idle
 * prompt on the screen is no news (a limited agent shows its prompt too).
 */
const contexts = new Map<string, DriverContext>();
const limiting = definePlugin({
  name: "limiting-agent",
  setup(ctx) {
    ctx.registerAdapter({
      name: "limiting",
      optionsSchema: commandAdapter.optionsSchema,
      launch: (launch) => commandAdapter.launch(launch),
      drive: (drive) => {
        contexts.set(drive.instanceId, drive);
        const screenOnly: DriverContext = Object.create(drive, {
          setStatus: { value: (status: InstanceStatus, report?: StatusReport) => (drive.status() === "limited" && status === "idle" ? undefined : drive.setStatus(status, report)) },
        });
        return commandAdapter.drive(screenOnly);
      },
    });
  },
});

const agent = (extra: Record<string, unknown> = {}) => ({ adapter: "limiting", command: process.execPath, args: [ECHO_AGENT], ...extra });
let h: Harness;
const changes: StatusChange[] = [];
beforeAll(async () => {
  h = await createHarness(
    {
      defaultAgent: "worker",
      // helper shares worker's account; other has its own (its agent name).
      agents: { worker: agent(), helper: agent({ account: "worker" }), other: agent() },
      plugins: [limiting()],
    },
    { start: false },
  );
  await h.startKernel({ watch: "all", beforeStart: (kernel) => kernel.hooks.statusChange.tap("test", (change) => void changes.push(change)) });
});
afterAll(async () => {
  await h?.close();
});

/** Resolves with the change once the statusChange hook fired one of `id` that `accept` takes. */
function nextChange(id: string, accept: (change: StatusChange) => boolean, timeoutMs = 10_000): Promise<StatusChange> {
  const since = changes.length;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such status change of ${id} within ${timeoutMs} ms`)), timeoutMs);
    h.kernel.hooks.statusChange.tap("test-next", (change) => {
      const found = changes.slice(since).find((c) => c.instance.id === id && accept(c)) ?? (change.instance.id === id && accept(change) ? change : undefined);
      if (!found) return;
      clearTimeout(timer);
      resolve(found);
    });
  });
}

/** Spawn an instance and report its usage limit, resetting `inMs` from now (whole milliseconds as ISO). */
async function limitedInstance(agentName: string, inMs: number): Promise<{ id: string; until: string }> {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: agentName });
  const until = new Date(Date.now() + inMs).toISOString();
  const limited = nextChange(instance.id, (c) => c.to === "limited");
  contexts.get(instance.id)!.setStatus("limited", { reason: "the account hit its usage limit", limitedUntil: until });
  await limited;
  return { id: instance.id, until };
}

describe("usage limits in the kernel", () => {
  test("the record says until when; a message queues; at the reset the instance is idle (no continue message without resumeOnReset) and the queue is delivered", async () => {
    const { id, until } = await limitedInstance("worker", 2_500);
    expect(await h.kernel.get(id)).toMatchObject({ status: "limited", limitedUntil: until, statusReason: "the account hit its usage limit" });
    expect((await h.kernel.read(id)).limitedUntil).toBe(until);
    const receipt = await h.kernel.send(id, "after the limit");
    expect(receipt.state).toBe("queued");

    const reset = await nextChange(id, (c) => c.from === "limited", 10_000);
    expect(reset.to).toBe("idle");
    expect(Date.parse(reset.at)).toBeGreaterThanOrEqual(Date.parse(until));
    expect(reset.instance.limitedUntil).toBeUndefined();
    await h.kernel.waitDelivered(receipt, 10_000);
    const messages = (await h.kernel.get(id)).messages ?? [];
    expect(messages.map((m) => [m.text, m.state])).toEqual([["after the limit", "delivered"]]);
  }, 30_000);

  test('spawn "wait": a spawn of the same account (another agent naming it) waits until the reset; another account spawns at once', async () => {
    const { until } = await limitedInstance("worker", 2_500);
    const started = Date.now();
    await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "other" });
    expect(Date.now()).toBeLessThan(Date.parse(until));
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "helper" });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(instance.status).toBe("idle");
  }, 30_000);

  test('spawn "fail": refused with the account, the reset time and the limited instances; the kernel goes on', async () => {
    let failing!: Kernel;
    failing = await h.startKernel({ watch: "on-demand", config: { limits: { usage: { spawn: "fail" } } } });
    const { id, until } = await limitedInstance("worker", 4_000);
    const error = await expectError(failing.spawn({ role: "executive", workDir: h.workDir, agent: "helper" }), ErrorCodes.USAGE_LIMITED, 'Account "worker"', until, id, 'limits.usage.spawn to "wait"');
    expect(error.details).toMatchObject({ account: "worker", agent: "helper", until });
    expect((await failing.spawn({ role: "executive", workDir: h.workDir, agent: "other" })).instance.status).toBe("idle");
    await failing.close();
  }, 30_000);
});

test("a bad limits.usage value or account is a config issue at its key", () => {
  const issuePaths = (input: Record<string, unknown>) => {
    const result = safeParseConfig(input);
    return result.success ? [] : result.error.issues.map((issue) => issue.path.join("."));
  };
  expect(issuePaths({ limits: { usage: { spawn: "later" } } })).toEqual(["limits.usage.spawn"]);
  expect(issuePaths({ limits: { usage: { continueMessage: "  " } } })).toEqual(["limits.usage.continueMessage"]);
  expect(issuePaths({ limits: { usage: { unknownResetMs: -1 } } })).toEqual(["limits.usage.unknownResetMs"]);
  expect(issuePaths({ agents: { a: { command: "x", account: "" } } })).toEqual(["agents.a.account"]);
});

describe("without serve", () => {
  let solo: Harness;
  beforeAll(async () => {
    solo = await createHarness({ defaultAgent: "worker", agents: { worker: agent() }, plugins: [limiting()] }, { start: false });
  });
  afterAll(async () => {
    await solo?.close();
  });

  test("a one-shot kernel that attaches to a limited instance arms its reset: the one that saw the limit closed before it", async () => {
    const first = await solo.startKernel({ watch: "on-demand" });
    const { instance } = await first.spawn({ role: "executive", workDir: solo.workDir });
    const until = new Date(Date.now() + 2_000).toISOString();
    contexts.get(instance.id)!.setStatus("limited", { limitedUntil: until });
    await first.close();
    expect(await (await solo.startKernel({ watch: "on-demand" })).get(instance.id)).toMatchObject({ status: "limited", limitedUntil: until });

    const reset = new Promise<StatusChange>((resolve, reject) => {
      setTimeout(() => reject(new Error("the limit was not reset within 10 s (no process armed its timer)")), 10_000).unref();
      void solo.startKernel({ watch: "on-demand", beforeStart: (kernel) => kernel.hooks.statusChange.tap("test", (change) => void (change.from === "limited" && resolve(change))) }).then(
        // A command that touches the instance (read attaches to it) arms the timer.
        (kernel) => kernel.read(instance.id),
      );
    });
    const change = await reset;
    expect(change).toMatchObject({ to: "idle", instance: { id: instance.id } });
    expect(Date.parse(change.at)).toBeGreaterThanOrEqual(Date.parse(until));
  }, 30_000);
});
