// `send --thread/--reply-to` and `thread <id>`: each a one-shot process, the
// thread read back from the instances' inboxes in the store.
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

interface Receipt {
  messageId: string;
  threadId: string;
  state: string;
}

test("send starts and continues a thread; thread shows its messages in order, --json and table; bad ids are clear errors", async () => {
  const spawned = await env.run(["spawn", "executive", "--json"]);
  expect(spawned.code, spawned.stderr).toBe(0);
  const id = parseJson<{ id: string }>(spawned).id;
  const first = parseJson<Receipt>(await env.run(["send", id, "first question", "--json"]));
  expect(first.threadId).toBe(first.messageId);
  const second = parseJson<Receipt>(await env.run(["send", id, "a follow-up", "--reply-to", first.messageId, "--json"]));
  expect(second.threadId).toBe(first.messageId);
  const other = parseJson<Receipt>(await env.run(["send", id, "another topic", "--json"]));
  const third = parseJson<Receipt>(await env.run(["send", id, "and the last", "--thread", first.threadId, "--json"]));
  expect(third.threadId).toBe(first.messageId);
  expect(other.threadId).not.toBe(first.messageId);

  const json = await env.run(["thread", first.threadId, "--json"]);
  expect(json.code, json.stderr).toBe(0);
  const thread = parseJson<{ threadId: string; messages: { id: string; from: string | null; to: string; text: string; state: string; replyTo?: string; sentAt: string }[] }>(json);
  expect(thread.messages.map((m) => [m.text, m.from, m.to, m.replyTo ?? null])).toEqual([
    ["first question", null, id, null],
    ["a follow-up", null, id, first.messageId],
    ["and the last", null, id, null],
  ]);
  expect(thread.messages.every((m) => m.state === "delivered" || m.state === "queued")).toBe(true);
  const table = await env.run(["thread", first.threadId]);
  expect(table.code).toBe(0);
  const lines = table.stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^TIME +FROM +TO +STATE +MESSAGE +REPLY TO +TEXT/u);
  expect(lines.slice(1).map((line) => /(first question|a follow-up|and the last)$/u.exec(line)?.[1])).toEqual(["first question", "a follow-up", "and the last"]);

  // Plain send prints the ids too (no --json needed to continue a thread).
  const plain = await env.run(["send", id, "plain reply", "--reply-to", first.messageId]);
  expect(plain.code, plain.stderr).toBe(0);
  const printed = /^delivered \(message (\S+), thread (\S+)\)\n$/u.exec(plain.stdout);
  expect(printed, plain.stdout).not.toBeNull();
  expect(printed![2]).toBe(first.threadId);
  const after = parseJson<{ messages: { id: string; text: string }[] }>(await env.run(["thread", printed![2]!, "--json"]));
  expect(after.messages.find((m) => m.text === "plain reply")?.id).toBe(printed![1]);

  const unknown = await env.run(["thread", "no-such-thread"]);
  expect(unknown.code).toBe(3);
  expect(unknown.stderr).toContain(`No message of thread "no-such-thread" is kept`);
  for (const malformed of ["", "bad id!"]) {
    const badThread = await env.run(["thread", malformed]);
    expect(badThread.code, badThread.stderr).toBe(2);
    expect(badThread.stderr).toContain(`${JSON.stringify(malformed)} is not a thread id`);
  }
  const bad = await env.run(["send", id, "x", "--thread", "has space"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain(`threadId for the message to "${id}" must be a message id`);
  const unknownReply = await env.run(["send", id, "x", "--reply-to", "gone-long-ago"]);
  expect(unknownReply.code).toBe(2);
  expect(unknownReply.stderr).toContain(`replyTo "gone-long-ago" is not among the last 30 messages`);
  await env.run(["terminate", id]);
}, 60_000);
