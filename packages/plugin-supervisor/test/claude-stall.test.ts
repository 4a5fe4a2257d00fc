import { afterAll, expect, test } from "vitest";
import { claude } from "@tmux-claude/agent-claude";
import { createClaudeHarness, match, type ClaudeHarness } from "@tmux-claude/testkit";
import { supervisor } from "../src/index.js";
import { blockerMessages, untilRecord } from "./helpers.js";

/** Short, so the test is: Claude Code's spinner redraws every ~110 ms, far inside it. */
const STALL_MS = 2_000;

let h: ClaudeHarness | undefined;
afterAll(async () => {
  await h?.close();
});

test("real Claude Code: a Bash command shorter than its timeout is not a stall; a model reply that hangs is, although the spinner keeps printing", async () => {
  h = await createClaudeHarness({
    adapterPlugin: claude(),
    // Bash runs without asking: the test is about silence, not permissions.
    agent: { args: ["--allowedTools", "Bash"] },
    config: { supervision: { stallAfterMs: STALL_MS }, plugins: [supervisor()] },
  });
  const { kernel } = h;
  const { instance: parent } = await kernel.spawn({ role: "manager", workDir: h.workDir, agent: "echo" });
  const { instance: child } = await kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: parent.id });

  // A command silent for 2.5 x stallAfterMs, well inside Bash's default timeout (2 min): PreToolUse said to expect it.
  h.model.rule({ name: "slow", when: match.lastUserTextIncludes("run the slow command"), reply: { toolUse: { name: "Bash", input: { command: "sleep 5", description: "Wait 5 s" } } }, times: 1 });
  h.model.rule({ name: "slow-done", when: match.hasToolResult(), reply: { text: "Slept." }, times: 1 });
  await kernel.send(child.id, "run the slow command");
  expect(await kernel.read(child.id, { wait: true, timeoutMs: 30_000 })).toMatchObject({ status: "idle", lastReply: "Slept." });
  expect(await blockerMessages(kernel, parent.id, child.id)).toEqual([]);

  // The model's reply hangs 4 x stallAfterMs: no hook fires, only the spinner and its timer redraw.
  h.model.rule({ name: "hang", when: match.lastUserTextIncludes("please hang here"), reply: { text: "Finally.", delayMs: STALL_MS * 4 }, times: 1 });
  const sentAt = Date.now();
  await kernel.send(child.id, "please hang here");
  const stalled = await untilRecord(kernel, child.id, (r) => r.stalled !== undefined, STALL_MS * 3);
  const stallMs = Date.now() - sentAt;
  console.log(`claude-stall: flagged stalled ${stallMs} ms after the prompt (stallAfterMs ${STALL_MS})`);
  expect(stalled.status).toBe("busy");
  expect(stallMs).toBeGreaterThanOrEqual(STALL_MS);
  const told = await untilRecord(kernel, parent.id, (r) => (r.messages ?? []).some((m) => m.text.startsWith(`[supervisor] ${child.id} `)));
  expect(told.messages!.filter((m) => m.text.startsWith(`[supervisor] ${child.id} `))).toHaveLength(1);
  // The reply comes: the turn ends and the flag goes with it.
  const done = await untilRecord(kernel, child.id, (r) => r.status === "idle", STALL_MS * 6);
  expect(done.stalled).toBeUndefined();
}, 120_000);
