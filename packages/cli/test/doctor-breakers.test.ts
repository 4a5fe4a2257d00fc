import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  // Only a broken agent: its failed spawns leave no session, so no tmux server runs on the socket afterwards.
  env = await createEnv({
    agents: { broken: { adapter: "command", command: process.execPath, args: ["-e", "process.exit(1)"] } },
    limits: { spawnTimeout: 5_000, breaker: { failures: 3, windowMs: 60_000, cooldownMs: 600_000 } },
  });
});
afterAll(async () => {
  await env?.close();
});

/** Whether a tmux server answers on the test's socket. */
const serverRuns = () => promisify(execFile)("tmux", ["-L", env.socket, "list-sessions"]).then(() => true, () => false);

test("doctor lists and resets breakers with no tmux server running, starting none; resetting an unknown agent is a usage error naming the configured ones", async () => {
  for (let i = 0; i < 3; i++) expect((await env.run(["spawn", "executive", "--agent", "broken"])).code).toBe(1);
  expect((await env.run(["spawn", "executive", "--agent", "broken"])).code).toBe(4);
  expect(await serverRuns()).toBe(false);

  const doctor = await env.run(["doctor", "--json"]);
  const breakers = parseJson<{ checks: { name: string; ok: boolean; detail: string; fix?: string }[] }>(doctor).checks.find((check) => check.name === "breakers")!;
  expect(breakers).toMatchObject({ ok: false });
  expect(breakers.detail).toContain('agent "broken": open since');
  expect(breakers.fix).toContain("tmux-claude doctor --reset-breakers broken");
  expect(doctor.code).toBe(1);
  // No serve runs here: its line says stalls go undetected (L12).
  const serve = parseJson<{ checks: { name: string; detail: string }[] }>(doctor).checks.find((check) => check.name === "serve")!;
  expect(serve.detail).toContain("stalled instances are not detected (the stall watcher runs in serve)");

  const unknown = await env.run(["doctor", "--reset-breakers", "brokne"]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('Unknown agent "brokne" for --reset-breakers');
  expect(unknown.stderr).toMatch(/Configured agents: .*broken/u);
  expect(unknown.stdout).not.toContain("No open circuit breaker");

  const reset = await env.run(["doctor", "--reset-breakers", "broken"]);
  expect(reset.stdout).toContain('Reset the circuit breaker of "broken".');
  expect(reset.stdout).toMatch(/ok\s+breakers\s+no open circuit breaker/u);
  expect(await serverRuns()).toBe(false);
}, 120_000);
