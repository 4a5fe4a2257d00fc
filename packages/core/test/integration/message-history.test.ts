// Every message sent to an instance is on its record (InstanceRecord.messages),
// by whichever process sent or delivered it: queued, then delivered with the
// time the agent accepted it. What a dashboard in serve shows as the timeline.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { FileStore, MESSAGE_HISTORY_LIMIT, MESSAGE_TEXT_LIMIT, type InstanceRecord, type MessageEntry } from "../../src/index.js";
import { messageEntry, withDelivered, withQueued } from "../../src/instances/message-history.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  // The harness's kernel serves (watches everything, delivers queues), as `serve` with a dashboard does.
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { watch: "all" });
});
afterAll(async () => {
  await h?.close();
});

const entryOf = async (id: string, messageId: string): Promise<MessageEntry | undefined> =>
  (await h.kernel.list()).find((i) => i.id === id)?.messages?.find((m) => m.id === messageId);

test("a message typed in at once is on the record, delivered, by the time the sending process closed", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  const cli = await h.startKernel({ watch: "on-demand" });
  const receipt = await cli.send(instance.id, "hello there", {}, null);
  expect(receipt.state).toBe("delivered");
  await cli.close();
  // Read at once from the store (list reads it): what the other process wrote was on disk when its close returned.
  const entry = await entryOf(instance.id, receipt.messageId);
  expect(entry).toEqual({ id: receipt.messageId, from: null, text: "hello there", sentAt: expect.any(String), state: "delivered", acceptedAt: receipt.acceptedAt, threadId: receipt.messageId });
  expect(entry!.sentAt <= entry!.acceptedAt!).toBe(true);
  // serve's own view (get) follows the store through its watch, so it has the write a moment later, not at once.
  await eventually(async () => (await h.kernel.get(instance.id)).messages?.some((m) => m.id === receipt.messageId), 5_000, "serve's view has the delivery");
});

test("a queued message is on the record as queued at once, then delivered by the serving process with its acceptance time", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  const cli = await h.startKernel({ watch: "on-demand" });
  expect((await cli.send(instance.id, "/work 1500")).state).toBe("delivered");
  const receipt = await cli.send(instance.id, "after the work", {}, instance.id);
  expect(receipt.state).toBe("queued");
  // On disk before send returned: the sending process sees it without waiting, and so does serve.
  expect((await cli.get(instance.id)).messages?.find((m) => m.id === receipt.messageId)).toMatchObject({ state: "queued", from: instance.id, text: "after the work" });
  expect(await entryOf(instance.id, receipt.messageId)).toMatchObject({ state: "queued" });
  await cli.close();
  const delivered = await eventually(async () => {
    const entry = await entryOf(instance.id, receipt.messageId);
    return entry?.state === "delivered" ? entry : undefined;
  }, 10_000, "the queued message marked delivered");
  expect(delivered).toMatchObject({ id: receipt.messageId, from: instance.id, text: "after the work", acceptedAt: expect.any(String) });
  expect(delivered.acceptedAt! > delivered.sentAt).toBe(true);
  expect((await h.received()).filter((m) => m.text === "after the work")).toHaveLength(1);
  // One entry per message: the queued one became the delivered one.
  const ids = (await h.kernel.get(instance.id)).messages!.map((m) => m.id);
  expect(new Set(ids).size).toBe(ids.length);
});

test("list() carries the ids in each instance's queue (the store's queue, not the history): there while queued, gone once delivered", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  const queuedOf = async () => (await h.kernel.list()).find((i) => i.id === instance.id)!.queuedIds;
  expect(await queuedOf()).toEqual([]);
  const cli = await h.startKernel({ watch: "on-demand" });
  expect((await cli.send(instance.id, "/work 1500")).state).toBe("delivered");
  const receipt = await cli.send(instance.id, "waits its turn", {}, instance.id);
  expect(receipt.state).toBe("queued");
  await cli.close();
  expect(await queuedOf()).toEqual([receipt.messageId]);
  await eventually(async () => (await queuedOf()).length === 0, 10_000, "the queue to be delivered");
});

test(`a record keeps the newest ${MESSAGE_HISTORY_LIMIT} messages, each cut to ${MESSAGE_TEXT_LIMIT} characters`, async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  const long = "x".repeat(MESSAGE_TEXT_LIMIT + 500);
  const receipts = [];
  for (let n = 1; n <= MESSAGE_HISTORY_LIMIT + 5; n++) {
    // now: each is typed at once, so the test does not wait for 55 turns.
    receipts.push(await h.kernel.send(instance.id, n === MESSAGE_HISTORY_LIMIT + 5 ? long : `message ${n}`, { whenBusy: "now" }));
  }
  const messages = await eventually(async () => {
    const stored = (await h.kernel.get(instance.id)).messages ?? [];
    return stored.at(-1)?.id === receipts.at(-1)!.messageId && stored.at(-1)?.state === "delivered" ? stored : undefined;
  }, 10_000, "the last message recorded");
  expect(messages).toHaveLength(MESSAGE_HISTORY_LIMIT);
  expect(messages.map((m) => m.id)).toEqual(receipts.slice(-MESSAGE_HISTORY_LIMIT).map((r) => r.messageId));
  expect(messages.every((m) => m.state === "delivered")).toBe(true);
  const last = messages.at(-1)!;
  expect(last.text).toHaveLength(MESSAGE_TEXT_LIMIT);
  expect(last.text.endsWith("x…")).toBe(true);
  // The agent got all of it: only the record's copy is cut.
  expect((await h.received()).at(-1)!.text).toBe(long);
});

