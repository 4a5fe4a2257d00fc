// Three nodes on one machine, one Redis: three kernels, each its own private
// tmux socket and node id, all with the redis plugin on one prefix. Operations
// on another node's instance travel on the bus (Redis Streams) to that node's
// kernel, which performs them in its tmux and answers.
import { ErrorCodes, isTmuxClaudeError, type Kernel } from "@tmux-claude/core";
import { eventually, type Harness, type RedisServer } from "@tmux-claude/testkit";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startCluster, type Cluster } from "./cluster.js";

const limits = { spawnTimeout: 10_000, sendTimeout: 5_000 };
const ACCEPT_TIMEOUT_MS = 1_500;

let cluster: Cluster;
let prefix: string;
let server: RedisServer;
let raw: Redis;
let h: Harness;
let a: Kernel;
let b: Kernel;
let c: Kernel;

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!error) throw new Error("expected the operation to fail");
  return error;
}

const texts = async () => (await h.received()).map((m) => m.text);

beforeAll(async () => {
  cluster = await startCluster({ label: "bus", first: "node-a", redis: { commandTimeoutMs: 2_000, bus: { acceptTimeoutMs: ACCEPT_TIMEOUT_MS } }, limits });
  ({ prefix, server, raw, h } = cluster);
  a = h.kernel;
  b = await cluster.start("node-b");
  c = await cluster.start("node-c");
});

afterAll(async () => {
  await cluster?.close();
});

