import type { InstanceSummary } from "@tmux-claude/core";
import { describe, expect, it } from "vitest";
import { formatNodes, nodeViews, type NodeInfo } from "../src/index.js";

const instance = (id: string, node: string, status: string) => ({ id, status, tmux: { node } }) as unknown as InstanceSummary;
const info = (id: string, state: NodeInfo["state"]): NodeInfo => ({ id, state, host: "h1", pid: 42, startedAt: "2030-01-01T00:00:00.000Z" });

describe("nodes view", () => {
  it("counts each node's instances that have not exited and the busy ones; a node only instances name is unknown", () => {
    const views = nodeViews(
      [info("b", "lost"), info("a", "live")],
      [instance("exec-1", "a", "busy"), instance("exec-2", "a", "idle"), instance("exec-3", "b", "exited"), instance("exec-4", "c", "idle")],
      "a",
    );
    expect(views.map((v) => [v.id, v.state, v.instances, v.load, v.self])).toEqual([
      ["a", "live", ["exec-1", "exec-2"], { instances: 2, busy: 1 }, true],
      ["b", "lost", [], { instances: 0, busy: 0 }, false],
      ["c", "unknown", ["exec-4"], { instances: 1, busy: 0 }, false],
    ]);
    expect(formatNodes(views).split("\n")).toEqual([
      "NODE  STATE    INSTANCES  BUSY  HOST  PID  SINCE",
      "a *   live     2          1     h1    42   2030-01-01T00:00:00.000Z",
      "b     lost     0          0     h1    42   2030-01-01T00:00:00.000Z",
      "c     unknown  1          0     -     -    -",
      "(* this node)",
    ]);
  });

  it("says how nodes appear when there are none", () => {
    expect(formatNodes([])).toBe("No nodes: none has run `tmux-claude serve` on this Redis prefix yet.");
  });
});
