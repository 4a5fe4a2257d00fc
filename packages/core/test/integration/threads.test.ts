// Conversation threads: every message carries a thread id (its own id when it
// starts one) and the message it replies to, in the writes a send makes anyway
// (queue item, inbox history); a thread is read back from the inboxes.
import { afterAll, beforeAll, expect, test } from "vitest";
import { conversation, FileStore, threadMessages, TmuxClaudeError } from "../../src/index.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { watch: "all" });
});
afterAll(async () => {
  await h?.close();
});

async function pair(): Promise<[string, string]> {
  const { instance: a } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  const { instance: b } = await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: a.id });
  await Promise.all([h.kernel.read(a.id, { wait: true }), h.kernel.read(b.id, { wait: true })]);
  return [a.id, b.id];
}

test("a send starts a thread named after its message; a reply continues it; the thread reads back in order, both ways", async () => {
  const [a, b] = await pair();
  const first = await h.kernel.send(b, "please review auth.ts", {}, a);
  expect(first.threadId).toBe(first.messageId);
  // b answers a's message: found in b's own inbox, so no threadId is needed.
  const answer = await h.kernel.send(a, "done, two findings", { replyTo: first.messageId }, b);
  expect(answer.threadId).toBe(first.messageId);
  // Continuing by thread id, and a message of another thread in between.
  const other = await h.kernel.send(b, "unrelated question", {}, a);
  expect(other.threadId).toBe(other.messageId);
  const more = await h.kernel.send(b, "fix the first one", { threadId: first.threadId!, replyTo: answer.messageId }, a);
  expect(more.threadId).toBe(first.messageId);

  // A message typed in at once reaches its inbox with the instance's next write: wait until all four are there.
  const records = await eventually(async () => {
    const listed = await h.kernel.list();
    return conversation(listed, a, b).length === 4 ? listed : undefined;
  }, 10_000, "the four messages in the inboxes");
  const thread = threadMessages(records, first.messageId);
  expect(thread.map((m) => [m.id, m.from, m.to, m.replyTo ?? null])).toEqual([
    [first.messageId, a, b, null],
    [answer.messageId, b, a, first.messageId],
    [more.messageId, a, b, answer.messageId],
  ]);
  expect(thread.every((m) => m.threadId === first.messageId)).toBe(true);
  // The conversation between the two: every message either way, other threads too, in order.
  expect(conversation(records, a, b).map((m) => m.id)).toEqual([first.messageId, answer.messageId, other.messageId, more.messageId]);
  expect(conversation(records, b, a).map((m) => m.id)).toEqual([first.messageId, answer.messageId, other.messageId, more.messageId]);
});

test("a queued message keeps its thread and reply-to through the queue, the delivering process's mark and the delivered hook", async () => {
  const [a, b] = await pair();
  const start = await h.kernel.send(b, "start", {}, a);
  const cli = await h.startKernel({ watch: "on-demand" });
  try {
    expect((await cli.send(b, "/work 800", { threadId: start.messageId }, a)).state).toBe("delivered");
    const queued = await cli.send(b, "after the work", { replyTo: start.messageId }, a);
    expect(queued).toMatchObject({ state: "queued", threadId: start.messageId });
    expect((await new FileStore(h.stateDir).queue(b)).find((m) => m.id === queued.messageId)).toMatchObject({ threadId: start.messageId, replyTo: start.messageId });
    await cli.close();
    const entry = await eventually(async () => {
      const found = (await h.kernel.list()).find((i) => i.id === b)?.messages?.find((m) => m.id === queued.messageId);
      return found?.state === "delivered" ? found : undefined;
    }, 10_000, "the queued message delivered by serve");
    expect(entry).toMatchObject({ threadId: start.messageId, replyTo: start.messageId, from: a });
    expect(threadMessages(await h.kernel.list(), start.messageId).map((m) => m.text)).toEqual(["start", "/work 800", "after the work"]);
  } finally {
    await cli.close();
  }
});

test("bad thread input is refused naming the value; nothing is sent", async () => {
  const [a, b] = await pair();
  const before = (await h.received()).length;
  await expect(h.kernel.send(b, "x", { threadId: "has space" }, a)).rejects.toThrow(/threadId for the message to ".*" must be a message id.*got "has space"/u);
  await expect(h.kernel.send(b, "x", { replyTo: "" }, a)).rejects.toThrow(/replyTo .* got ""/u);
  const unknown = await h.kernel.send(b, "x", { replyTo: "no-such-message" }, a).catch((error: unknown) => error);
  expect(unknown).toBeInstanceOf(TmuxClaudeError);
  expect((unknown as TmuxClaudeError).code).toBe("TC_INVALID_ARGUMENT");
  expect((unknown as Error).message).toMatch(/replyTo "no-such-message" is not among the last 30 messages of ".*" or ".*".*Pass its threadId/u);
  expect((await h.received()).length).toBe(before);
});

test("a reply never sorts before the message it answers (a sender's clock behind, or the same millisecond)", () => {
  const entry = (id: string, sentAt: string, replyTo?: string) => ({ id, from: "x", text: id, sentAt, state: "delivered" as const, threadId: "t1", ...(replyTo ? { replyTo } : {}) });
  const records = [
    { id: "a", messages: [entry("t1", "2030-01-01T00:00:05.000Z"), entry("r2", "2030-01-01T00:00:03.000Z", "r1")] },
    // b's node clock is behind: its reply to t1 carries an earlier time than t1.
    { id: "b", messages: [entry("r1", "2030-01-01T00:00:02.000Z", "t1"), entry("other", "2030-01-01T00:00:04.000Z")] },
  ];
  // "other" (no reply) keeps its time; the replies follow their message, in chain order.
  expect(threadMessages(records, "t1").map((m) => m.id)).toEqual(["other", "t1", "r1", "r2"]);
  const tied = [{ id: "a", messages: [entry("q2", "2030-01-01T00:00:01.000Z", "q1")] }, { id: "b", messages: [entry("q1", "2030-01-01T00:00:01.000Z")] }].map((r) => ({ ...r, messages: r.messages.map((m) => ({ ...m, threadId: "q1" })) }));
  expect(threadMessages(tied, "q1").map((m) => m.id)).toEqual(["q1", "q2"]);
});