test("a full history stays a small part of its record (it rides on every write and every list())", () => {
  // The worst case: every entry from an instance, cut at the limit, delivered.
  const at = new Date().toISOString();
  let record = { messages: [] } as unknown as InstanceRecord;
  for (let n = 0; n < MESSAGE_HISTORY_LIMIT + 10; n++) {
    const entry = messageEntry({ id: randomUUID(), from: randomUUID(), text: "y".repeat(10_000) }, at, "queued");
    record = withDelivered({ ...entry, acceptedAt: at })(withQueued(entry)(record));
  }
  expect(record.messages).toHaveLength(MESSAGE_HISTORY_LIMIT);
  // 50 entries of 2000 characters made it 104 KB, and a list() of 100 full records ~5x slower (bench/tools/record-weight.mjs).
  expect(JSON.stringify(record.messages).length).toBeLessThan(24 * 1024);
});

test("a send repeated with the sender's own messageId is not delivered again: the same process, another process, while queued", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  const messageId = `retry-${randomUUID()}`;
  const first = await h.kernel.send(instance.id, "only once please", { messageId });
  expect(first).toMatchObject({ messageId, state: "delivered" });
  expect(await h.kernel.send(instance.id, "only once please", { messageId })).toEqual(first);
  const cli = await h.startKernel({ watch: "on-demand" });
  expect(await cli.send(instance.id, "only once please", { messageId })).toMatchObject({ messageId, state: "delivered" });

  // Queued behind a busy agent: a repeat answers queued at the same place, and it is typed in once.
  expect((await cli.send(instance.id, "/work 1500")).state).toBe("delivered");
  const queuedId = `retry-${randomUUID()}`;
  const queued = await cli.send(instance.id, "queued only once", { messageId: queuedId });
  expect(queued).toMatchObject({ messageId: queuedId, state: "queued", position: 1 });
  const other = await h.startKernel({ watch: "on-demand" });
  expect(await other.send(instance.id, "queued only once", { messageId: queuedId })).toMatchObject({ messageId: queuedId, state: "queued", position: 1 });
  await cli.close();
  await other.close();
  await eventually(async () => (await entryOf(instance.id, queuedId))?.state === "delivered", 10_000, "the queued message delivered");
  expect(await h.kernel.send(instance.id, "queued only once", { messageId: queuedId })).toMatchObject({ messageId: queuedId, state: "delivered" });
  const got = (await h.received()).map((m) => m.text);
  expect(got.filter((t) => t === "only once please")).toHaveLength(1);
  expect(got.filter((t) => t === "queued only once")).toHaveLength(1);
});

test("a send repeated after its first sender died between enqueue and delivery finds it queued and gets it delivered, once", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  // What the first sender left: the message in the queue (it enqueues first), no history entry, nobody draining.
  const messageId = `stranded-${randomUUID()}`;
  const store = new FileStore(h.stateDir);
  await store.init();
  await store.enqueue({ id: messageId, instanceId: instance.id, text: "stranded once", from: null, enqueuedAt: new Date().toISOString() });
  await store.close();
  const cli = await h.startKernel({ watch: "on-demand" });
  const repeated = await cli.send(instance.id, "stranded once", { messageId });
  // Queued, as it was left; or already delivered when serve drained it first (a late status write of the new agent wakes its drain).
  expect(repeated.state === "delivered" ? repeated : { ...repeated, position: repeated.position }).toMatchObject(repeated.state === "delivered" ? { messageId } : { messageId, state: "queued", position: 1 });
  await cli.close();
  await eventually(async () => (await h.received()).some((m) => m.text === "stranded once"), 10_000, "the stranded message typed in");
  expect((await h.received()).filter((m) => m.text === "stranded once")).toHaveLength(1);
});

test("a messageId that is not an id is refused, naming it, and nothing is sent", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await expect(h.kernel.send(instance.id, "never typed", { messageId: "has space" })).rejects.toMatchObject({
    code: "TC_INVALID_ARGUMENT",
    message: expect.stringContaining('"has space"'),
  });
  expect((await h.received()).some((m) => m.text === "never typed")).toBe(false);
});
