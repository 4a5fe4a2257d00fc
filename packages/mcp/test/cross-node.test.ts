// Parent and child on different nodes (issue 13): three serving kernels, each
// with its own tmux socket, state dir, node id and MCP endpoint, sharing one
// Redis (the redis plugin: store and bus); node B's serve runs in a process of
// its own, as on another machine. An agent talks to the MCP endpoint
// of the node that launched it; that endpoint knows every caller from the
// shared store and checks the caller's subtree there, and the kernel of the
// node that performs a spawn checks the role rules. The executive is the real
// Claude Code against the stand-in model; the instances whose MCP calls the
// test makes itself (with their own tokens) are the cheaper echo agent.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { claude } from "@tmux-claude/agent-claude";
import { ErrorCodes, isTmuxClaudeError, type InstanceRecord, type Kernel } from "@tmux-claude/core";
import { redis } from "@tmux-claude/plugin-redis";
import {
  createClaudeHarness,
  freePort,
  lastUserText,
  removeTestSocket,
  startReadyProcess,
  startRedis,
  testSocket,
  type ClaudeHarness,
  type ReadyProcess,
  type RedisServer,
} from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mcp, MCP_URL_ENV, type McpApi } from "../src/index.js";
import { call, httpClient, instanceOf, ok, refused, results, tokenOf, tool } from "./helpers.js";

const execFileAsync = promisify(execFile);
const prefix = `tc-mcp-cross-${process.pid}`;
const limits = { spawnTimeout: 60_000, sendTimeout: 30_000 };

const SERVE = fileURLToPath(new URL("./fixtures/node-serve.mjs", import.meta.url));

let server: RedisServer;
let h: ClaudeHarness;
let serveB: ReadyProcess | undefined;
const clients: Client[] = [];
/**
 * Each node: its tmux socket and state dir (another machine in all but the Redis) and the MCP endpoint its serve
 * listens on. A and C are serving kernels of this process; B's serve runs in a process of its own.
 */
const nodes = new Map<string, { socket: string; stateDir: string; url: string; kernel?: Kernel }>();

const node = (id: string) => nodes.get(id)!;
const a = () => node("node-a").kernel!;
const c = () => node("node-c").kernel!;

const listen = async (kernel: Kernel) => (await kernel.plugin<McpApi>("mcp")!.listen()).url;

/** An MCP client authenticated as the instance (its token from its process), at the endpoint the instance was given. */
async function clientOf(id: string): Promise<Client> {
  const record = await a().get(id);
  const client = await httpClient(record.launch.env[MCP_URL_ENV]!, await tokenOf(a(), id));
  clients.push(client);
  return client;
}

const spawned = (result: Record<string, unknown>) => (result as { instance: { id: string; node: string; parentId: string | null } }).instance;

/** Does the tmux server of `socket` run the instance's pane? (Pane ids are per server, so its session names it too.) */
async function runsOn(socket: string, record: InstanceRecord): Promise<boolean> {
  const panes = await execFileAsync("tmux", ["-L", socket, "list-panes", "-a", "-F", "#{session_name} #{pane_id}"]).then(({ stdout }) => stdout, () => "");
  return panes.split("\n").includes(`${record.tmux.session} ${record.tmux.paneId}`);
}

