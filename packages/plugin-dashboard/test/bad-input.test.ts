// Bad input gets one clear error and the server keeps running.
import { createServer } from "node:net";
import { once } from "node:events";
import os from "node:os";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createHarness } from "@tmux-claude/testkit";
import { dashboard, type DashboardApi } from "../src/index.js";
import { DASHBOARD_FILE, readDashboardInfo } from "../src/state-file.js";
import { action, csrfOf, login, rawRequest, SocketClient, startDashboard, type DashboardEnv } from "./helpers.js";

test("a port in use is a clear error naming the port and how to choose another", async () => {
  const blocker = createServer();
  blocker.listen(0, "127.0.0.1");
  await once(blocker, "listening");
  const port = (blocker.address() as { port: number }).port;
  const harness = await createHarness({}, { label: "dash", start: false });
  try {
    const failure = await harness.startKernel({ config: { plugins: [dashboard({ port })] } }).catch((error: unknown) => error as Error & { code: string });
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code: string }).code).toBe("TC_DASHBOARD_PORT_IN_USE");
    expect((failure as Error).message).toContain(`127.0.0.1:${port}`);
    expect((failure as Error).message).toContain("--port");
    expect((failure as Error).message).toContain("port 0");
  } finally {
    blocker.close();
    await harness.close();
  }
});

test("a host that is not this machine's, or does not resolve, is its own clear error (not 'port in use')", async () => {
  const harness = await createHarness({}, { label: "dash", start: false });
  try {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine; .invalid never resolves (RFC 2606).
    for (const [host, code] of [["192.0.2.1", "EADDRNOTAVAIL"], ["no-such-host.invalid", "ENOTFOUND"]] as const) {
      const failure = (await harness.startKernel({ config: { plugins: [dashboard({ port: 0, host, allowRemote: true })] } }).catch((error: unknown) => error)) as Error & { code: string };
      expect(failure, host).toBeInstanceOf(Error);
      expect(failure.code, failure.message).toBe("TC_DASHBOARD_HOST_UNAVAILABLE");
      expect(failure.message).toContain(`${host}:0 (${code})`);
      expect(failure.message).toContain("127.0.0.1");
      expect(failure.message).toContain("--host");
    }
  } finally {
    await harness.close();
  }
});

test("a host other than loopback needs allowRemote; bad options name the key", () => {
  expect(() => dashboard({ host: "0.0.0.0" })).toThrow(/host "0\.0\.0\.0" is not loopback.*allowRemote: true/su);
  expect(() => dashboard({ host: "0.0.0.0", allowRemote: true })).not.toThrow();
  expect(() => dashboard({ host: "localhost" })).not.toThrow();
  expect(() => dashboard({ host: "::1" })).not.toThrow();
  expect(() => dashboard({ port: 70000 })).toThrow(/TC_PLUGIN_OPTIONS_INVALID|port/u);
  expect(() => dashboard({ port: "3001" as unknown as number })).toThrow(/port/u);
  expect(() => dashboard({ prot: 3001 } as never)).toThrow(/prot/u);
});

test("allowRemote on 0.0.0.0 answers to this machine's own names and addresses, still not to a foreign Host", async () => {
  const env = await startDashboard({}, { port: 0, host: "0.0.0.0", allowRemote: true });
  try {
    const port = env.address.port;
    const own = [os.hostname(), ...Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.family === "IPv4").map((a) => a.address))];
    for (const name of own) {
      expect((await rawRequest(`http://127.0.0.1:${port}`, "/health", { host: `${name}:${port}` })).status, name).not.toBe(403);
    }
    expect((await rawRequest(`http://127.0.0.1:${port}`, "/health", { host: `attacker.example:${port}` })).status).toBe(403);
  } finally {
    await env.close();
  }
});

test("in oneshot mode the plugin does not serve", async () => {
  const harness = await createHarness({ plugins: [dashboard({ port: 0 })] }, { label: "dash", watch: "on-demand" });
  try {
    const api = harness.kernel.plugin<DashboardApi>("dashboard")!;
    expect(api.url()).toBeUndefined();
    expect(api.address()).toBeUndefined();
    await expect(stat(path.join(harness.stateDir, DASHBOARD_FILE))).rejects.toThrow();
  } finally {
    await harness.close();
  }
});

describe("a running dashboard", () => {
  let env: DashboardEnv;
  let cookie: string;
  beforeAll(async () => {
    env = await startDashboard();
    ({ cookie } = await login(env.loginUrl));
  });
  afterAll(async () => env?.close());

  test("writes dashboard.json (no secret) and the secret to a file only the user can read; removes them on close", async () => {
    const file = path.join(env.harness.stateDir, DASHBOARD_FILE);
    const text = await readFile(file, "utf8");
    const secret = new URL(env.loginUrl).searchParams.get("token")!;
    expect(text).not.toContain(secret);
    const info = JSON.parse(text) as { pid: number; port: number; url: string; tokenFile: string };
    expect(info).toMatchObject({ pid: process.pid, port: env.address.port, url: env.origin });
    expect((await stat(file)).mode & 0o077).toBe(0);
    expect((await stat(info.tokenFile)).mode & 0o077).toBe(0);
    expect((await readDashboardInfo(env.harness.stateDir))?.secret).toBe(secret);
  });

  test("a malformed socket frame gets an error message and the socket stays open", async () => {
    const socket = await SocketClient.connect(env.origin, { cookie });
    await socket.next((m) => m.type === "snapshot");
    for (const frame of ["not json", "{}", JSON.stringify({ type: "open" }), JSON.stringify({ type: "dance", id: "x" }), "[1,2]"]) {
      const before = socket.messages.length;
      socket.send(frame);
      const error = await socket.next((m) => m.type === "error" && socket.messages.indexOf(m) >= before, 5_000, `the error for ${frame}`);
      expect(error).toMatchObject({ type: "error", code: "TC_DASHBOARD_BAD_REQUEST" });
      expect((error as { message: string }).message).toContain('"type": "open" | "close"');
    }
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await socket.next((m) => m.type === "error" && m.message.includes("binary"), 5_000, "the binary frame's error");
    socket.send({ type: "open", id: "nobody-1" });
    const unknown = await socket.next((m) => m.type === "error" && m.code === "TC_DASHBOARD_NOT_FOUND", 5_000, "not found");
    expect((unknown as { message: string }).message).toContain("nobody-1");
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    socket.close();
  });

  test("an action on an instance that no longer exists is a 404 naming it; unknown actions and non-JSON bodies are clear", async () => {
    const csrf = await csrfOf(env.origin, cookie);
    const { instance } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    await env.harness.kernel.terminate(instance.id);
    for (const name of ["send", "answer", "terminate", "restart", "merge"]) {
      const result = await action(env.origin, cookie, csrf, instance.id, name, { text: "x" });
      expect(result.status, name).toBe(404);
      expect(result.json.error.message).toContain(instance.id);
    }
    const unknown = await action(env.origin, cookie, csrf, "spec-1", "explode", {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toContain("explode");
    const { instance: live } = await env.harness.kernel.spawn({ role: "specialist", workDir: env.harness.workDir });
    const notJson = await fetch(`${env.origin}/api/instances/${live.id}/send`, { method: "POST", headers: { cookie, "x-csrf-token": csrf }, body: "text=hi" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { message: string } }).error.message).toContain("not JSON");
    expect((await fetch(`${env.origin}/api/instances/nobody-1`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${env.origin}/health`)).status).not.toBe(500);
  });
});
