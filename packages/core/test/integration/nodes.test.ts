// Two nodes on one machine: two kernels on two private tmux sockets with two
// node ids, sharing one state dir, and a routing plugin that forwards
// operations between them in-process.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defaultNodeId, ErrorCodes, FileStore, type Kernel, type UserConfig } from "../../src/index.js";
import { inProcessRouter } from "../fixtures/in-process-router.js";
import { expectError } from "../helpers/expect-error.js";
import { twoNodes, type TwoNodes } from "../helpers/two-nodes.js";
import type { Harness } from "@tmux-claude/testkit";

const peers = new Map<string, Kernel>();
let nodes: TwoNodes;
let h: Harness;
let a: Kernel;
let b: Kernel;
let nodeB: UserConfig;
let tmuxB: TwoNodes["tmuxB"];
const sessionsOf = async (tmux: (...args: string[]) => Promise<string>) =>
  (await tmux("list-sessions", "-F", "#{session_name}").catch(() => "")).split("\n").filter(Boolean);

beforeAll(async () => {
  nodes = await twoNodes("node-b", [inProcessRouter(peers)]);
  ({ h, a, b, nodeB, tmuxB } = nodes);
  peers.set(a.node, a).set(b.node, b);
});
afterAll(async () => {
  await nodes?.close();
});

describe("from node A, operations on node B's instance", () => {
  let id: string;

  test("spawn on B runs the agent in B's tmux and records B as its node", async () => {
    const { instance } = await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b", prompt: "first words" });
    id = instance.id;
    expect(instance.tmux).toMatchObject({ node: "node-b", socket: nodeB.tmux!.socket });
    expect(await sessionsOf(tmuxB)).toContain(instance.tmux.session);
    expect(await sessionsOf(h.tmux)).not.toContain(instance.tmux.session);
    expect((await h.received()).map((m) => m.text)).toContain("first words");
  });

  test("send keeps the message id A minted and runs beforeSend once, on A", async () => {
    const receipt = await a.send(id, "hello from a");
    expect(receipt).toMatchObject({ instanceId: id, state: "delivered" });
    expect((await h.received()).at(-1)?.text).toBe("hello from a");
  });

  test("read shows B's screen", async () => {
    const result = await a.read(id, { wait: true });
    expect(result.status).toBe("idle");
    expect(result.screen).toContain("hello from a");
  });

  test("a message queued on B is waited for from A", async () => {
    await a.send(id, "/work 300");
    const receipt = await a.send(id, "after the work");
    expect(receipt.state).toBe("queued");
    await a.waitDelivered(receipt, 10_000);
    expect((await h.received()).at(-1)?.text).toBe("after the work");
    expect(await a.deliverQueued(id, 5_000)).toBe(0);
  });

  test("A's reconcile and list never mark B's instance exited; list names its node", async () => {
    await a.read(id, { wait: true });
    const again = await h.startKernel({ watch: "on-demand" });
    const listed = (await again.list()).find((r) => r.id === id);
    // Its last stored status (B writes it a moment after B's own view changes), never exited.
    expect(listed?.tmux.node).toBe("node-b");
    expect(listed?.status).toMatch(/^(idle|busy)$/u);
    expect((await a.get(id)).status).toMatch(/^(idle|busy)$/u);
    await again.close();
  });

  test("restart relaunches it in B's tmux", async () => {
    const before = await a.get(id);
    const restarted = await a.restart(id);
    expect(restarted.status).toBe("idle");
    expect(restarted.tmux.node).toBe("node-b");
    expect(restarted.tmux.paneId).not.toBe(before.tmux.paneId);
    expect((await tmuxB("list-panes", "-a", "-F", "#{pane_id}")).split("\n")).toContain(restarted.tmux.paneId);
    expect((await a.send(id, "after restart")).state).toBe("delivered");
  });

  test("with B's kernel closed, A lists B's instance with its node and last status, and says B is unreachable", async () => {
    await a.read(id, { wait: true });
    await b.close();
    await expectError(a.read(id), ErrorCodes.NODE_UNREACHABLE, '"node-b"', `"${id}"`, "its kernel answered");
    peers.delete("node-b");
    const listed = (await a.list()).find((r) => r.id === id);
    expect(listed?.tmux.node).toBe("node-b");
    expect(listed?.status).toMatch(/^(idle|busy)$/u);
    const error = await expectError(a.read(id), ErrorCodes.NODE_UNREACHABLE, '"node-b"', `"${id}"`, '"in-process-router"', "routing plugin");
    expect(error.details).toMatchObject({ node: "node-b", id, plugins: ["in-process-router"] });
    // The instance lives on in B's tmux; a new kernel of node B takes it back.
    b = await h.startKernel({ config: nodeB });
    peers.set(b.node, b);
    expect((await a.read(id)).status).not.toBe("exited");
  });

  test("terminate ends it in B's tmux and removes the record", async () => {
    const { tmux } = await a.get(id);
    expect(await a.terminate(id)).toEqual([id]);
    expect(await sessionsOf(tmuxB)).not.toContain(tmux.session);
    expect((await a.list()).map((r) => r.id)).not.toContain(id);
  });

  test("a cascade crosses nodes: a child on A of a parent on B goes with it", async () => {
    const { instance: parent } = await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b" });
    const { instance: child } = await b.spawn({ role: "manager", workDir: h.workDir, parentId: parent.id, node: "node-a" });
    expect(child.tmux.node).toBe("node-a");
    expect((await a.terminate(parent.id, { cascade: true })).sort()).toEqual([parent.id, child.id].sort());
    expect(await sessionsOf(h.tmux)).not.toContain(child.tmux.session);
  });
});

