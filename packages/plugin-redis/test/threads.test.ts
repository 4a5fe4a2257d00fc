// Thread fields across nodes: a send from node A to node B's instance travels
// the bus with its threadId and replyTo, and B's history keeps them, so the
// thread reads the same from every node.
import { threadMessages, type Kernel } from "@tmux-claude/core";
import { eventually, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startCluster, type Cluster } from "./cluster.js";

let cluster: Cluster;
let h: Harness;
let a: Kernel;
let b: Kernel;

beforeAll(async () => {
  cluster = await startCluster({ label: "threads", first: "node-a", limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } });
  h = cluster.h;
  a = h.kernel;
  b = await cluster.start("node-b");
});
afterAll(async () => {
  await cluster?.close();
});

test("a thread's messages sent from A to B's instance keep threadId and replyTo in B's history, read alike on both nodes", async () => {
  const parent = (await a.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  const onB = (await a.spawn({ role: "manager", workDir: h.workDir, parentId: parent, node: "node-b" })).instance.id;
  await a.read(onB, { wait: true, timeoutMs: 10_000 });
  const first = await a.send(onB, "start of the thread", {}, parent);
  expect(first.threadId).toBe(first.messageId);
  const reply = await a.send(onB, "continuing it", { replyTo: first.messageId }, parent);
  expect(reply.threadId).toBe(first.messageId);
  const entries = await eventually(async () => {
    const messages = (await b.get(onB)).messages ?? [];
    return messages.filter((m) => m.threadId === first.messageId).length === 2 ? messages : undefined;
  }, 10_000, "both messages in B's history with their thread");
  expect(entries.find((m) => m.id === reply.messageId)).toMatchObject({ threadId: first.messageId, replyTo: first.messageId, from: parent });
  for (const kernel of [a, b]) {
    expect(threadMessages(await kernel.list(), first.messageId).map((m) => [m.text, m.to])).toEqual([
      ["start of the thread", onB],
      ["continuing it", onB],
    ]);
  }
});
