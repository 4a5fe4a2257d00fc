// Threads over MCP: `send` takes threadId/replyTo and returns the thread id;
// `read` with `with` shows the conversation between two instances, in order.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { threadMessages } from "@tmux-claude/core";
import { eventually } from "@tmux-claude/testkit";
import { mcp, type McpApi } from "../src/index.js";
import { createSetup, freePort, httpClient, ok, refused, textOf, call, tokenOf, type Setup } from "./helpers.js";

let s: Setup;
let exec: Client;
let execId: string;
let mgrId: string;
let mgr: Client;
let specId: string;
let spec: Client;
let kernelOf: Awaited<ReturnType<Setup["startKernel"]>>;
beforeAll(async () => {
  s = await createSetup();
  const port = await freePort();
  const kernel = await s.startKernel({ watch: "all", config: { plugins: [mcp({ port })] } });
  const { url } = await kernel.plugin<McpApi>("mcp")!.listen();
  execId = (await kernel.spawn({ role: "executive", workDir: s.workDir })).instance.id;
  mgrId = (await kernel.spawn({ role: "manager", workDir: s.workDir, parentId: execId })).instance.id;
  exec = await httpClient(url, await tokenOf(kernel, execId));
  mgr = await httpClient(url, await tokenOf(kernel, mgrId));
  specId = (await kernel.spawn({ role: "specialist", workDir: s.workDir, parentId: mgrId })).instance.id;
  spec = await httpClient(url, await tokenOf(kernel, specId));
  kernelOf = kernel;
});
afterAll(async () => {
  await Promise.all([mgr, spec].map((c) => c?.close()));
  await exec?.close();
  await s?.close();
});

interface Receipt {
  messageId: string;
  threadId: string;
}

test("send returns the thread id; a reply continues it; read with shows both ways in order, with ids and threads", async () => {
  const first = await ok<Receipt>(exec, "send", { instanceId: mgrId, text: "review auth please" });
  expect(first.threadId).toBe(first.messageId);
  expect(textOf(await call(exec, "send", { instanceId: mgrId, text: "and the tests", threadId: first.threadId }))).toContain(`thread ${first.threadId}`);
  // The manager answers its parent through its own MCP connection (an instance may send to its parent; queued while it is busy).
  const answer = await ok<Receipt>(mgr, "send", { instanceId: execId, text: "auth reviewed: 2 findings", replyTo: first.messageId });
  expect(answer.threadId).toBe(first.messageId);
  const read = await eventuallyConversation(3);
  expect(read.conversation.map((m) => [m.from, m.to, m.text, m.threadId, m.replyTo ?? null])).toEqual([
    [execId, mgrId, "review auth please", first.messageId, null],
    [execId, mgrId, "and the tests", first.messageId, null],
    [mgrId, execId, "auth reviewed: 2 findings", first.messageId, first.messageId],
  ]);
  const text = textOf(await call(exec, "read", { instanceId: mgrId, with: execId }));
  expect(text).toContain(`Conversation between "${mgrId}" and "${execId}" (oldest first):`);
  expect(text).toMatch(new RegExp(`${mgrId.replace(/\./gu, "\\.")} -> ${execId} \\[\\w+\\] \\(message ${answer.messageId}, thread ${first.messageId}, reply to ${first.messageId}\\): auth reviewed`, "u"));
  // Reading itself with its child: the same conversation.
  expect((await ok<{ conversation: unknown[] }>(exec, "read", { instanceId: execId, with: mgrId })).conversation).toHaveLength(3);
  expect(await refused(exec, "send", { instanceId: mgrId, text: "x", replyTo: "not a valid id!" })).toContain("replyTo for the message to");
});

/** The conversation once `count` messages reached the inboxes (a message typed in at once is written with the instance's next write). */
function eventuallyConversation(count: number): Promise<{ conversation: { from: string | null; to: string; text: string; threadId?: string; replyTo?: string }[] }> {
  return eventually(async () => {
    const read = await ok<{ conversation: { from: string | null; to: string; text: string; threadId?: string; replyTo?: string }[] }>(exec, "read", { instanceId: mgrId, with: execId });
    return read.conversation.length >= count ? read : undefined;
  }, 10_000, `${count} messages between the two`);
}

test("a specialist answers its parent through MCP send with replyTo: the thread has both sides in order; it may not interrupt, nor send elsewhere", async () => {
  const asked = await ok<Receipt>(mgr, "send", { instanceId: specId, text: "which files did you touch?" });
  const answered = await ok<Receipt & { state: string }>(spec, "send", { instanceId: mgrId, text: "src/auth.ts only", replyTo: asked.messageId });
  expect(answered.threadId).toBe(asked.messageId);
  const followUp = await ok<Receipt>(mgr, "send", { instanceId: specId, text: "thanks", replyTo: answered.messageId });
  expect(followUp.threadId).toBe(asked.messageId);
  const thread = await eventually(async () => {
    const messages = threadMessages(await kernelOf.list(), asked.messageId);
    return messages.length >= 3 ? messages : undefined;
  }, 10_000, "three messages in the thread");
  expect(thread.map((m) => [m.from, m.to, m.text, m.replyTo ?? null])).toEqual([
    [mgrId, specId, "which files did you touch?", null],
    [specId, mgrId, "src/auth.ts only", asked.messageId],
    [mgrId, specId, "thanks", answered.messageId],
  ]);
  const withParent = await ok<{ conversation: { from: string | null; text: string }[] }>(mgr, "read", { instanceId: specId, with: mgrId });
  expect(withParent.conversation.map((m) => m.from)).toEqual([mgrId, specId, mgrId]);
  // Upward is queued or refused while the parent is busy, never typed in mid-turn; and only to its own parent.
  expect(await refused(spec, "send", { instanceId: mgrId, text: "now!", whenBusy: "now" })).toContain(`may not send to its parent "${mgrId}" with whenBusy "now"`);
  expect(await refused(spec, "send", { instanceId: execId, text: "hi" })).toContain(`It may send only to its parent ("${mgrId}")`);
  expect(await refused(spec, "spawn", { role: "specialist" })).toMatch(/may not use tmux-claude's orchestration tools/u);
});
