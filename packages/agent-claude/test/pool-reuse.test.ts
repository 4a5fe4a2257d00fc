/**
 * Warm pools and reuse with the real Claude Code against the stand-in model:
 * a specialist spawned under a manager is taken from the pool (its prompt
 * answered), and a spawn with reuse "idle" gets the same instance back after
 * `/clear`, confirmed by Claude Code's SessionStart hook (source "clear"):
 * the model's next request holds none of the earlier turns.
 */
import { eventually, lastUserText, match } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { InstanceSummary, Kernel } from "@tmux-claude/core";
import { createClaudeHarness, hookEvents, type ClaudeHarness } from "./helpers.js";

let h: ClaudeHarness;
beforeAll(async () => {
  // The manager is a cheap echo agent; its specialists run Claude Code, one kept warm.
  h = await createClaudeHarness({ config: { pool: { specialist: 1 }, roles: { manager: { prefix: "mgr", spawns: ["specialist"], agents: ["echo"] }, specialist: { prefix: "spec", topLevel: false } } } });
}, 300_000);
afterAll(async () => {
  await h?.close();
});

async function pooledUnder(kernel: Kernel, parentId: string): Promise<InstanceSummary> {
  return eventually(async () => (await kernel.list()).find((r) => r.parentId === parentId && r.pooled && r.status === "idle"), 60_000, "a pooled specialist");
}

describe("Claude Code from a warm pool, reused after /clear", () => {
  test("taken from the pool, then reused: the model's next request has none of the earlier turns", async () => {
    h.model.rule({ name: "remember", when: match.lastUserTextIncludes("remember the word"), reply: { text: "Noted: PINEAPPLE." } });
    h.model.rule({ name: "recall", when: match.lastUserTextIncludes("which word"), reply: { text: "I know no word." } });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const pooled = await pooledUnder(h.kernel, manager.id);

    const first = await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "remember the word PINEAPPLE" });
    expect(first.source).toBe("pool");
    expect(first.instance.id).toBe(pooled.id);
    expect(await h.kernel.read(pooled.id, { wait: true, timeoutMs: 30_000 })).toMatchObject({ status: "idle", lastReply: "Noted: PINEAPPLE." });
    const remembered = h.model.requests.filter((r) => lastUserText(r).includes("remember the word"));
    expect(remembered.length).toBeGreaterThan(0);

    const since = h.model.requests.length;
    const again = await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "which word did I give you?", reuse: "idle" });
    expect(again.source).toBe("reuse");
    expect(again.instance.id).toBe(pooled.id);
    expect(again.receipt?.state).toBe("delivered");
    expect(await h.kernel.read(pooled.id, { wait: true, timeoutMs: 30_000 })).toMatchObject({ status: "idle", lastReply: "I know no word." });
    // Confirmed by Claude Code itself, not assumed from the keys.
    const starts = (await hookEvents(h, pooled.id)).filter((e) => e.event === "SessionStart").map((e) => e.payload.source);
    expect(starts).toContain("clear");
    const asked = h.model.requests.slice(since).filter((r) => lastUserText(r).includes("which word"));
    expect(asked.length).toBeGreaterThan(0);
    for (const request of asked) {
      const sent = JSON.stringify(request.body.messages);
      expect(sent).not.toContain("PINEAPPLE");
      expect(sent).not.toContain("remember the word");
    }
  }, 180_000);
});
