// `tmux-claude events`' line per event and its argument errors, without Redis.
import { ErrorCodes, isTmuxClaudeError, type KernelApi } from "@tmux-claude/core";
import { describe, expect, it } from "vitest";
import { formatEvent, type ClusterEvent } from "../src/index.js";
import { eventsCommand } from "../src/events/command.js";
import type { EventFeed } from "../src/events/feed.js";
import { compareStreamIds, fromHook, nextStreamId } from "../src/events/wire.js";
import { startOf } from "../src/events/feed.js";

const meta = { eventId: "e-1", instanceId: "exec-1.mgr-2", node: "node-b", at: "2030-01-01T00:00:00.000Z" };
const instance = { id: "exec-1.mgr-2", role: "manager", parentId: "exec-1", depth: 2, agent: "claude", status: "idle" as const, node: "node-b", workDir: "/w" };

describe("events wire", () => {
  it("a delivered event keeps the message's threadId and replyTo for other nodes' readers", () => {
    const message = { id: "m-2", instanceId: meta.instanceId, text: "done", from: "exec-1.mgr-2.spec-1", threadId: "m-1", replyTo: "m-1" };
    expect(fromHook.delivered({ ...meta, message, queued: false })).toMatchObject({ type: "delivered", messageId: "m-2", threadId: "m-1", replyTo: "m-1" });
    // A message without them carries none (no undefined fields on the wire).
    expect(Object.keys(fromHook.delivered({ ...meta, message: { id: "m-3", instanceId: meta.instanceId, text: "x", from: null }, queued: true }))).not.toContain("threadId");
  });
});

describe("events view", () => {
  it("one line per event: time, node, instance, type, a summary on one line", () => {
    const events: ClusterEvent[] = [
      { ...meta, type: "afterSpawn", instance, restart: false },
      { ...meta, type: "statusChange", instance, from: "busy", to: "error", reason: "usage limit" },
      { ...meta, type: "statusChange", instance: { ...instance, status: "limited", limitedUntil: "2030-01-01T01:00:00.000Z" }, from: "busy", to: "limited", reason: "rate_limit" },
      { ...meta, type: "delivered", messageId: "m-1", from: "exec-1", text: "fix the\nbuild", queued: true },
      { ...meta, type: "turnEnded", instance, reason: "stop", lastReply: "x".repeat(100) },
      { ...meta, type: "usage", instance, usage: { inputTokens: 10, outputTokens: 5, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, costUsd: 0.0123 } },
      { ...meta, type: "afterTerminate", instance, cascade: true },
      { ...meta, type: "spawnFailed", role: "manager", parentId: "exec-1", restart: true, error: { code: "TC_SPAWN_TIMEOUT", message: "no prompt" } },
    ];
    expect(events.map(formatEvent)).toEqual([
      "2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  afterSpawn  spawned: manager (claude), parent exec-1",
      "2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  statusChange  busy -> error (usage limit)",
      "2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  statusChange  busy -> limited until 2030-01-01T01:00:00.000Z (rate_limit)",
      '2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  delivered  message m-1 from exec-1 (from the queue): "fix the build"',
      `2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  turnEnded  stop: "${"x".repeat(59)}…"`,
      "2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  usage  10 in, 5 out, $0.0123",
      "2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  afterTerminate  terminated (cascade)",
      '2030-01-01T00:00:00.000Z  node-b  exec-1.mgr-2  spawnFailed  restart of a manager failed: TC_SPAWN_TIMEOUT: "no prompt"',
    ]);
  });

  it("bad arguments are usage errors naming the value and the usage", async () => {
    const command = eventsCommand({} as EventFeed);
    const run = (...argv: string[]) => command.run(argv, {} as KernelApi).catch((error: unknown) => error as Error);
    for (const [argv, says] of [
      [["--limit", "0"], "--limit 0 is not a whole number of 1 or more"],
      [["--type", "statusChange,spawned"], "unknown --type spawned. Types: statusChange, delivered"],
      [["--bogus"], "Unknown option '--bogus'"],
      [["extra"], "Unexpected argument 'extra'"],
    ] as const) {
      const error = await run(...argv);
      expect(isTmuxClaudeError(error, ErrorCodes.INVALID_ARGUMENT), String(error)).toBe(true);
      expect((error as Error).message).toContain(says);
      expect((error as Error).message).toContain("Usage: tmux-claude events");
    }
  });

  it("stream ids: order, the next id, where a since starts", () => {
    expect(compareStreamIds("9-5", "10-0")).toBe(-1);
    expect(compareStreamIds("10-2", "10-10")).toBe(-1);
    expect(compareStreamIds("10-2", "10-2")).toBe(0);
    expect(nextStreamId("10-2")).toBe("10-3");
    expect(nextStreamId("10-18446744073709551615")).toBe("11-0");
    expect(nextStreamId("10")).toBe("11-0");
    expect(startOf("1733380000000-4")).toBe("1733380000000-5");
    expect(startOf("2030-01-01T00:00:00Z")).toBe(`${Date.parse("2030-01-01T00:00:00Z")}-0`);
    expect(() => startOf("5 minutes ago")).toThrow(/"5 minutes ago" is neither a stream id .* nor an ISO time/u);
  });
});
