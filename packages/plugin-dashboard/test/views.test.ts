// The pure part of the live model: attention order and subtree rollups.
import { expect, test } from "vitest";
import type { InstanceSummary } from "@tmux-claude/core";
import { byAttention, instanceViews } from "../src/model/views.js";
import type { GitView } from "../src/protocol.js";

function record(id: string, parentId: string | null, status: InstanceSummary["status"], usage?: { tokens: number; cost?: number }): InstanceSummary {
  return {
    id,
    parentId,
    role: "specialist",
    depth: parentId ? parentId.split(".").length + 1 : 1,
    agent: "echo",
    workDir: "/tmp",
    status,
    createdAt: `2026-01-01T00:00:0${id.length % 10}.000Z`,
    updatedAt: "2026-01-01T00:00:00.000Z",
    tmux: { socket: "s", session: id, paneId: "%1", windowId: "@1", pid: 1, node: "here/s" },
    launch: { command: "x", args: [], env: {} },
    children: [],
    ...(usage ? { usage: { inputTokens: usage.tokens, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, ...(usage.cost !== undefined ? { costUsd: usage.cost } : {}) } } : {}),
  };
}

test("waiting, error and conflicts come first; then busy, starting, idle, exited", () => {
  const conflict: GitView = { branch: "tc/c", ahead: 1, behind: 0, dirty: [], conflicts: [{ with: "main", files: ["a.txt"] }] };
  const views = instanceViews(
    [record("idle-1", null, "idle"), record("exit-1", null, "exited"), record("busy-1", null, "busy"), record("wait-1", null, "waiting"), record("err-1", null, "error"), record("conf-1", null, "idle"), record("start-1", null, "starting")],
    "here/s",
    new Map([["conf-1", conflict]]),
  ).sort(byAttention);
  expect(views.map((view) => [view.id, view.attention])).toEqual([
    // Equal attention: oldest first, then by id.
    ["err-1", 0],
    ["conf-1", 0],
    ["wait-1", 0],
    ["busy-1", 1],
    ["start-1", 2],
    ["idle-1", 3],
    ["exit-1", 4],
  ]);
});

test("usage and cost roll up per subtree; an instance without usage below one with it still gets the totals", () => {
  const views = instanceViews(
    [
      record("mgr-1", null, "idle", { tokens: 100, cost: 1 }),
      record("mgr-1.spec-1", "mgr-1", "idle", { tokens: 10, cost: 0.5 }),
      record("mgr-1.spec-2", "mgr-1", "idle"),
      record("mgr-1.spec-2.spec-3", "mgr-1.spec-2", "idle", { tokens: 5 }),
      record("mgr-2", null, "idle"),
    ],
    "here/s",
    new Map(),
  );
  const byId = new Map(views.map((view) => [view.id, view]));
  expect(byId.get("mgr-1")!.usage).toMatchObject({ costUsd: 1, subtreeCostUsd: 1.5, subtreeTokens: 115, subtreeCostPartial: true });
  expect(byId.get("mgr-1.spec-2")!.usage).toMatchObject({ subtreeTokens: 5 });
  expect(byId.get("mgr-1.spec-2")!.usage).not.toHaveProperty("subtreeCostUsd");
  expect(byId.get("mgr-2")!.usage).toBeUndefined();
  expect(byId.get("mgr-1")!.node).toBe("here/s");
});

test("a subtree with an unpriced instance (usage, no cost) marks its cost a lower bound (subtreeCostPartial)", () => {
  const views = instanceViews(
    [
      record("mgr-1", null, "idle", { tokens: 100, cost: 1 }),
      record("mgr-1.spec-1", "mgr-1", "idle", { tokens: 10, cost: 0.5 }),
      // e.g. a model newer than the price table
      record("mgr-1.spec-2", "mgr-1", "idle", { tokens: 5 }),
    ],
    "n",
    new Map(),
  );
  const byId = new Map(views.map((view) => [view.id, view]));
  expect(byId.get("mgr-1")!.usage).toMatchObject({ subtreeCostUsd: 1.5, subtreeCostPartial: true });
  expect(byId.get("mgr-1.spec-1")!.usage).not.toHaveProperty("subtreeCostPartial");
  // Nothing priced at all: no cost, so nothing to call partial.
  expect(byId.get("mgr-1.spec-2")!.usage).not.toHaveProperty("subtreeCostUsd");
  expect(byId.get("mgr-1.spec-2")!.usage).not.toHaveProperty("subtreeCostPartial");
});
