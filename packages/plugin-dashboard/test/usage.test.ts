// Usage and cost on the page: the real Claude Code against the stand-in model
// reports each turn's usage (priced by agent-claude); the dashboard shows it
// per instance and rolled up per subtree.
import { afterAll, beforeAll, expect, test } from "vitest";
import { claude } from "@tmux-claude/agent-claude";
import { createClaudeHarness, type ClaudeHarness } from "@tmux-claude/testkit";
import { dashboard, type DashboardApi } from "../src/index.js";
import type { InstanceView, ServerMessage } from "../src/protocol.js";
import { login, SocketClient } from "./helpers.js";

const MODEL = "claude-sonnet-4-5-20250929";
let h: ClaudeHarness;
beforeAll(async () => {
  h = await createClaudeHarness({ adapterPlugin: claude(), agent: { args: ["--model", MODEL] }, config: { plugins: [dashboard({ port: 0 })] } });
}, 300_000);
afterAll(async () => h?.close());

test("each instance's usage and cost, and its subtree's, reach the socket after its turns", async () => {
  const api = h.kernel.plugin<DashboardApi>("dashboard")!;
  await api.listening();
  const { cookie } = await login(api.url()!);
  const socket = await SocketClient.connect(api.address()!.url, { cookie });
  h.model.rule({ name: "parent", when: (req) => JSON.stringify(req.body.messages ?? "").includes("parent turn"), reply: { text: "Parent done.", usage: { input_tokens: 10_000 } } });
  h.model.rule({ name: "child", when: (req) => JSON.stringify(req.body.messages ?? "").includes("child turn"), reply: { text: "Child done.", usage: { input_tokens: 20_000 } } });
  const { instance: parent } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "parent turn" });
  const { instance: child } = await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: parent.id, prompt: "child turn" });
  const costed = (id: string) => (m: ServerMessage) => m.type === "instance" && m.instance.id === id && m.instance.usage?.costUsd !== undefined;
  const childView = ((await socket.next(costed(child.id), 30_000, "the child's cost")) as { instance: InstanceView }).instance;
  expect(childView.usage).toMatchObject({ model: MODEL, inputTokens: 20_000 });
  const parentView = ((await socket.next(
    (m) => costed(parent.id)(m) && (m as { instance: InstanceView }).instance.usage!.subtreeCostUsd! > (m as { instance: InstanceView }).instance.usage!.costUsd!,
    30_000,
    "the parent's subtree cost",
  )) as { instance: InstanceView }).instance;
  const usage = parentView.usage!;
  expect(usage.model).toBe(MODEL);
  expect(usage.subtreeCostUsd).toBeCloseTo(usage.costUsd! + childView.usage!.costUsd!, 10);
  expect(usage.subtreeTokens).toBe(usage.inputTokens + usage.outputTokens + childView.usage!.inputTokens + childView.usage!.outputTokens);
  socket.close();
}, 120_000);