describe("bad routing: one clear error, nothing half-created, the kernel keeps running", () => {
  let id: string;
  beforeAll(async () => {
    ({ instance: { id } } = await b.spawn({ role: "executive", workDir: h.workDir }));
  });

  test("no routing plugin at all", async () => {
    const lonely = await h.startKernel({ config: { plugins: [], node: { id: "node-a" } } });
    const count = (await lonely.list()).length;
    await expectError(lonely.send(id, "hi"), ErrorCodes.NODE_UNREACHABLE, '"node-b"', `"${id}"`, "no plugin taps the route hook");
    await expectError(lonely.terminate(id), ErrorCodes.NODE_UNREACHABLE, '"node-b"');
    await expectError(lonely.spawn({ role: "executive", workDir: h.workDir, node: "node-b" }), ErrorCodes.NODE_UNREACHABLE, '"node-b"', 'spawn an instance of role "executive"');
    expect((await lonely.list()).length).toBe(count);
    expect((await b.read(id)).status).toBe("idle");
    await lonely.close();
  });

  test("a route tap that throws", async () => {
    const flaky = await h.startKernel({
      config: {
        node: { id: "node-a" },
        plugins: [
          {
            name: "flaky-router",
            apply(ctx) {
              ctx.hooks.route.tapPromise(async (request) => {
                if (request.node === ctx.kernel.node) return undefined;
                throw new Error("connection refused");
              });
            },
          },
        ],
      },
    });
    const count = (await flaky.list()).length;
    const error = await expectError(flaky.restart(id), ErrorCodes.ROUTE_FAILED, '"flaky-router"', '"node-b"', `"${id}"`, "connection refused");
    expect(error.details).toMatchObject({ plugin: "flaky-router", node: "node-b", id });
    await expectError(flaky.spawn({ role: "executive", workDir: h.workDir, node: "node-b" }), ErrorCodes.ROUTE_FAILED, '"flaky-router"');
    expect((await flaky.list()).length).toBe(count);
    expect((await flaky.get(id)).status).not.toBe("exited");
    await flaky.close();
  });

  test("the other node's own refusal reaches the caller unchanged", async () => {
    await a.send(id, "/work 500");
    await expectError(a.send(id, "not now", { whenBusy: "refuse" }), ErrorCodes.INSTANCE_BUSY, `"${id}"`);
  });

  test("a spawn placed on B with a workDir B does not have says it was looked for on B", async () => {
    const missing = `${h.workDir}/only-on-a`;
    await expectError(a.spawn({ role: "executive", workDir: missing, node: "node-b" }), ErrorCodes.WORKDIR_INVALID, `"${missing}" does not exist`, 'looked for on node "node-b"');
  });

  test("an operation misrouted to a node that does not own the instance is refused", async () => {
    await expectError(a.local.read(id), ErrorCodes.WRONG_NODE, '"node-b"', '"node-a"');
    await expectError(a.local.spawn({ role: "executive", workDir: h.workDir, node: "node-b" }), ErrorCodes.WRONG_NODE, '"node-b"');
    await expectError(a.spawn({ role: "executive", workDir: h.workDir, node: "bad node!" }), ErrorCodes.INVALID_ARGUMENT, "node must be a node id");
  });
});

test("a record written before nodes existed belongs to this machine's default node for its socket", async () => {
  const plain = await h.startKernel({ config: { plugins: [], node: {} } });
  expect(plain.node).toBe(defaultNodeId(h.socket));
  const { instance } = await plain.spawn({ role: "executive", workDir: h.workDir });
  const store = new FileStore(h.stateDir);
  await store.init();
  await store.update(instance.id, (r) => ({ ...r, tmux: { ...r.tmux, node: undefined } }));
  expect((await store.get(instance.id))?.tmux.node).toBeUndefined();
  await store.close();
  expect((await plain.get(instance.id)).tmux.node).toBe(defaultNodeId(h.socket));
  expect((await plain.send(instance.id, "still mine")).state).toBe("delivered");
  // Node A shares the socket but not the node: it leaves the instance alone.
  const again = await h.startKernel({ watch: "on-demand" });
  expect((await again.list()).find((r) => r.id === instance.id)?.status).not.toBe("exited");
  await again.close();
  await plain.terminate(instance.id);
  await plain.close();
});
