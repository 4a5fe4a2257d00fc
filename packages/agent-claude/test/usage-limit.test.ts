/**
 * Usage limits with the real Claude Code against the stand-in model: a turn
 * the model refuses with a 429 rate_limit_error carrying a reset a few
 * seconds ahead puts the instance in status limited with that reset time;
 * with limits.usage.resumeOnReset it gets the continue message at the reset
 * (a timer, no polling) and goes on by itself; also when the kernel that saw
 * the limit closed and a new serve started before the reset.
 */
import { match, usageLimitReply, type RecordedRequest } from "@tmux-claude/testkit";
import type { Kernel } from "@tmux-claude/core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createClaudeHarness, statusLog, type ClaudeHarness, type StatusLog } from "./helpers.js";

const RESET_IN_MS = 5_000;
const CONTINUE = "go on after the limit";

let h: ClaudeHarness;
let log: StatusLog;
beforeAll(async () => {
  h = await createClaudeHarness({
    config: { limits: { spawnTimeout: 30_000, sendTimeout: 15_000, usage: { resumeOnReset: true, continueMessage: CONTINUE } } },
  });
  log = statusLog(h.kernel);
  h.model.rule({ name: "after the limit", when: match.lastUserTextIncludes(CONTINUE), reply: { text: "Carried on after the limit." } });
}, 300_000);
afterAll(async () => {
  await h?.close();
});

/** A rule that refuses the prompt once with a usage limit resetting RESET_IN_MS after the refusal; `resets` gets the reset as the API said it (whole seconds). */
function limitOnce(prompt: string, resets: Date[]): void {
  h.model.rule({
    name: `limit ${prompt}`,
    when: match.lastUserTextIncludes(prompt),
    times: 1,
    reply: () => {
      const at = new Date(Math.ceil((Date.now() + RESET_IN_MS) / 1000) * 1000);
      resets.push(at);
      return usageLimitReply(at);
    },
  });
}

/** Resolves once the instance answered the continue message (an idle whose reply is the model's answer to it). */
function carriedOn(on: StatusLog, id: string, since: number): Promise<void> {
  return on.until((changes) => changes.slice(since).some((c) => c.id === id && c.to === "idle" && c.record.lastReply === "Carried on after the limit."), RESET_IN_MS + 30_000);
}

/** The main-turn requests the continue rule answered (since request index `from`). */
const continueRequests = (from = 0): RecordedRequest[] => h.model.requests.slice(from).filter((r) => (r.body.tools?.length ?? 0) > 0 && r.rule === "after the limit");

test("a usage limit: limited until the reset, then the continue message by itself, and the model answers it", async () => {
  const resets: Date[] = [];
  limitOnce("first task", resets);

  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "first task" });
  // read --wait ends at the limit (it does not hang until the reset) and says until when.
  const limited = await h.kernel.read(instance.id, { wait: true, timeoutMs: 20_000 });
  expect(limited).toMatchObject({ status: "limited", limitedUntil: resets[0]!.toISOString() });
  expect(limited.statusReason).toMatch(/rate_limit.*usage limit reached/u);
  expect((await h.kernel.list({ status: "limited" })).map((i) => i.id)).toEqual([instance.id]);

  const since = log.changes.length;
  await carriedOn(log, instance.id, since);
  // The limit was left at its reset, by the timer, not before; then the continue message reached the model once.
  const reset = log.changes.slice(since).find((c) => c.id === instance.id && c.from === "limited")!;
  expect(reset).toMatchObject({ to: "idle", reason: expect.stringContaining("usage limit reset") });
  expect(reset.at).toBeGreaterThanOrEqual(resets[0]!.getTime());
  expect(reset.record.limitedUntil).toBeUndefined();
  expect(continueRequests()).toHaveLength(1);
  expect(continueRequests()[0]!.receivedAt).toBeGreaterThanOrEqual(resets[0]!.getTime());
  expect((await h.kernel.read(instance.id)).limitedUntil).toBeUndefined();
}, 90_000);

test("a subscription's limit notice in place of a reply (a Stop, no StopFailure) is a usage limit too", async () => {
  let resetAt!: Date;
  h.model.rule({
    name: "notice",
    when: match.lastUserTextIncludes("third task"),
    times: 1,
    reply: () => {
      resetAt = new Date(Math.ceil((Date.now() + RESET_IN_MS) / 1000) * 1000);
      return { text: `Claude AI usage limit reached|${resetAt.getTime() / 1000}` };
    },
  });
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "third task" });
  expect(await h.kernel.read(instance.id, { wait: true, timeoutMs: 20_000 })).toMatchObject({ status: "limited", limitedUntil: resetAt.toISOString() });
  const since = log.changes.length;
  await carriedOn(log, instance.id, since);
  expect(log.changes.slice(since).find((c) => c.id === instance.id && c.from === "limited")!.at).toBeGreaterThanOrEqual(resetAt.getTime());
}, 90_000);

test("the kernel that saw the limit closes; a new serve re-arms the reset from the store and continues, once, with a one-shot kernel attached too", async () => {
  const resets: Date[] = [];
  limitOnce("second task", resets);
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "second task" });
  expect(await h.kernel.read(instance.id, { wait: true, timeoutMs: 20_000 })).toMatchObject({ status: "limited", limitedUntil: resets[0]!.toISOString() });
  const from = h.model.requests.length;
  await h.kernel.close();
  // Closed well before the reset: the timer it had is gone; the record keeps the time.
  expect(Date.now()).toBeLessThan(resets[0]!.getTime() - 1_000);

  let served!: StatusLog;
  const serve: Kernel = await h.startKernel({}, (kernel) => void (served = statusLog(kernel)), "all");
  expect((await serve.get(instance.id)).status).toBe("limited");
  // A one-shot kernel attached to the instance arms a timer as well: the reset is still applied once.
  const oneShot = await h.startKernel({}, undefined, "on-demand");
  expect(await oneShot.read(instance.id)).toMatchObject({ status: "limited", limitedUntil: resets[0]!.toISOString() });

  await carriedOn(served, instance.id, 0);
  const reset = served.changes.find((c) => c.id === instance.id && c.from === "limited")!;
  expect(reset.at).toBeGreaterThanOrEqual(resets[0]!.getTime());
  expect(continueRequests(from)).toHaveLength(1);
  expect((await serve.read(instance.id)).lastReply).toBe("Carried on after the limit.");
  await oneShot.close();
}, 90_000);
