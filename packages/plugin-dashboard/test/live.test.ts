// What the socket pushes: spawns, status changes, the timeline, terminals;
// and that nothing runs while nothing happens.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually } from "@tmux-claude/testkit";
import type { InstanceView, MessageView, ServerMessage } from "../src/protocol.js";
import { action, csrfOf, login, SocketClient, startDashboard, type DashboardEnv } from "./helpers.js";

const isInstance = (id: string, check: (view: InstanceView) => boolean = () => true) => (m: ServerMessage) => m.type === "instance" && m.instance.id === id && check(m.instance);

describe("the live feed", () => {
  let env: DashboardEnv;
  let cookie: string;
  let socket: SocketClient;
  beforeAll(async () => {
    env = await startDashboard();
    ({ cookie } = await login(env.loginUrl));
    socket = await SocketClient.connect(env.origin, { cookie });
    await socket.next((m) => m.type === "snapshot");
  });
  afterAll(async () => {
    socket?.close();
    await env?.close();
  });

  test("a spawn appears on the socket as an instance, and its status changes follow", async () => {
    const started = Date.now();
    const { instance } = await env.harness.kernel.spawn({ role: "manager", workDir: env.harness.workDir, name: "first" });
    const seen = await socket.next(isInstance(instance.id), 5_000, "the spawned instance");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(seen).toMatchObject({ instance: { id: instance.id, role: "manager", name: "first", agent: "echo", parentId: null, depth: 1 } });
    await socket.next(isInstance(instance.id, (view) => view.status === "idle" && view.attention === 3), 10_000, "idle");
    const listed = (await (await fetch(`${env.origin}/api/instances/${instance.id}`, { headers: { cookie } })).json()) as InstanceView;
    expect(listed.status).toBe("idle");
    // A child rolls up under its parent.
    const { instance: child } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir, parentId: instance.id });
    const childView = (await socket.next(isInstance(child.id), 5_000, "the child")) as { instance: InstanceView };
    expect(childView.instance).toMatchObject({ parentId: instance.id, depth: 2 });
  });

  test("a progress report reaches the page at once, and its removal too", async () => {
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    await socket.next(isInstance(instance.id), 5_000, "the instance");
    await env.harness.kernel.setProgress(instance.id, { done: 1, total: 3, current: "Writing tests", source: "tool" });
    const seen = (await socket.next(isInstance(instance.id, (view) => view.progress !== undefined), 5_000, "its progress")) as { instance: InstanceView };
    expect(seen.instance.progress).toEqual({ done: 1, total: 3, current: "Writing tests" });
    await env.harness.kernel.setProgress(instance.id, null);
    await socket.next(isInstance(instance.id, (view) => view.progress === undefined), 5_000, "no progress");
    await env.harness.kernel.terminate(instance.id);
  });

  test("a send appears as a message, queued or delivered, with its receipt time", async () => {
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    await socket.next(isInstance(instance.id, (view) => view.status === "idle"), 10_000, "idle");
    const receipt = await env.harness.kernel.send(instance.id, "hello timeline");
    const delivered = (await socket.next(
      (m) => m.type === "message" && m.message.id === receipt.messageId && m.message.state === "delivered",
      5_000,
      "the delivered message",
    )) as { message: MessageView };
    expect(delivered.message).toMatchObject({ to: instance.id, from: null, text: "hello timeline", state: "delivered" });
    expect(delivered.message.acceptedAt).toBeTruthy();
    const timeline = (await (await fetch(`${env.origin}/api/messages`, { headers: { cookie } })).json()) as MessageView[];
    expect(timeline.map((m) => m.id)).toContain(receipt.messageId);
    // A send to a busy instance shows queued (and counts in the instance's queue), then delivered.
    await env.harness.kernel.send(instance.id, "/work 800");
    await socket.next(isInstance(instance.id, (view) => view.status === "busy"), 5_000, "busy");
    const mark = socket.messages.length;
    const queued = await env.harness.kernel.send(instance.id, "after the work");
    expect(queued.state).toBe("queued");
    await socket.next((m) => m.type === "message" && m.message.id === queued.messageId && m.message.state === "queued", 5_000, "the queued message");
    await socket.next(isInstance(instance.id, (view) => view.queued === 1), 5_000, "queued: 1", mark);
    await socket.next((m) => m.type === "message" && m.message.id === queued.messageId && m.message.state === "delivered", 10_000, "its delivery");
    await socket.next(isInstance(instance.id, (view) => view.queued === 0 && view.status === "idle"), 10_000, "queued: 0", mark);
  });

  test("messages still queued when their instance is terminated show as dropped, not queued forever", async () => {
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    await socket.next(isInstance(instance.id, (view) => view.status === "idle"), 10_000, "idle");
    await env.harness.kernel.send(instance.id, "/work 5000");
    await socket.next(isInstance(instance.id, (view) => view.status === "busy"), 5_000, "busy");
    const ids = [(await env.harness.kernel.send(instance.id, "one")).messageId, (await env.harness.kernel.send(instance.id, "two")).messageId];
    await socket.next(isInstance(instance.id, (view) => view.queued === 2), 5_000, "queued: 2");
    await env.harness.kernel.terminate(instance.id);
    for (const id of ids) await socket.next((m) => m.type === "message" && m.message.id === id && m.message.state === "dropped", 5_000, `${id} dropped`);
    const timeline = (await (await fetch(`${env.origin}/api/messages`, { headers: { cookie } })).json()) as MessageView[];
    expect(timeline.filter((m) => ids.includes(m.id)).map((m) => m.state)).toEqual(["dropped", "dropped"]);
  });

  test("opening a terminal sends its screen, then the agent's output as it prints; close stops it", async () => {
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    await socket.next(isInstance(instance.id, (view) => view.status === "idle"), 10_000, "idle");
    const terminal = await SocketClient.connect(env.origin, { cookie });
    terminal.send({ type: "open", id: instance.id });
    const screen = (await terminal.next((m) => m.type === "screen" && m.id === instance.id, 5_000, "the screen")) as { data: string };
    expect(screen.data).toContain("echo-agent ready");
    await env.harness.kernel.send(instance.id, "streamed words");
    await eventually(
      () => terminal.messages.filter((m) => m.type === "output" && m.id === instance.id).map((m) => Buffer.from((m as { data: string }).data, "base64").toString()).join("").includes("echo: streamed words"),
      5_000,
      "the echo in the output stream",
    );
    const order = terminal.messages.filter((m) => m.type === "screen" || m.type === "output").map((m) => m.type);
    expect(order[0]).toBe("screen");
    terminal.send({ type: "close", id: instance.id });
    // After close, nothing more arrives: a sentinel error frame marks when the close was handled.
    terminal.send({ type: "open", id: "no-such-instance" });
    await terminal.next((m) => m.type === "error", 5_000, "the sentinel");
    const count = terminal.messages.length;
    await env.harness.kernel.send(instance.id, "after close");
    await eventually(async () => (await env.harness.received()).some((m) => m.text === "after close"), 5_000, "the later delivery");
    // Open again: once its screen shows the echo, the closed stream would have carried it by now.
    terminal.send({ type: "open", id: instance.id });
    const second = await terminal.next((m) => m.type === "screen" && m.id === instance.id && m.data.includes("echo: after close"), 5_000, "the second screen");
    expect(terminal.messages.slice(count, terminal.messages.indexOf(second)).filter((m) => m.type === "output")).toEqual([]);
    // The instance ending ends the stream.
    await env.harness.kernel.terminate(instance.id);
    await terminal.next((m) => m.type === "ended" && m.id === instance.id, 10_000, "ended");
    await socket.next((m) => m.type === "removed" && m.id === instance.id, 10_000, "removed");
    // Its messages stay in the timeline.
    const timeline = (await (await fetch(`${env.origin}/api/messages`, { headers: { cookie } })).json()) as MessageView[];
    expect(timeline.some((m) => m.to === instance.id && m.text === "streamed words")).toBe(true);
    terminal.close();
  });

  test("actions from the page: send, answer refused when not waiting, restart, terminate", async () => {
    const csrf = await csrfOf(env.origin, cookie);
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    await socket.next(isInstance(instance.id, (view) => view.status === "idle"), 10_000, "idle");
    const sent = await action(env.origin, cookie, csrf, instance.id, "send", { text: "from the page" });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect(sent.json.state).toBe("delivered");
    expect((await env.harness.received()).map((m) => m.text)).toContain("from the page");
    const answer = await action(env.origin, cookie, csrf, instance.id, "answer", { text: "y" });
    expect(answer.status).toBe(409);
    expect(answer.json.error.message).toContain("not waiting");
    const bad = await action(env.origin, cookie, csrf, instance.id, "send", { text: "" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("text");
    const extra = await action(env.origin, cookie, csrf, instance.id, "terminate", { cascade: "yes" });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toContain("cascade");
    const merge = await action(env.origin, cookie, csrf, instance.id, "merge", {});
    expect(merge.status).toBe(404);
    expect(merge.json.error.message).toContain("plugin-git");
    const restarted = await action(env.origin, cookie, csrf, instance.id, "restart", {});
    expect(restarted.status, JSON.stringify(restarted.json)).toBe(200);
    const terminated = await action(env.origin, cookie, csrf, instance.id, "terminate", { cascade: true });
    expect(terminated.status, JSON.stringify(terminated.json)).toBe(200);
    expect(terminated.json.terminated).toContain(instance.id);
    const gone = await action(env.origin, cookie, csrf, instance.id, "send", { text: "anyone?" });
    expect(gone.status).toBe(404);
    expect(gone.json.error.message).toContain(instance.id);
    expect((await fetch(`${env.origin}/api/session`, { headers: { cookie } })).status).toBe(200);
  });

  test("with nothing happening, the server uses next to no CPU (no timers, no polling)", async () => {
    await env.api.settled();
    const before = process.cpuUsage();
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const used = process.cpuUsage(before);
    const ms = (used.user + used.system) / 1000;
    const share = ms / (performance.now() - started);
    console.log(`idle CPU over 5 s with a socket open and ${(await env.harness.kernel.list()).length} instances: ${ms.toFixed(1)} ms (${(share * 100).toFixed(2)} %)`);
    expect(share).toBeLessThan(0.02);
  }, 20_000);
});
