import { afterAll, beforeAll, expect, test } from "vitest";
import { formatRead } from "../src/commands/read.js";
import { ECHO_AGENT, createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv({
    agents: {
      echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT] },
      asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\)$" },
      // Launched, exits at once: never ready.
      broken: { adapter: "command", command: process.execPath, args: ["-e", "process.exit(1)"] },
    },
    limits: { spawnTimeout: 5_000, breaker: { failures: 3, windowMs: 60_000, cooldownMs: 600_000 } },
  });
});
afterAll(async () => {
  await env?.close();
});

test("list --blocked shows a child waiting on a question, with why (table and --json)", async () => {
  const parent = parseJson<{ id: string }>(await env.run(["spawn", "executive", "--json"]));
  const child = parseJson<{ id: string }>(await env.run(["spawn", "manager", "--parent", parent.id, "--agent", "asker", "--json"]));
  expect((await env.run(["send", child.id, "/ask"])).code).toBe(0);
  const blocked = parseJson<{ id: string; blocked: string }[]>(await env.run(["list", "--blocked", "--json"]));
  expect(blocked.map((i) => [i.id, i.blocked])).toEqual([[child.id, "waiting on a question"]]);
  const table = await env.run(["list", "--blocked"]);
  expect(table.stdout).toMatch(/ID\s+ROLE\s+PARENT\s+FOR\s+WHY/u);
  expect(table.stdout).toContain(`${child.id}`);
  expect(table.stdout).toContain("waiting on a question");
  expect(table.stdout).not.toContain(`${parent.id}  executive`);
  // --tree does not combine with --blocked: said, not ignored (L8).
  const both = await env.run(["list", "--blocked", "--tree"]);
  expect(both.code).toBe(2);
  expect(both.stderr).toContain("list --blocked and --tree do not combine");
  // read says it too (the parent's blocker message points there), in text and --json.
  const read = await env.run(["read", child.id, "--lines", "3"]);
  expect(read.stdout).toContain("Blocked: waiting on a question");
  expect(parseJson<{ blocked?: string }>(await env.run(["read", child.id, "--json"])).blocked).toBe("waiting on a question");
  expect(parseJson<{ blocked?: string }>(await env.run(["read", parent.id, "--json"])).blocked).toBeUndefined();
}, 60_000);

test("read's text shows a stalled instance's flag (since) and why", () => {
  const text = formatRead({
    id: "exec-1.spec-1",
    status: "busy",
    screen: "",
    queued: 0,
    stalled: { since: "2026-01-01T00:00:00.000Z", why: "busy with no event from its agent and no output for 5m 0s" },
    blocked: "stalled: busy with no event from its agent and no output for 5m 0s",
  });
  expect(text.split("\n").slice(0, 2)).toEqual([
    "exec-1.spec-1: busy (stalled since 2026-01-01T00:00:00.000Z)",
    "Blocked: stalled: busy with no event from its agent and no output for 5m 0s",
  ]);
});

test("three failed spawns open the agent's breaker: the fourth exits 4 at once quoting them; doctor lists and resets it", async () => {
  for (let i = 0; i < 3; i++) {
    const failed = await env.run(["spawn", "executive", "--agent", "broken"]);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).not.toContain("circuit breaker");
  }
  const refused = await env.run(["spawn", "executive", "--agent", "broken"]);
  expect(refused.code, refused.stderr).toBe(4);
  console.log(`cli: the spawn refused by the open breaker exited 4 after ${refused.ms} ms (the CLI process's start and config load included)`);
  expect(refused.stderr).toContain('the circuit breaker of agent "broken" is open');
  expect(refused.stderr).toContain("tmux-claude doctor --reset-breakers broken");
  expect(refused.stderr.match(/^ {2}- .*exec-\d+: TC_/gmu)).toHaveLength(3);

  // doctor reads the breakers from the store (no tmux needed).
  const doctor = await env.run(["doctor", "--json"]);
  const report = parseJson<{ checks: { name: string; ok: boolean; detail: string; fix?: string }[] }>(doctor);
  const breakers = report.checks.find((check) => check.name === "breakers")!;
  expect(breakers).toMatchObject({ ok: false });
  expect(breakers.detail).toContain('agent "broken": open since');
  expect(breakers.fix).toContain("tmux-claude doctor --reset-breakers broken");
  expect(doctor.code).toBe(1);

  const reset = await env.run(["doctor", "--reset-breakers", "broken"]);
  expect(reset.stdout).toContain('Reset the circuit breaker of "broken".');
  expect(reset.stdout).toMatch(/ok\s+breakers\s+no open circuit breaker/u);
  // Closed: the next spawn is tried (the agent's own failure again, exit 1).
  expect((await env.run(["spawn", "executive", "--agent", "broken"])).code).toBe(1);
}, 120_000);
