// The breaker's counting, on the in-memory store (no tmux): the window, a threshold above the quoted five, the trial claim.
import { expect, test } from "vitest";
import { Breakers } from "../../src/instances/breaker.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import { ErrorCodes, parseConfig, TmuxClaudeError } from "../../src/index.js";
import { expectError } from "../helpers/expect-error.js";

const launchedFailure = (n: number) => new TmuxClaudeError(ErrorCodes.SPAWN_FAILED, `agent exited (${n})\nits screen...`);

function breakers(breaker: { failures: number; windowMs: number; cooldownMs: number }) {
  const store = new MemoryStore();
  return { store, b: new Breakers(store, parseConfig({ limits: { breaker } })) };
}

test("failures older than the window do not count; seven failures open a breaker set to seven, quoting the last five", async () => {
  const { b } = breakers({ failures: 7, windowMs: 10_000, cooldownMs: 5_000 });
  const t0 = 1_000_000;
  const ticket = await b.check("x", t0);
  for (let i = 0; i < 3; i++) await b.failed(ticket, `exec-${i}`, launchedFailure(i), true, t0 + i);
  // Out of the window by now: these three are forgotten.
  const later = t0 + 20_000;
  for (let i = 3; i < 9; i++) await b.failed(ticket, `exec-${i}`, launchedFailure(i), true, later + i);
  expect((await b.list())[0]).toMatchObject({ state: "closed" });
  expect((await b.list())[0]!.failures).toHaveLength(6);
  await b.failed(ticket, "exec-9", launchedFailure(9), true, later + 9);
  const [open] = await b.list();
  expect(open).toMatchObject({ state: "open", failures: expect.any(Array) });
  const error = await expectError(b.check("x", later + 10), ErrorCodes.BREAKER_OPEN, "after 7 failed spawns", "exec-9: TC_SPAWN_FAILED: agent exited (9)");
  expect(error.message).not.toContain("exec-4:");
  expect(error.message).not.toContain("its screen");
});

test("a quoted failure keeps its reason: no dangling 'Its screen:', and the screen's last line when the reason has no output", async () => {
  const { b } = breakers({ failures: 2, windowMs: 10_000, cooldownMs: 5_000 });
  const ticket = await b.check("x");
  const exited = (reason: string, screen: string) =>
    new TmuxClaudeError(ErrorCodes.SPAWN_FAILED, `Instance "exec-1" (agent x) did not become ready: it is exited (${reason}). Its screen:\n  | ${screen}`, { screen });
  await b.failed(ticket, "exec-1", exited("the agent exited; its last output: boom", "boom"), true);
  await b.failed(ticket, "exec-2", exited("the agent exited", "boom\n\n"), true);
  const error = await expectError(b.check("x"), ErrorCodes.BREAKER_OPEN);
  expect(error.message).toContain('exec-1: TC_SPAWN_FAILED: Instance "exec-1" (agent x) did not become ready: it is exited (the agent exited; its last output: boom).\n');
  expect(error.message).toContain('exec-2: TC_SPAWN_FAILED: Instance "exec-1" (agent x) did not become ready: it is exited (the agent exited). Last line on its screen: boom\n');
  expect(error.message).not.toContain("Its screen:");
});

test("not launched (a refusal) does not count; after the cooldown one spawn is the trial and the others are refused until it reports", async () => {
  const { b } = breakers({ failures: 1, windowMs: 10_000, cooldownMs: 5_000 });
  const t0 = 2_000_000;
  const ticket = await b.check("x", t0);
  await b.failed(ticket, "exec-1", new TmuxClaudeError(ErrorCodes.MAX_INSTANCES, "too many"), false, t0);
  expect(await b.list()).toEqual([]);
  await b.failed(ticket, "exec-1", launchedFailure(1), true, t0);
  await expectError(b.check("x", t0 + 1), ErrorCodes.BREAKER_OPEN, "lets a trial spawn through");
  const trial = await b.check("x", t0 + 5_000);
  expect(trial).toEqual({ agent: "x", trial: true });
  await expectError(b.check("x", t0 + 5_001), ErrorCodes.BREAKER_OPEN, "half-open", "a trial spawn began");
  // The trial refused before it launched (a plugin): the next spawn may try.
  await b.failed(trial, "-", new Error("refused"), false, t0 + 5_002);
  const next = await b.check("x", t0 + 5_003);
  expect(next.trial).toBe(true);
  await b.succeeded(next);
  expect(await b.list()).toEqual([]);
  expect(await b.check("x", t0 + 5_004)).toEqual({ agent: "x", trial: false });
});

test("reset closes one agent's breaker or every one; limits.breaker false never refuses", async () => {
  const { b } = breakers({ failures: 1, windowMs: 10_000, cooldownMs: 60_000 });
  for (const agent of ["a", "c"]) await b.failed(await b.check(agent), `${agent}-1`, launchedFailure(1), true);
  expect(await b.reset("a")).toEqual(["a"]);
  expect((await b.list()).map((x) => x.agent)).toEqual(["c"]);
  expect(await b.reset()).toEqual(["c"]);
  expect(await b.reset()).toEqual([]);
  const off = new Breakers(new MemoryStore(), parseConfig({ limits: { breaker: false } }));
  await off.failed(await off.check("a"), "a-1", launchedFailure(1), true);
  expect(await off.list()).toEqual([]);
});