beforeAll(async () => {
  server = await startRedis();
  const plugins = () => [redis({ url: server.url, prefix }), mcp({ port: 0 })];
  h = await createClaudeHarness({ adapterPlugin: claude(), config: { node: { id: "node-a" }, plugins: plugins(), limits } });
  nodes.set("node-a", { socket: h.socket, stateDir: h.stateDir, url: await listen(h.kernel), kernel: h.kernel });
  const place = (id: string) => ({ socket: testSocket(id), stateDir: path.join(h.dir, `state-${id}`) });

  // Node B: A's settings (the same agents and roles) on its own socket and state dir, its serve in its own process.
  const b = { ...place("node-b"), port: await freePort() };
  const configFile = path.join(h.dir, "node-b.json");
  await writeFile(configFile, JSON.stringify({ ...h.kernel.config, tmux: { ...h.kernel.config.tmux, socket: b.socket }, stateDir: b.stateDir, node: { id: "node-b" }, plugins: [] }));
  nodes.set("node-b", { ...b, url: `http://127.0.0.1:${b.port}/mcp` });
  serveB = await startReadyProcess(SERVE, [configFile, server.url, prefix, String(b.port)]);

  const placeC = place("node-c");
  const kernelC = await h.startKernel({}, undefined, "all", { tmux: { ...h.userConfig.tmux, socket: placeC.socket }, stateDir: placeC.stateDir, node: { id: "node-c" }, plugins: plugins() });
  nodes.set("node-c", { ...placeC, url: await listen(kernelC), kernel: kernelC });
}, 300_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  // B's Claude Code ends before the harness removes the home it writes to on its way out.
  await serveB?.kill();
  if (nodes.has("node-b")) await removeTestSocket(node("node-b").socket);
  await h?.close();
  if (nodes.has("node-c")) await removeTestSocket(node("node-c").socket);
  await server?.close();
});

describe("a Claude Code executive on node A", () => {
  test("spawns a manager placed on node B through its MCP tools, sends it a message and reads its reply", async () => {
    h.model.rule({
      name: "cross-node script",
      when: (req) => instanceOf(req) !== undefined,
      reply: (req) => {
        const id = instanceOf(req)!;
        const done = results(req);
        if (id === "exec-1") {
          const manager = "exec-1.mgr-1";
          switch (done.length) {
            case 0:
              return tool("spawn", { role: "manager", node: "node-b", prompt: "Report for duty." });
            case 1:
              return tool("read", { instanceId: manager, wait: true, timeoutMs: 60_000 });
            case 2:
              return tool("send", { instanceId: manager, text: "Where do you run?" });
            case 3:
              return tool("read", { instanceId: manager, wait: true, timeoutMs: 60_000 });
            default:
              return { text: `Executive heard: ${/MANAGER SAYS: [^"\\]*/u.exec(done[3] ?? "")?.[0] ?? "(nothing)"}` };
          }
        }
        if (id === "exec-1.mgr-1") {
          // Its first turn calls list through its own MCP session (the endpoint of node B), then answers each message.
          if (done.length === 0) return tool("list", {});
          if (lastUserText(req).includes("Where do you run?")) return { text: "MANAGER SAYS: running on node-b" };
          const listed = done[0] ?? "";
          return { text: `MANAGER READY: ${listed.includes("exec-1.mgr-1") && listed.includes("node-b") ? "my list works" : `my list failed: ${listed}`}` };
        }
        return { text: `unexpected instance ${id}` };
      },
    });

    const { instance: exec } = await a().spawn({ role: "executive", workDir: h.workDir, prompt: "Put a manager on node-b and ask it where it runs." });
    const final = await a().read(exec.id, { wait: true, timeoutMs: 150_000 });
    expect(final.lastReply).toBe("Executive heard: MANAGER SAYS: running on node-b");

    // The manager runs in node B's tmux, under the executive, and was given node B's endpoint (the executive A's).
    const manager = await a().get("exec-1.mgr-1");
    expect(manager).toMatchObject({ role: "manager", parentId: exec.id, agent: "claude", tmux: { node: "node-b" } });
    expect(await runsOn(node("node-b").socket, manager)).toBe(true);
    expect(await runsOn(h.socket, manager)).toBe(false);
    expect(manager.launch.env[MCP_URL_ENV]).toBe(node("node-b").url);
    // The MCP config Claude Code runs with was written by B, in B's state dir; A holds no files of it.
    const mcpConfig = JSON.parse(await readFile(path.join(node("node-b").stateDir, "agents", manager.id, "mcp.json"), "utf8"));
    expect(mcpConfig.mcpServers["tmux-claude"].url).toBe(node("node-b").url);
    expect(existsSync(path.join(h.stateDir, "agents", manager.id))).toBe(false);
    expect((await a().get(exec.id)).launch.env[MCP_URL_ENV]).toBe(node("node-a").url);
    // Its prompt turn used its MCP tools (its list call answered), which the executive read across nodes.
    expect((await a().read(manager.id)).lastReply).toBe("MANAGER SAYS: running on node-b");
    const execTurns = h.model.requests.filter((r) => r.kind === "messages" && instanceOf(r) === exec.id);
    expect(results(execTurns.at(-1)!)[1]).toContain("MANAGER READY: my list works");
    // The executive's message came from the executive.
    expect(manager.messages?.find((m) => m.text === "Where do you run?")).toMatchObject({ from: exec.id, state: "delivered" });

    // Terminating the executive's tree from A ends the manager on B.
    expect((await a().terminate(exec.id, { cascade: true })).sort()).toEqual([exec.id, manager.id].sort());
    expect(await runsOn(node("node-b").socket, manager)).toBe(false);
  }, 240_000);
});