describe("across three nodes on the bus", () => {
  let onB: string;
  let onC: string;

  test("from A spawn on B and C: each runs in its node's tmux", async () => {
    onB = (await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b", prompt: "born on b" })).instance.id;
    onC = (await a.spawn({ role: "executive", workDir: h.workDir, node: "node-c" })).instance.id;
    expect((await b.get(onB)).tmux.node).toBe("node-b");
    expect((await c.get(onC)).tmux.node).toBe("node-c");
    expect(await h.tmux("list-sessions").catch(() => "")).not.toContain((await a.get(onB)).tmux.session);
    expect(await texts()).toContain("born on b");
  });

  test("send from C to B's instance gets B's receipt, with the id C minted", async () => {
    const receipt = await c.send(onB, "from c to b");
    expect(receipt).toMatchObject({ instanceId: onB, state: "delivered" });
    expect(receipt.acceptedAt).toBeDefined();
    await eventually(async () => (await texts()).includes("from c to b"), 5_000, "B's agent got C's message");
    await eventually(async () => (await b.get(onB)).messages?.some((m) => m.id === receipt.messageId && m.state === "delivered"), 5_000, "the message delivered in B's history");
    // The record's copy of its turn's prompt comes with the delivery mark: stored on every node.
    expect((await a.get(onB)).turnPrompt).toBe("from c to b");
  });

  test("read --wait from A of C's instance returns its reply; list on any node shows all with their node", async () => {
    await b.send(onC, "hello c");
    const result = await a.read(onC, { wait: true, timeoutMs: 10_000 });
    expect(result.status).toBe("idle");
    expect(result.screen).toContain("hello c");
    for (const kernel of [a, b, c]) {
      const nodes = Object.fromEntries((await kernel.list()).map((i) => [i.id, i.tmux.node]));
      expect(nodes).toMatchObject({ [onB]: "node-b", [onC]: "node-c" });
    }
  });

  test("a message queued on B is waited for from A (waitDelivered, deliverQueued)", async () => {
    await a.send(onB, "/work 400");
    const receipt = await a.send(onB, "after the work");
    expect(receipt.state).toBe("queued");
    await a.waitDelivered(receipt, 10_000);
    expect((await texts()).at(-1)).toBe("after the work");
    expect(await a.deliverQueued(onB, 5_000)).toBe(0);
  });

  test("the owner's error reaches the caller with its code and message", async () => {
    await a.send(onB, "/work 600");
    const error = await failure(a.send(onB, "refused", { whenBusy: "refuse" }));
    expect(isTmuxClaudeError(error, ErrorCodes.INSTANCE_BUSY)).toBe(true);
    expect(error.message).toContain(`Instance "${onB}" is busy`);
    await a.read(onB, { wait: true, timeoutMs: 10_000 });
  });

  test("restart and terminate across nodes", async () => {
    const before = await a.get(onC);
    const restarted = await b.restart(onC);
    expect(restarted.tmux.node).toBe("node-c");
    expect(restarted.tmux.paneId).not.toBe(before.tmux.paneId);
    expect((await a.send(onC, "after restart")).state).toBe("delivered");
    expect(await a.terminate(onC)).toEqual([onC]);
    expect((await c.list()).map((i) => i.id)).not.toContain(onC);
  });

  test("the same message twice on the bus (a retry, a redelivery) is delivered once, and both callers get its receipt", async () => {
    const channels = [`${prefix}:bus:reply:test-1`, `${prefix}:bus:reply:test-2`];
    const listener = raw.duplicate();
    const answers: { channel: string; state: string; result?: { messageId: string } }[] = [];
    await listener.subscribe(...channels);
    listener.on("message", (channel: string, note: string) => answers.push({ channel, ...JSON.parse(note) }));
    const record = await a.get(onB);
    const message = { id: `twice-${Date.now()}`, instanceId: onB, text: "only once", from: null, whenBusy: "queue" };
    const request = JSON.stringify({ operation: "send", node: "node-b", from: "node-a", instance: record, message });
    for (const channel of channels) await raw.xadd(`${prefix}:bus:in:node-b`, "*", "id", message.id, "reply", channel, "request", request);
    try {
      const done = () => answers.filter((n) => n.state === "done");
      await eventually(() => done().length === 2, 10_000, "an answer on each caller's channel");
      expect(done().map((n) => [n.channel, n.result?.messageId]).sort()).toEqual(channels.map((channel) => [channel, message.id]));
      await eventually(async () => (await raw.xlen(`${prefix}:bus:in:node-b`)) === 0, 5_000, "both entries acknowledged and removed");
      expect((await texts()).filter((t) => t === "only once")).toHaveLength(1);
      // Once answered, a third copy gets the stored answer without a second delivery.
      await raw.xadd(`${prefix}:bus:in:node-b`, "*", "id", message.id, "reply", channels[0]!, "request", request);
      await eventually(() => done().length === 3, 10_000, "the stored answer again");
      expect((await texts()).filter((t) => t === "only once")).toHaveLength(1);
    } finally {
      listener.disconnect();
    }
  });

  test("entries a killed serve left pending are answered by the next serve of the node, a message typed once", async () => {
    const record = await a.get(onB);
    const delivered = await a.send(onB, "delivered before the crash");
    await b.close();
    const stream = `${prefix}:bus:in:node-b`;
    const entry = (id: string, text: string) =>
      JSON.stringify({ operation: "send", node: "node-b", from: "node-a", instance: record, message: { id, instanceId: onB, text, from: null, whenBusy: "queue" } });
    // Read by B and never accepted (killed right after XREADGROUP): performed by the next B.
    await raw.xadd(stream, "*", "id", "pending-1", "reply", "nobody", "request", entry("pending-1", "left pending"));
    // Accepted and typed in by B, killed before its answer was stored: the history says so, no second typing.
    await raw.xadd(stream, "*", "id", delivered.messageId, "reply", "nobody", "request", entry(delivered.messageId, "delivered before the crash"));
    await raw.set(`${prefix}:bus:req:${delivered.messageId}`, JSON.stringify({ state: "accepted", by: "node-b" }));
    // Accepted and put in the queue by B, killed before its history write: performed again, found queued, typed once.
    await raw.xadd(stream, "*", "id", "queued-1", "reply", "nobody", "request", entry("queued-1", "queued before the crash"));
    await raw.set(`${prefix}:bus:req:queued-1`, JSON.stringify({ state: "accepted", by: "node-b" }));
    await raw.rpush(`${prefix}:queue:${onB}`, JSON.stringify({ id: "queued-1", instanceId: onB, text: "queued before the crash", from: null, enqueuedAt: new Date().toISOString() }));
    expect(await raw.xreadgroup("GROUP", "node-b", "node-b", "STREAMS", stream, ">")).not.toBeNull();
    b = await cluster.start("node-b");
    await eventually(async () => (await raw.xlen(stream)) === 0, 10_000, "the pending entries answered and removed");
    await eventually(async () => (await texts()).includes("queued before the crash"), 5_000, "the queued one typed");
    expect((await texts()).filter((t) => t === "queued before the crash")).toHaveLength(1);
    expect((await texts()).filter((t) => t === "left pending")).toHaveLength(1);
    expect((await texts()).filter((t) => t === "delivered before the crash")).toHaveLength(1);
    const answer = JSON.parse((await raw.get(`${prefix}:bus:req:${delivered.messageId}`)) ?? "{}");
    expect(answer).toMatchObject({ state: "done", ok: true, result: { messageId: delivered.messageId, state: "delivered" } });
  });

  test("a node that does not answer: a clear error within the accept timeout naming the node, and the request is never performed later", async () => {
    const started = Date.now();
    const error = await failure(a.spawn({ role: "executive", workDir: h.workDir, node: "node-z" }));
    expect(Date.now() - started).toBeLessThan(ACCEPT_TIMEOUT_MS + 2_000);
    expect(isTmuxClaudeError(error, ErrorCodes.NODE_UNREACHABLE)).toBe(true);
    expect(error.message).toContain('Node "node-z" did not take the request');
    expect(error.message).toContain(server.url);
    // Node Z starts later: it finds the withdrawn request and drops it.
    const z = await cluster.start("node-z");
    await eventually(async () => (await raw.xlen(`${prefix}:bus:in:node-z`)) === 0, 5_000, "node Z dropped the withdrawn request");
    expect((await z.list()).filter((i) => i.tmux.node === "node-z")).toEqual([]);
  });

  test("Redis stopped: a cross-node send fails within its timeouts naming the URL; Redis back (AOF): the bus carries requests again", async () => {
    const onB = (await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b" })).instance.id;
    await server.stop();
    const started = Date.now();
    const error = await failure(c.send(onB, "while redis is down"));
    expect(Date.now() - started).toBeLessThan(2_000 + ACCEPT_TIMEOUT_MS + 2_000);
    expect(error.message).toContain(server.url);
    await server.start();
    // Both sides reconnect by themselves: B's reader resumes on its group, C's subscriber resubscribes.
    const receipt = await eventually(() => c.send(onB, "redis is back").catch(() => undefined), 15_000, "a send through the bus again");
    // B's heartbeat key may have expired while Redis was down: until B's next beat C sees it lost and queues the message for it.
    if (receipt.state === "queued") await c.waitDelivered(receipt, 15_000);
    await eventually(async () => (await texts()).includes("redis is back"), 5_000, "B's agent got it");
    expect((await texts()).filter((t) => t === "redis is back")).toHaveLength(1);
  });
});
