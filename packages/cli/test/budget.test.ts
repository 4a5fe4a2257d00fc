// The CLI's part of budgets and holds: spawn --budget-*, resume, budget, and
// list/read showing a paused instance (here paused by limits.maxTurns: 1).
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv({ limits: { maxTurns: 1, sendTimeout: 5_000 } });
});
afterAll(async () => {
  await env?.close();
});

const received = async () =>
  (await readFile(env.log, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { text: string }).text);

test("spawn --budget-usd/--budget-tokens/--budget-action store the budget; bad values are refused naming them", async () => {
  const spawned = await env.run(["spawn", "executive", "--budget-usd", "2.5", "--budget-tokens", "100000", "--budget-action", "notify", "--json"]);
  expect(spawned.stderr).toBe("");
  const record = parseJson<{ id: string; budget: unknown }>(spawned);
  expect(record.budget).toEqual({ usd: 2.5, tokens: 100000, action: "notify" });

  const shown = parseJson<{ budget: unknown; spent: unknown }>(await env.run(["budget", record.id, "--json"]));
  expect(shown).toMatchObject({ budget: { usd: 2.5, tokens: 100000, action: "notify", source: "its spawn's budget" }, spent: { tokens: 0, usd: 0 } });
  const raised = await env.run(["budget", record.id, "--usd", "10"]);
  expect(raised.code).toBe(0);
  expect(raised.stdout).toContain(`${record.id}'s subtree: budget $10.0000, action pause (its spawn's budget)`);

  for (const [args, says] of [
    [["--budget-usd", "abc"], '--budget-usd needs a number of US dollars, 0 or more; got "abc".'],
    [["--budget-usd=-1"], '--budget-usd needs a number of US dollars, 0 or more; got "-1".'],
    [["--budget-tokens", "1.5"], '--budget-tokens needs a whole number of tokens, 0 or more; got "1.5".'],
    [["--budget-action", "stop"], "--budget-action needs --budget-usd and/or --budget-tokens"],
  ] as const) {
    const bad = await env.run(["spawn", "executive", ...args]);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain(says);
  }
  const help = await env.run(["budget", "--help"]);
  expect(help.stdout).toMatch(/^Usage: tmux-claude budget <id> \[--usd <dollars>\]/u);
  const badBudget = await env.run(["budget", record.id, "--tokens", "lots"]);
  expect(badBudget.code).toBe(2);
  expect(badBudget.stderr).toContain('tokens must be a whole number, 0 or more; got "lots"');
  await env.run(["terminate", record.id]);
});

test("a paused instance: list and read show it, send queues, resume delivers", async () => {
  const id = parseJson<{ id: string }>(await env.run(["spawn", "executive", "--json"])).id;
  // One turn, the cap: the next message is held.
  expect((await env.run(["send", id, "/work 100"])).code).toBe(0);
  const read = await env.run(["read", id, "--wait"]);
  expect(read.stdout).toContain(`Paused: turn cap reached: 1 turns, limits.maxTurns is 1. Messages wait in its queue until tmux-claude resume ${id}.`);
  expect((await env.run(["list"])).stdout).toMatch(new RegExp(`^${id} +executive +idle \\(paused\\)`, "mu"));
  const now = await env.run(["send", id, "--when-busy", "now", "typed now"]);
  expect(now.code).toBe(1);
  expect(now.stderr).toContain(`Instance "${id}" is paused (turn cap reached: 1 turns, limits.maxTurns is 1)`);
  const queued = await env.run(["send", id, "after the cap"]);
  expect(queued.stdout.replace(/, message \S+, thread \S+\)/u, ")")).toBe(`queued (position 1); ${id} is paused (turn cap reached: 1 turns, limits.maxTurns is 1): it is delivered once it is resumed (tmux-claude resume ${id})\n`);
  expect(await received()).not.toContain("after the cap");

  const resumed = await env.run(["resume", id]);
  expect(resumed.stdout).toBe(`Resumed ${id}. Delivered 1 queued message.\n`);
  expect(await received()).toContain("after the cap");
  // Its one more turn reached the cap again: paused, and resumable again.
  expect((await env.run(["read", id, "--wait"])).stdout).toContain("Paused: turn cap reached: 1 turns");
  expect(parseJson<{ resumed: boolean }>(await env.run(["resume", id, "--json"]))).toEqual({ id, resumed: true, delivered: 0 });
  expect(parseJson<{ resumed: boolean }>(await env.run(["resume", id, "--json"]))).toEqual({ id, resumed: false });
  await env.run(["terminate", id]);
});
