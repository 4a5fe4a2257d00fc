import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Kernel } from "@tmux-claude/core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { defaultPort, MCP_URL_ENV } from "../src/index.js";
import { createSetup, ok, refused, type Setup } from "./helpers.js";

const SERVER = fileURLToPath(new URL("./fixtures/stdio-server.mjs", import.meta.url));

let s: Setup;
let client: Client;
let transport: StdioClientTransport;
let stderr = "";
const transportErrors: Error[] = [];

beforeAll(async () => {
  s = await createSetup();
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [SERVER, JSON.stringify(s.userConfig)],
    cwd: s.workDir,
    env: { ...(process.env as Record<string, string>) },
    stderr: "pipe",
  });
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  client = new Client({ name: "person", version: "0.0.0" });
  await client.connect(transport);
  // Anything on stdout that is not protocol makes the client's transport report an error.
  transport.onerror = (error) => transportErrors.push(error);
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await s?.close();
});

test("the root lists every tool, plugin tools of every role included", async () => {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(["get_progress", "list", "manager-report", "progress", "read", "restart", "resume", "send", "spawn", "specialist-note", "terminate", "whoami"]);
  expect(client.getServerVersion()?.name).toBe("tmux-claude");
});

test("runs every tool as the root; instances outlive the client", async () => {
  // workDir defaults to the server's cwd for the root; no parent = top level.
  const exec = (await ok<{ instance: { id: string; workDir: string; parentId: string | null } }>(client, "spawn", { role: "executive", prompt: "hello" })).instance;
  expect(exec).toMatchObject({ id: "exec-1", workDir: s.workDir, parentId: null });
  const mgr = (await ok<{ instance: { id: string } }>(client, "spawn", { role: "manager", parentId: exec.id, workDir: "." })).instance.id;
  expect(mgr).toBe("exec-1.mgr-1");

  expect((await ok<{ state: string }>(client, "send", { instanceId: mgr, text: "first task" })).state).toMatch(/delivered|queued/u);
  const read = await ok<{ status: string; screen: string }>(client, "read", { instanceId: mgr, wait: true });
  expect(read.status).toBe("idle");
  expect(read.screen).toContain("echo: first task");
  expect((await ok<{ instances: { id: string; children: string[] }[] }>(client, "list")).instances).toMatchObject([
    { id: exec.id, children: [mgr] },
    { id: mgr, children: [] },
  ]);
  expect((await ok<{ instance: { status: string } }>(client, "restart", { instanceId: mgr })).instance.status).toBe("idle");
  expect(await ok(client, "whoami")).toEqual({ greeting: "hello", instanceId: null, role: null });
  expect(await refused(client, "terminate", { instanceId: exec.id })).toMatch(/running child/u);
  expect(await refused(client, "spawn", { role: 42 })).toContain("role: expected a string, got 42");
  expect((await ok<{ terminated: string[] }>(client, "terminate", { instanceId: mgr })).terminated).toEqual([mgr]);

  // reuse: only "idle"; with no idle specialist at the top level (and an echo agent, which cannot reset) the spawn is cold, and says so.
  expect(await refused(client, "spawn", { role: "specialist", reuse: "busy" })).toContain(`reuse: expected "idle", got "busy"`);
  const spawned = await ok<{ instance: { id: string }; source: string }>(client, "spawn", { role: "specialist", reuse: "idle" });
  expect(spawned.source).toBe("cold");
  const kept = spawned.instance.id;
  const started = Date.now();
  await client.close();
  // The server ends on its own once its client is gone (close() waits for that; it would signal after 2 s) ...
  expect(stderr).toContain("stdio-server: client gone, kernel closed");
  expect(Date.now() - started).toBeLessThan(2_000);
  // ... and what it spawned keeps running in tmux, with its own MCP endpoint named in its env.
  const kernel: Kernel = await s.startKernel({ watch: "on-demand", config: { plugins: [] } });
  const survivors = await kernel.list();
  expect(survivors.map((i) => [i.id, i.status])).toEqual([
    [exec.id, "idle"],
    [kept, "idle"],
  ]);
  expect(await s.tmux("has-session", "-t", kept)).toBe("");
  expect(survivors[0]!.launch.env[MCP_URL_ENV]).toBe(`http://127.0.0.1:${defaultPort(s.socket)}/mcp`);
  expect((await kernel.read(kept)).status).toBe("idle");
  expect(transportErrors).toEqual([]);
  expect(stderr).not.toMatch(/"level":(50|60)/u);
});
