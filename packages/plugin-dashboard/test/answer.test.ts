// A waiting instance: first in attention, answered from the page.
import { expect, test } from "vitest";
import { ECHO_AGENT, eventually } from "@tmux-claude/testkit";
import type { InstanceView, ServerMessage } from "../src/protocol.js";
import { action, csrfOf, login, SocketClient, startDashboard } from "./helpers.js";

test("a waiting instance comes first (attention 0) and the page's answer is typed in at once", async () => {
  const env = await startDashboard({
    agents: {
      asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\)$" },
    },
  });
  try {
    const { cookie } = await login(env.loginUrl);
    const socket = await SocketClient.connect(env.origin, { cookie });
    const { instance: calm } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir, agent: "asker" });
    const isView = (check: (view: InstanceView) => boolean) => (m: ServerMessage) => m.type === "instance" && m.instance.id === instance.id && check(m.instance);
    await socket.next(isView((view) => view.status === "idle"), 10_000, "idle");
    await env.harness.kernel.send(instance.id, "/ask", { whenBusy: "now" });
    await socket.next(isView((view) => view.status === "waiting" && view.attention === 0), 10_000, "waiting");
    const listed = (await (await fetch(`${env.origin}/api/instances`, { headers: { cookie } })).json()) as InstanceView[];
    expect(listed[0]!.id).toBe(instance.id);
    expect(listed.map((view) => view.id)).toContain(calm.id);
    const csrf = await csrfOf(env.origin, cookie);
    const refused = await action(env.origin, cookie, csrf, calm.id, "answer", { text: "y" });
    expect(refused.status).toBe(409);
    const answered = await action(env.origin, cookie, csrf, instance.id, "answer", { text: "y" });
    expect(answered.status, JSON.stringify(answered.json)).toBe(200);
    await eventually(async () => (await env.harness.kernel.read(instance.id)).screen.includes("answered"), 10_000, "the answer on the agent's screen");
    await socket.next(isView((view) => view.status !== "waiting"), 10_000, "no longer waiting");
    socket.close();
  } finally {
    await env.close();
  }
});
