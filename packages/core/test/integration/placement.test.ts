// Placement (node.placement) and unreachable nodes, with two kernels on two
// private tmux sockets, an in-process router, and a plugin that reports the
// nodes' liveness through the `nodes` hook as a heartbeat plugin would.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Kernel, NodeReport, Plugin } from "../../src/index.js";
import { inProcessRouter } from "../fixtures/in-process-router.js";
import { twoNodes, type TwoNodes } from "../helpers/two-nodes.js";
import { eventually, type Harness } from "@tmux-claude/testkit";

const peers = new Map<string, Kernel>();
/** What the reporter says about each node; a test flips node-b to lost. */
const states = new Map<string, NodeReport["state"]>([
  ["node-a", "live"],
  ["node-b", "live"],
]);
const reporter: Plugin = {
  name: "reporter",
  apply: (ctx) => ctx.hooks.nodes.tap((reports) => [...reports, ...[...states].map(([id, state]) => ({ id, state, reason: state === "live" ? undefined : "test says so" }))]),
};

let nodes: TwoNodes;
let h: Harness;
let a: Kernel;
let b: Kernel;

beforeAll(async () => {
  nodes = await twoNodes("place-b", [inProcessRouter(peers), reporter], { placement: "least-loaded" });
  ({ h, a, b } = nodes);
  peers.set(a.node, a).set(b.node, b);
});
afterAll(async () => {
  await nodes?.close();
});

test("least-loaded places a spawn without a node on the live node with the fewest instances, this node among equals; local stays here", async () => {
  const spawnFrom = async (kernel: Kernel) => (await kernel.spawn({ role: "executive", workDir: h.workDir })).instance.tmux.node;
  expect((await b.spawn({ role: "executive", workDir: h.workDir, node: "node-b" })).instance.tmux.node).toBe("node-b");
  expect(await spawnFrom(a)).toBe("node-a"); // a 0, b 1
  expect(await spawnFrom(a)).toBe("node-a"); // a 1, b 1: a tie stays here
  expect(await spawnFrom(a)).toBe("node-b"); // a 2, b 1
  // node B's config says local (the default): its spawns stay on B whatever the load.
  expect(await spawnFrom(b)).toBe("node-b");
});

test("a node reported lost: its instances are listed unreachable (status kept), operations on them fail at once, placement skips it", async () => {
  states.set("node-b", "lost");
  try {
    const listed = await a.list();
    const onB = listed.filter((i) => i.tmux.node === "node-b");
    expect(onB.length).toBe(3);
    for (const instance of onB) {
      expect(instance.unreachable).toBe('node "node-b" is lost (test says so)');
      expect(instance.status).not.toBe("exited");
    }
    expect(listed.filter((i) => i.tmux.node === "node-a").every((i) => i.unreachable === undefined)).toBe(true);
    await expect(a.read(onB[0]!.id)).rejects.toMatchObject({ code: "TC_NODE_UNREACHABLE", details: { node: "node-b", down: true } });
    await expect(a.spawn({ role: "executive", workDir: h.workDir, node: "node-b" })).rejects.toMatchObject({ code: "TC_NODE_UNREACHABLE" });
    // A message that may wait is queued in the store for B's serve (alive here, so it drains it at once); one that may not fails.
    await expect(a.send(onB[0]!.id, "not now", { whenBusy: "refuse" })).rejects.toMatchObject({ code: "TC_NODE_UNREACHABLE" });
    const receipt = await a.send(onB[0]!.id, "while b is lost");
    expect(receipt).toMatchObject({ state: "queued", position: 1, instanceId: onB[0]!.id });
    await eventually(async () => (await h.received()).some((m) => m.text === "while b is lost"), 10_000, "B's serve delivered the queued message");
    expect((await h.received()).filter((m) => m.text === "while b is lost")).toHaveLength(1);
    expect((await h.received()).some((m) => m.text === "not now")).toBe(false);
    // a 2, b 3 but lost: still here, and with a 3 too.
    expect((await a.spawn({ role: "executive", workDir: h.workDir })).instance.tmux.node).toBe("node-a");
    expect((await a.spawn({ role: "executive", workDir: h.workDir })).instance.tmux.node).toBe("node-a");
    // Node B's own kernel reaches its own instances whatever is reported.
    expect((await b.list()).every((i) => i.unreachable === undefined)).toBe(true);
  } finally {
    states.set("node-b", "live");
  }
  expect((await a.list()).every((i) => i.unreachable === undefined)).toBe(true);
});
