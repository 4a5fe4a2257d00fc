// Threads over MCP: `send` takes threadId/replyTo and returns the thread id;
// `read` with `with` shows the conversation between two instances, in order.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "@tmux-claude/testkit";
import { mcp, type McpApi } from "../src/index.js";
import { createSetup, freePort, httpClient, ok, refused, textOf, call, tokenOf, type Setup } from "./helpers.js";

let s: Setup;
let exec: Client;
let execId: string;
let mgrId: string;
beforeAll(async () => {
  s = await createSetup();
  const port = await freePort();
  const kernel = await s.startKernel({ watch: "all", config: { plugins: [mcp({ port })] } });
  const { url } = await kernel.plugin<McpApi>("mcp")!.listen();
  execId = (await kernel.spawn({ role: "executive", workDir: s.workDir })).instance.id;
  mgrId = (await kernel.spawn({ role: "manager", workDir: s.workDir, parentId: execId })).instance.id;
  exec = await httpClient(url, await tokenOf(kernel, execId));
});
afterAll(async () => {
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
  // The manager answers (its own send to its parent goes through the kernel: MCP lets an instance message only below it).
  const answer = await s.kernel.send(execId, "auth reviewed: 2 findings", { replyTo: first.messageId }, mgrId);
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