describe("role and subtree checks across nodes (echo agents, MCP calls with their own tokens)", () => {
  let exec: string;
  let mgr: string;
  let spec: string;
  let outsider: string;
  let execClient: Client;
  let mgrClient: Client;
  let specClient: Client;
  /** The specialist's token at node A's endpoint. */
  let specAtA: Client;

  beforeAll(async () => {
    exec = (await a().spawn({ role: "executive", agent: "echo", workDir: h.workDir })).instance.id;
    execClient = await clientOf(exec);
    const placed = spawned(await ok(execClient, "spawn", { role: "manager", agent: "echo", node: "node-b" }));
    mgr = placed.id;
    expect(placed).toMatchObject({ node: "node-b", parentId: exec });
    mgrClient = await clientOf(mgr);
    // Someone else's instance on node C: a top-level manager the root spawned there.
    outsider = (await c().spawn({ role: "manager", agent: "echo", workDir: h.workDir })).instance.id;
  });

  test("each instance talks to its own node's endpoint", async () => {
    expect((await a().get(exec)).launch.env[MCP_URL_ENV]).toBe(node("node-a").url);
    expect((await a().get(mgr)).launch.env[MCP_URL_ENV]).toBe(node("node-b").url);
    expect((await a().get(outsider)).launch.env[MCP_URL_ENV]).toBe(node("node-c").url);
  });

  test("a manager on B spawns a specialist on C under itself, sends to it, reads it and sees it in its list", async () => {
    const child = spawned(await ok(mgrClient, "spawn", { role: "specialist", agent: "echo", node: "node-c", prompt: "first task" }));
    spec = child.id;
    expect(child).toMatchObject({ node: "node-c", parentId: mgr });
    expect(spec.startsWith(`${mgr}.spec-`)).toBe(true);
    expect((await a().get(spec)).launch.env[MCP_URL_ENV]).toBe(node("node-c").url);
    specClient = await clientOf(spec);

    // Its first turn over (read waits across nodes), the next message is typed in at once.
    expect((await ok<{ screen: string }>(mgrClient, "read", { instanceId: spec, wait: true, timeoutMs: 10_000 })).screen).toContain("echo: first task");
    expect(await ok(mgrClient, "send", { instanceId: spec, text: "second task" })).toMatchObject({ instanceId: spec, state: "delivered" });
    const read = await ok<{ id: string; screen: string }>(mgrClient, "read", { instanceId: spec, wait: true, timeoutMs: 10_000 });
    expect(read.screen).toContain("echo: second task");
    const listed = await ok<{ instances: { id: string; node: string }[] }>(mgrClient, "list");
    expect(listed.instances.map((i) => [i.id, i.node]).sort()).toEqual([
      [mgr, "node-b"],
      [spec, "node-c"],
    ]);
  });

  test("a spawn placed on another node whose workDir is not there says on which node it was looked for", async () => {
    const missing = path.join(h.workDir, "not-on-node-c");
    const message = await refused(execClient, "spawn", { role: "manager", agent: "echo", node: "node-c", workDir: missing });
    expect(message).toContain(`workDir "${missing}" does not exist`);
    expect(message).toContain('It was looked for on node "node-c", where the spawn was placed');
  });

  test("the executive on A restarts its manager on B: relaunched by B, with the same token and B's endpoint", async () => {
    const token = await tokenOf(a(), mgr);
    const restarted = spawned(await ok(execClient, "restart", { instanceId: mgr }));
    expect(restarted).toMatchObject({ id: mgr, node: "node-b", parentId: exec });
    // B kept the token in its own state dir; the old process's sessions ended with it, so the manager opens a new one.
    expect(await tokenOf(a(), mgr)).toBe(token);
    expect((await a().get(mgr)).launch.env[MCP_URL_ENV]).toBe(node("node-b").url);
    mgrClient = await clientOf(mgr);
    expect((await ok<{ instances: { id: string }[] }>(mgrClient, "list")).instances.map((i) => i.id)).toContain(spec);
  });

  test("a manager on B may not send to, read, terminate or spawn under an instance outside its subtree on C", async () => {
    const outside = /acts only on its own subtree/u;
    expect(await refused(mgrClient, "send", { instanceId: outsider, text: "hello stranger" })).toMatch(outside);
    expect(await refused(mgrClient, "terminate", { instanceId: outsider })).toMatch(new RegExp(`may not terminate "${outsider}"`, "u"));
    expect(await refused(mgrClient, "read", { instanceId: outsider })).toMatch(outside);
    expect(await refused(mgrClient, "restart", { instanceId: outsider })).toMatch(outside);
    expect(await refused(mgrClient, "spawn", { role: "specialist", agent: "echo", parentId: outsider, node: "node-c" })).toMatch(/may not spawn under/u);
    // Nor up its own chain: its parent on A is not below it.
    expect(await refused(mgrClient, "terminate", { instanceId: exec })).toMatch(outside);
    expect((await a().get(outsider)).status).not.toBe("exited");
    expect((await h.received()).map((m) => m.text)).not.toContain("hello stranger");
  });

  test("a specialist may not spawn, whichever node it asks and wherever the child would go", async () => {
    const noTools = /may not use tmux-claude's orchestration tools: its role spawns nothing/u;
    expect(await refused(specClient, "spawn", { role: "specialist", agent: "echo" })).toMatch(noTools);
    // The same token at another node's endpoint: the caller is the same instance there (the store is shared).
    specAtA = await httpClient(node("node-a").url, await tokenOf(a(), spec));
    clients.push(specAtA);
    expect(await refused(specAtA, "spawn", { role: "specialist", agent: "echo", node: "node-b" })).toMatch(noTools);
    // Its manager asks for a child under it (a descendant, so the subtree check passes): the kernel that would spawn it refuses by role.
    for (const where of ["node-a", "node-b", "node-c"]) {
      expect(await refused(mgrClient, "spawn", { role: "specialist", agent: "echo", parentId: spec, node: where })).toMatch(
        new RegExp(`A specialist \\("${spec.replaceAll(".", "\\.")}"\\) may not spawn a specialist`, "u"),
      );
    }
    // The root through the kernel API on C, routed to B's serve: the same refusal, with its code, back over the bus.
    const error = await c()
      .spawn({ role: "manager", agent: "echo", workDir: h.workDir, parentId: spec, node: "node-b" })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(isTmuxClaudeError(error, ErrorCodes.ROLE_NOT_ALLOWED)).toBe(true);
    expect((await a().list({ parentId: spec })).map((i) => i.id)).toEqual([]);
  });

  test("a manager on B terminates its own child on C; the executive on A ends the manager's tree on B and C", async () => {
    const second = spawned(await ok(mgrClient, "spawn", { role: "specialist", agent: "echo", node: "node-c" })).id;
    expect(await ok(mgrClient, "terminate", { instanceId: second })).toEqual({ terminated: [second] });
    expect((await a().list()).map((i) => i.id)).not.toContain(second);

    expect(await refused(execClient, "terminate", { instanceId: mgr })).toMatch(/running child/u);
    const ended = await ok<{ terminated: string[] }>(execClient, "terminate", { instanceId: mgr, cascade: true });
    expect(ended.terminated.sort()).toEqual([mgr, spec].sort());
    const left = (await a().list()).map((i) => i.id);
    expect(left).toContain(exec);
    expect(left).toContain(outsider);
    expect(left).not.toContain(spec);
    // Its token is refused at its next request on every node's endpoint, not only on C's, which closed its sessions.
    await expect(call(specAtA, "list")).rejects.toThrow(/no instance has it/u);
  });
});
