// The pure part of the live model: attention order, subtree rollups, message states.
import { expect, test } from "vitest";
import type { InstanceSummary } from "@tmux-claude/core";
import { byAttention, ENQUEUE_GRACE_MS, instanceViews, messageViews } from "../src/model/views.js";
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
    queuedIds: [],
    ...(usage ? { usage: { inputTokens: usage.tokens, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, ...(usage.cost !== undefined ? { costUsd: usage.cost } : {}) } } : {}),
  };
}

test("a limited instance carries until when, with the attention of a busy one (it goes on by itself or takes a message at the reset)", () => {
  const limited = { ...record("lim-1", null, "limited"), limitedUntil: "2026-01-01T01:00:00.000Z" };
  const [view] = instanceViews([limited], "here/s", new Map());
  expect(view).toMatchObject({ status: "limited", limitedUntil: "2026-01-01T01:00:00.000Z", attention: 1 });
  expect(instanceViews([record("idle-1", null, "idle")], "here/s", new Map())[0]).not.toHaveProperty("limitedUntil");
});

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

test("an instance whose node is down needs you: unreachable with the reason, its last status kept", () => {
  const lost = { ...record("far-1", null, "busy"), unreachable: 'node "b" is lost (no heartbeat for over 3000 ms)' };
  const [view] = instanceViews([lost], "here/s", new Map());
  expect(view).toMatchObject({ id: "far-1", status: "busy", unreachable: 'node "b" is lost (no heartbeat for over 3000 ms)', attention: 0 });
  expect(instanceViews([record("near-1", null, "busy")], "here/s", new Map())[0]).not.toHaveProperty("unreachable");
});

test("an exited instance does not need you, even with a forecast conflict left from before it exited", () => {
  const conflict: GitView = { branch: "tc/x", ahead: 1, behind: 0, dirty: [], conflicts: [{ with: "main", files: ["a.txt"] }] };
  const [view] = instanceViews([record("gone-1", null, "exited")], "here/s", new Map([["gone-1", conflict]]));
  expect(view!.attention).toBe(4);
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

test("message states follow the store's queue: waiting ids are queued, ones that left it delivered, a terminated instance's dropped", () => {
  const now = Date.parse("2026-01-01T01:00:00.000Z");
  const at = (msAgo: number) => new Date(now - msAgo).toISOString();
  const entry = (id: string, msAgo: number, state: "queued" | "delivered", acceptedAt?: string) => ({ id, from: null, text: id, sentAt: at(msAgo), state, ...(acceptedAt ? { acceptedAt } : {}) });
  const messages = [
    entry("marked", 60_000, "delivered", at(59_000)),
    // Left the queue long ago, its mark lost (a kill between ack and mark).
    entry("mark-lost", 50_000, "queued"),
    // Older than one still waiting: FIFO says it left the queue, though just now.
    entry("just-left", 200, "queued"),
    entry("waiting", 100, "queued"),
    // Just written to the history, not yet in the queue: on its way in.
    entry("on-its-way", 10, "queued"),
  ];
  const live = { ...record("i1", null, "busy"), messages, queuedIds: ["waiting"] };
  const states = Object.fromEntries(messageViews(live, now).map((view) => [view.id, [view.state, view.acceptedAt]]));
  expect(states).toEqual({
    marked: ["delivered", at(59_000)],
    "mark-lost": ["delivered", undefined],
    "just-left": ["delivered", undefined],
    waiting: ["queued", undefined],
    "on-its-way": ["queued", undefined],
  });
  expect(messageViews(live, now + ENQUEUE_GRACE_MS + 1).find((view) => view.id === "on-its-way")!.state).toBe("delivered");
  expect(instanceViews([live], "n", new Map())[0]!.queued).toBe(1);

  const terminated = { ...live, status: "exited" as const, terminatedAt: at(0) };
  expect(messageViews(terminated, now).filter((view) => view.state === "dropped").map((view) => view.id)).toEqual(["mark-lost", "just-left", "waiting", "on-its-way"]);
});

test("progress: the view carries done, total, the step in progress and the task list, not who wrote it or when", () => {
  const progress = { done: 1, total: 3, current: "Writing tests", items: [{ text: "Write tests", state: "in_progress" as const }], source: "claude", at: "2026-01-01T00:00:00.000Z" };
  const [view] = instanceViews([{ ...record("spec-1", null, "busy"), progress }], "here/s", new Map());
  expect(view?.progress).toEqual({ done: 1, total: 3, current: "Writing tests", items: [{ text: "Write tests", state: "in_progress" }] });
  expect(instanceViews([record("idle-1", null, "idle")], "here/s", new Map())[0]).not.toHaveProperty("progress");
});

test("a busy instance flagged stalled needs you: it carries since when and why (the attention list shows it)", () => {
  const stalled = { ...record("stuck-1", null, "busy"), stalled: { since: "2026-01-01T00:00:00.000Z", why: "busy with no event from its agent and no output for 5m 0s" } };
  const [view] = instanceViews([stalled], "here/s", new Map());
  expect(view).toMatchObject({ id: "stuck-1", status: "busy", stalled: stalled.stalled, attention: 0 });
  expect(instanceViews([record("busy-1", null, "busy")], "here/s", new Map())[0]).toMatchObject({ attention: 1 });
  expect(instanceViews([record("busy-1", null, "busy")], "here/s", new Map())[0]).not.toHaveProperty("stalled");
});
