// The usage the kernel announces after a turn is stored on the record, so
// list() and read() in any process (a dashboard in serve) show it.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { TokenUsage, UsageUpdate } from "../../src/index.js";
import { ECHO_AGENT, countingAgent, countingUsage, createHarness, eventually, type Harness } from "@tmux-claude/testkit";

/** What the counting adapter reports (the record has none until a turn's usage was announced). */
const COUNT: TokenUsage = { inputTokens: 120, outputTokens: 12, cacheCreationInputTokens: 3, cacheReadInputTokens: 4, model: "counting-1", costUsd: 0.0125 };
countingUsage.set("*", COUNT);

let h: Harness;
const updates: UsageUpdate[] = [];
beforeAll(async () => {
  h = await createHarness(
    { defaultAgent: "counter", agents: { counter: { adapter: "counting", command: process.execPath, args: [ECHO_AGENT] } }, plugins: [countingAgent()] },
    { start: false },
  );
  await h.startKernel({ watch: "all", beforeStart: (kernel) => kernel.hooks.usage.tap("test", (update) => void updates.push(update)) });
});
afterAll(async () => {
  await h?.close();
});

test("the announced usage is on the record: list() and read() of another process show it, and the usage hook's instance has it", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  const cli = await h.startKernel({ watch: "on-demand" });
  expect((await cli.list()).find((i) => i.id === instance.id)?.usage).toBeUndefined();
  await cli.send(instance.id, "/work 50");
  const update = await eventually(() => updates.find((u) => u.instanceId === instance.id), 10_000, "a usage update");
  expect(update.usage).toEqual(COUNT);
  expect(update.instance.usage).toEqual(COUNT);
  // Stored before the hook fired: another process reads it at once.
  const listed = (await cli.list()).find((i) => i.id === instance.id);
  expect(listed?.usage).toEqual(COUNT);
  // After the instance is gone from tmux, read still shows the last usage announced.
  await h.tmux("kill-session", "-t", `=${instance.tmux.session}`);
  await eventually(async () => (await h.kernel.get(instance.id)).status === "exited", 5_000, "exited");
  expect((await cli.read(instance.id)).usage).toEqual(COUNT);
  await cli.close();
});
