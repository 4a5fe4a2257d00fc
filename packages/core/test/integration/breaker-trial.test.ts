import { afterEach, expect, test, vi } from "vitest";
import { ErrorCodes, TmuxClaudeError, type StateStore } from "../../src/index.js";
import { createHarness, type Harness } from "@tmux-claude/testkit";

let h: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await h?.close();
  h = undefined;
});

/** A broken agent `flaky` (exits at once) sharing the account `acct` with the echo agent; its breaker opens after 3 failures. */
async function harness(cooldownMs: number, usageSpawn: "fail" | "wait" = "fail"): Promise<Harness> {
  h = await createHarness({}, { start: false, label: "breaker-trial" });
  const echo = (h.userConfig.agents as Record<string, { command: string }>).echo!;
  await h.startKernel({
    config: {
      limits: { spawnTimeout: 5_000, usage: { spawn: usageSpawn }, breaker: { failures: 3, windowMs: 60_000, cooldownMs } },
      agents: {
        ...h.userConfig.agents,
        echo: { ...echo, account: "acct" },
        flaky: { adapter: "command", command: process.execPath, args: ["-e", "process.exit(1)"], account: "acct" },
      },
    },
  });
  return h;
}

/** Waits for a moment the breaker names (its closesAt): a timer to that time, no polling. */
const until = (iso: string) => new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(iso) - Date.now()) + 5));

test("a spawn the usage limit refuses after the cooldown does not take the half-open trial: the next spawn is the trial", async () => {
  const h = await harness(500);
  const kernel = h.kernel;
  const store = (kernel as unknown as { store: StateStore }).store;
  // Each of these spawns fails: resolves with its error.
  const flaky = () => kernel.spawn({ role: "executive", workDir: h.workDir, agent: "flaky" }).then(() => new Error("spawned") as TmuxClaudeError, (e: unknown) => e as TmuxClaudeError);
  for (let i = 0; i < 3; i++) await flaky();
  const [open] = await kernel.breakers();
  expect(open!.state).toBe("open");
  // An instance of the same account is at its usage limit (limits.usage.spawn "fail" refuses spawns of that account).
  const { instance: echo } = await kernel.spawn({ role: "executive", workDir: h.workDir, agent: "echo" });
  await store.update(echo.id, (r) => ({ ...r, status: "limited", limitedUntil: new Date(Date.now() + 60_000).toISOString() }));
  await until(open!.closesAt!);

  expect((await flaky()).code).toBe(ErrorCodes.USAGE_LIMITED);
  // The breaker is as it was: open and due, no trial claimed.
  expect((await kernel.breakers())[0]).toMatchObject({ state: "open", closesAt: open!.closesAt });

  await store.update(echo.id, (r) => ({ ...r, status: "idle", limitedUntil: undefined }));
  // The limit lifted: this spawn is the trial (it tries the agent, which fails: not refused as half-open), and re-opens it.
  const trial = await flaky();
  expect(trial.code).not.toBe(ErrorCodes.BREAKER_OPEN);
  const [reopened] = await kernel.breakers();
  expect(reopened!.state).toBe("open");
  expect(Date.parse(reopened!.openedAt!)).toBeGreaterThan(Date.parse(open!.openedAt!));
}, 60_000);

test("tmux failing to create the session does not count against the agent's breaker", async () => {
  const h = await harness(60_000);
  const kernel = h.kernel;
  vi.spyOn(kernel.runtime, "createSession").mockRejectedValue(new TmuxClaudeError(ErrorCodes.TMUX_COMMAND_FAILED, "tmux new-session failed (scripted)", { tmuxError: "server exited unexpectedly" }));
  for (let i = 0; i < 4; i++) {
    const error = (await kernel.spawn({ role: "executive", workDir: h.workDir, agent: "echo" }).catch((e: unknown) => e)) as TmuxClaudeError;
    expect(error.code).toBe(ErrorCodes.TMUX_COMMAND_FAILED);
  }
  expect(await kernel.breakers()).toEqual([]);
  vi.restoreAllMocks();
  // tmux works again: the agent spawns (its breaker never opened).
  expect((await kernel.spawn({ role: "executive", workDir: h.workDir, agent: "echo" })).instance.status).not.toBe("exited");
}, 60_000);
