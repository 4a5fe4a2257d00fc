import { request } from "node:http";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { secretDigest, type Kernel, type Plugin } from "@tmux-claude/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mcp, MCP_TOKEN_ENV, MCP_URL_ENV, type McpApi } from "../src/index.js";
import { call, createSetup, httpClient, ok, refused, textOf, tokenOf, toolsPlugin, type Setup } from "./helpers.js";

const CORE_TOOLS = ["get_progress", "list", "read", "restart", "resume", "send", "spawn", "terminate"];
/** Every agent may report its own progress, whatever its role. */
const EVERYONE = ["progress"];

let s: Setup;
let kernel: Kernel;
let url: string;
let port: number;
let exec: string;
let execClient: Client;
const clients: Client[] = [];

async function connect(token: string): Promise<Client> {
  const client = await httpClient(url, token);
  clients.push(client);
  return client;
}

/** A raw HTTP request, so tests can set Host and Origin as an attacker would. */
function raw(options: { headers: Record<string, string>; body?: unknown; path?: string; method?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: options.path ?? "/mcp",
        method: options.method ?? "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...options.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
};
const spawnCall = (id = 2) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "spawn", arguments: { role: "manager", prompt: "x" } } });

/** Nodes the `lostNodes` plugin reports lost, as a heartbeat plugin would. */
const lost = new Set<string>();
const lostNodes: Plugin = { name: "lost-nodes", apply: (ctx) => ctx.hooks.nodes.tap((reports) => [...reports, ...[...lost].map((id) => ({ id, state: "lost" as const, reason: "test" }))]) };

beforeAll(async () => {
  s = await createSetup();
  kernel = await s.startKernel({ config: { plugins: [mcp({ port: 0 }), toolsPlugin(), lostNodes] } });
  ({ url, port } = await kernel.plugin<McpApi>("mcp")!.listen());
  ({
    instance: { id: exec },
  } = await kernel.spawn({ role: "executive", workDir: s.workDir }));
  execClient = await connect(await tokenOf(kernel, exec));
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await s?.close();
});

describe("tokens", () => {
  test("every spawned instance gets the endpoint URL and its own 32-byte secret", async () => {
    const record = await kernel.get(exec);
    expect(record.launch.env[MCP_URL_ENV]).toBe(`http://127.0.0.1:${port}/mcp`);
    // The instance has the secret; the store keeps only its digest.
    const token = await tokenOf(kernel, exec);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    expect(record.launch.env[MCP_TOKEN_ENV]).toBe(secretDigest(token));
    const { instance } = await kernel.spawn({ role: "executive", workDir: s.workDir });
    expect(await tokenOf(kernel, instance.id)).not.toBe(token);
    await kernel.terminate(instance.id);
  });
});

describe("an executive over HTTP", () => {
  test("lists the core tools and the plugin tools meant for it, with input and output schemas", async () => {
    const { tools } = await execClient.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...CORE_TOOLS, ...EVERYONE, "whoami"].sort());
    const spawn = tools.find((t) => t.name === "spawn")!;
    expect(spawn.inputSchema.required).toEqual(["role"]);
    expect(Object.keys(spawn.inputSchema.properties ?? {}).sort()).toEqual(["agent", "budget", "context", "name", "node", "parentId", "plugins", "prompt", "reuse", "role", "workDir"]);
    for (const tool of tools) expect(tool.outputSchema?.type, tool.name).toBe("object");
    expect(tools.find((t) => t.name === "read")!.annotations).toEqual({ readOnlyHint: true });
    expect(tools.find((t) => t.name === "terminate")!.annotations).toEqual({ destructiveHint: true });
  });

  test("runs every tool as itself", async () => {
    // spawn: parent defaults to the caller, workDir to the caller's.
    const spawned = await ok<{ instance: { id: string; parentId: string; workDir: string; status: string }; receipt: { state: string } }>(execClient, "spawn", {
      role: "manager",
      prompt: "plan the work",
      name: "planner",
    });
    const mgr = spawned.instance.id;
    expect(mgr).toMatch(new RegExp(`^${exec}\\.mgr-\\d+$`, "u"));
    expect(spawned.instance.parentId).toBe(exec);
    expect(spawned.instance.workDir).toBe(s.workDir);
    expect(spawned.receipt.state).toBe("delivered");
    expect((await s.received()).map((m) => m.text)).toContain("plan the work");

    const read = await ok<{ id: string; status: string; screen: string; queued: number }>(execClient, "read", { instanceId: mgr, wait: true, lines: 10 });
    expect(read).toMatchObject({ id: mgr, status: "idle", queued: 0 });
    expect(read.screen).toContain("echo: plan the work");

    const sent = await ok<{ state: string; instanceId: string }>(execClient, "send", { instanceId: mgr, text: "status $(touch x)?" });
    expect(sent).toMatchObject({ state: "delivered", instanceId: mgr });
    expect((await s.received()).at(-1)!.text).toBe("status $(touch x)?");

    const listed = await ok<{ instances: { id: string; children: string[]; parentId: string | null; createdAt: string }[] }>(execClient, "list");
    expect(listed.instances.map((i) => i.id)).toEqual([exec, mgr]);
    expect(listed.instances[0]!.children).toEqual([mgr]);
    expect(JSON.stringify(listed)).not.toContain(MCP_TOKEN_ENV);
    await ok(execClient, "read", { instanceId: mgr, wait: true });
    const managers = await ok<{ instances: { id: string }[] }>(execClient, "list", { role: "manager", status: "idle" });
    expect(managers.instances.map((i) => i.id)).toEqual([mgr]);

    const restarted = await ok<{ instance: { id: string; status: string } }>(execClient, "restart", { instanceId: mgr });
    expect(restarted.instance).toMatchObject({ id: mgr, status: "idle" });

    const whoami = await ok(execClient, "whoami", { greeting: "hi" });
    expect(whoami).toEqual({ greeting: "hi", instanceId: exec, role: "executive" });

    const result = await call(execClient, "terminate", { instanceId: mgr });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ terminated: [mgr] });
    expect(textOf(result)).toContain(`Terminated "${mgr}"`);
    expect((await kernel.list()).map((i) => i.id)).toEqual([exec]);
  });

  test("invalid arguments are tool errors that name the field", async () => {
    expect(await refused(execClient, "spawn", {})).toMatch(/role: is required/u);
    expect(await refused(execClient, "spawn", { role: "manager", parentID: exec })).toMatch(/parentID: unknown argument; spawn takes role, workDir/u);
    expect(await refused(execClient, "read", { instanceId: exec, lines: 0 })).toContain("lines: expected an integer >= 1, got 0");
    expect(await refused(execClient, "read", { instanceId: exec, lines: 3_000_000_000 })).toContain("lines: expected an integer <= 10000, got 3000000000");
    expect(await refused(execClient, "send", { instanceId: exec, text: "x", whenBusy: "later" })).toContain('whenBusy: expected one of "queue", "now", "refuse", got "later"');
    expect(await refused(execClient, "manager-report", {})).toMatch(/manager-report is for role\(s\) manager|is for role\(s\) manager/u);
    expect(await refused(execClient, "nope")).toMatch(/Unknown tool "nope"/u);
  });

  test("spawn on a node no routing plugin reaches is a tool error naming the node", async () => {
    const result = await call(execClient, "spawn", { role: "manager", node: "ghost-node" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Node "ghost-node" could not be reached to spawn an instance of role "manager"');
  });

  test("kernel errors come back as tool errors with their message; the server keeps serving", async () => {
    expect(await refused(execClient, "spawn", { role: "executive" })).toMatch(/may not spawn a executive|may spawn: manager/u);
    expect(await refused(execClient, "spawn", { role: "manager", workDir: "/does/not/exist" })).toMatch(/workDir "\/does\/not\/exist" does not exist/u);
    expect(await refused(execClient, "read", { instanceId: `${exec}.mgr-404` })).toMatch(/No instance/u);
    expect(await refused(execClient, "read", { instanceId: exec, wait: true })).toMatch(/may not read itself with wait/u);
    expect((await ok<{ id: string }>(execClient, "read", { instanceId: exec })).id).toBe(exec);
  });
});

describe("another node's instance", () => {
  test("list flags a child on a node that is down as unreachable, keeping its last status", async () => {
    const other = await s.startKernel({ watch: "on-demand", config: { node: { id: "node-z" }, plugins: [] } });
    const { instance: child } = await other.spawn({ role: "manager", parentId: exec, workDir: s.workDir });
    try {
      lost.add("node-z");
      const listed = await call(execClient, "list");
      const view = (listed.structuredContent as { instances: { id: string; node: string; status: string; unreachable?: string }[] }).instances.find((i) => i.id === child.id);
      expect(view).toMatchObject({ node: "node-z", unreachable: 'node "node-z" is lost (test)' });
      expect(view!.status).not.toBe("exited");
      expect(textOf(listed)).toContain(`${child.id}  manager  unreachable (node "node-z" is lost (test); last status`);
      lost.delete("node-z");
      expect((await ok<{ instances: { id: string; unreachable?: string }[] }>(execClient, "list")).instances.find((i) => i.id === child.id)!.unreachable).toBeUndefined();
    } finally {
      lost.delete("node-z");
      await other.terminate(child.id);
    }
  });
});

describe("authorization by identity", () => {
  let mgrA: string;
  let mgrB: string;
  let specA: string;
  let mgrAClient: Client;
  let specClient: Client;

  beforeAll(async () => {
    mgrA = (await ok<{ instance: { id: string } }>(execClient, "spawn", { role: "manager" })).instance.id;
    mgrB = (await ok<{ instance: { id: string } }>(execClient, "spawn", { role: "manager" })).instance.id;
    mgrAClient = await connect(await tokenOf(kernel, mgrA));
    specA = (await ok<{ instance: { id: string } }>(mgrAClient, "spawn", { role: "specialist" })).instance.id;
    specClient = await connect(await tokenOf(kernel, specA));
  });

  test("a specialist lists no orchestration tools, only plugin tools meant for it, and its calls are refused", async () => {
    const { tools } = await specClient.listTools();
    // send: only to answer its own parent; progress: its own.
    expect(tools.map((t) => t.name).sort()).toEqual(["send", ...EVERYONE, "specialist-note"].sort());
    expect(await ok(specClient, "specialist-note")).toEqual({ noted: true, by: specA });
    const before = (await kernel.list()).length;
    expect(await refused(specClient, "send", { instanceId: specA, text: "x" })).toMatch(/may not use tmux-claude's orchestration tools.*It may send only to its parent/u);
    for (const name of CORE_TOOLS.filter((n) => n !== "send")) {
      expect(await refused(specClient, name, { role: "specialist", instanceId: specA, text: "x" })).toMatch(/may not use tmux-claude's orchestration tools/u);
    }
    expect(await refused(specClient, "whoami")).toMatch(/is for instances that orchestrate/u);
    expect((await kernel.list()).length).toBe(before);
  });

  test("a manager sees its subtree and the tools for managers", async () => {
    const { tools } = await mgrAClient.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...CORE_TOOLS, ...EVERYONE, "manager-report", "whoami"].sort());
    const report = await call(mgrAClient, "manager-report", { summary: "all good" });
    expect(textOf(report)).toBe(`report from ${mgrA}: all good`);
    expect(report.structuredContent).toEqual({ result: `report from ${mgrA}: all good` });
    const listed = await ok<{ instances: { id: string }[] }>(mgrAClient, "list");
    expect(listed.instances.map((i) => i.id)).toEqual([mgrA, specA]);
    // Filters apply within the subtree: of exec's children, only the manager itself is visible.
    expect((await ok<{ instances: { id: string }[] }>(mgrAClient, "list", { parentId: exec })).instances.map((i) => i.id)).toEqual([mgrA]);
  });

  test("a manager cannot act outside its subtree (sibling, parent), nor on itself", async () => {
    const before = await s.received();
    for (const target of [mgrB, exec]) {
      // Its parent it may answer (send, queued while busy); see threads.test.ts.
      if (target !== exec) expect(await refused(mgrAClient, "send", { instanceId: target, text: "hijack" })).toMatch(/acts only on its own subtree/u);
      expect(await refused(mgrAClient, "terminate", { instanceId: target, cascade: true })).toMatch(/acts only on its own subtree/u);
      expect(await refused(mgrAClient, "restart", { instanceId: target })).toMatch(/acts only on its own subtree/u);
      expect(await refused(mgrAClient, "read", { instanceId: target })).toMatch(/acts only on its own subtree/u);
    }
    expect(await refused(mgrAClient, "terminate", { instanceId: mgrA })).toMatch(/may not terminate itself/u);
    expect(await refused(mgrAClient, "spawn", { role: "specialist", parentId: mgrB })).toMatch(/may not spawn under/u);
    expect(await s.received()).toEqual(before);
    expect((await kernel.list()).map((i) => i.id)).toEqual(expect.arrayContaining([exec, mgrA, mgrB, specA]));
  });

  test("outside its subtree, an id that exists and one that does not get the same answer", async () => {
    // exec and mgrB exist; the others never did. Only ids in the caller's own namespace may say "No instance".
    // exec is its parent, which send may answer: left out of send's probes below.
    const outside = [exec, mgrB, `${mgrB}.spec-1`, "exec-999", "exec-999.mgr-1", "nobody"];
    const args: Record<string, (target: string) => Record<string, unknown>> = {
      send: (target) => ({ instanceId: target, text: "probe" }),
      read: (target) => ({ instanceId: target }),
      terminate: (target) => ({ instanceId: target }),
      restart: (target) => ({ instanceId: target }),
      spawn: (target) => ({ role: "specialist", parentId: target }),
    };
    for (const [tool, make] of Object.entries(args)) {
      const answers = new Set<string>();
      for (const target of outside.filter((t) => tool !== "send" || t !== exec)) answers.add((await refused(mgrAClient, tool, make(target))).replaceAll(`"${target}"`, '"<id>"'));
      expect([...answers], tool).toHaveLength(1);
      expect([...answers][0], tool).not.toMatch(/No instance/u);
    }
    // Its own namespace: a missing child is reported as missing.
    expect(await refused(mgrAClient, "read", { instanceId: `${mgrA}.spec-404` })).toMatch(/No instance/u);
  });

  test("the kernel's spawn policy applies to MCP callers: a child works inside its parent's workDir", async () => {
    const message = await refused(mgrAClient, "spawn", { role: "specialist", workDir: "/" });
    expect(message).toContain(`A specialist must work inside its parent's workDir: "/" is outside "${s.workDir}" of "${mgrA}"`);
    expect(message).toContain("roles.specialist.workDirOutsideParent: true");
    const relative = await refused(mgrAClient, "spawn", { role: "specialist", workDir: ".." });
    expect(relative).toContain("must work inside its parent's workDir");
  });

  test("a manager acts inside its subtree, and role rules still apply", async () => {
    expect((await ok<{ state: string }>(mgrAClient, "send", { instanceId: specA, text: "do the thing" })).state).toMatch(/delivered|queued/u);
    expect((await ok<{ status: string }>(mgrAClient, "read", { instanceId: specA, wait: true })).status).toBe("idle");
    expect(await refused(mgrAClient, "spawn", { role: "manager" })).toMatch(/may spawn: specialist/u);
    // Role rules (a specialist spawns nothing) and maxDepth come from the kernel, also for a descendant parent.
    expect(await refused(mgrAClient, "spawn", { role: "specialist", parentId: specA })).toMatch(/may spawn: nothing/u);
    expect((await ok<{ terminated: string[] }>(mgrAClient, "terminate", { instanceId: specA })).terminated).toEqual([specA]);
  });

  test("a terminated instance's token is refused", async () => {
    const result = await raw({ headers: { authorization: `Bearer ${await tokenOf(kernel, mgrB)}`, host: `127.0.0.1:${port}` }, body: initialize });
    expect(result.status).toBe(200);
    const token = await tokenOf(kernel, mgrB);
    await kernel.terminate(mgrB);
    const after = await raw({ headers: { authorization: `Bearer ${token}`, host: `127.0.0.1:${port}` }, body: initialize });
    expect(after.status).toBe(401);
    expect(after.body).toMatch(/not valid/u);
  });
});

describe("refused requests execute nothing", () => {
  test("no token, a wrong token, a bad Host, a bad Origin, another instance's session", async () => {
    const token = await tokenOf(kernel, exec);
    const host = `127.0.0.1:${port}`;
    const { instance: other } = await kernel.spawn({ role: "manager", parentId: exec, workDir: s.workDir });
    const before = (await kernel.list()).map((i) => i.id);
    // A real session of the executive, to aim the refused calls at.
    const session = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/mcp", method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          resolve(String(res.headers["mcp-session-id"]));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(initialize));
    });
    const withSession = { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" };

    const cases: [string, Record<string, string>, number, RegExp][] = [
      ["no token", { host, ...withSession }, 401, /Authorization required/u],
      ["a wrong token", { host, authorization: `Bearer ${"A".repeat(43)}`, ...withSession }, 401, /not valid/u],
      ["a malformed authorization", { host, authorization: token, ...withSession }, 401, /Authorization required/u],
      ["a bad Host", { host: `evil.example:${port}`, authorization: `Bearer ${token}`, ...withSession }, 403, /Host "evil.example/u],
      ["a loopback Host with another port", { host: `127.0.0.1:1`, authorization: `Bearer ${token}`, ...withSession }, 403, /Host/u],
      ["a bad Origin", { host, origin: "http://evil.example", authorization: `Bearer ${token}`, ...withSession }, 403, /Origin "http:\/\/evil.example"/u],
      ["a null Origin", { host, origin: "null", authorization: `Bearer ${token}`, ...withSession }, 403, /Origin/u],
    ];
    for (const [what, headers, status, message] of cases) {
      const result = await raw({ headers, body: spawnCall() });
      expect(result.status, what).toBe(status);
      expect(JSON.parse(result.body).error.message, what).toMatch(message);
    }
    // Without a session too: nothing is initialized for a refused request.
    expect((await raw({ headers: { host }, body: initialize })).status).toBe(401);
    expect((await raw({ headers: { host: "evil.example", authorization: `Bearer ${token}` }, body: initialize })).status).toBe(403);
    // A session used with another instance's token.
    const stolen = await raw({ headers: { host, authorization: `Bearer ${await tokenOf(kernel, other.id)}`, ...withSession }, body: spawnCall() });
    expect(stolen.status).toBe(403);
    expect(stolen.body).toMatch(/belongs to another instance/u);
    // A loopback Origin is fine, and the session still works for its owner.
    const allowed = await raw({ headers: { host: `localhost:${port}`, origin: "http://localhost:3000", authorization: `Bearer ${token}`, ...withSession }, body: { jsonrpc: "2.0", id: 9, method: "tools/list" } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('"spawn"');
    expect((await kernel.list()).map((i) => i.id)).toEqual(before);
    expect((await raw({ headers: { host, authorization: `Bearer ${token}` }, path: "/other", body: initialize })).status).toBe(404);
  });
});

describe("progress", () => {
  test("an instance reports its own progress over its connection (a specialist too); list, read and its parent's get_progress show it; bad input and others' progress refused", async () => {
    const mgr = (await ok<{ instance: { id: string } }>(execClient, "spawn", { role: "manager" })).instance.id;
    const mgrClient = await connect(await tokenOf(kernel, mgr));
    const spec = (await ok<{ instance: { id: string } }>(mgrClient, "spawn", { role: "specialist" })).instance.id;
    const specClient = await connect(await tokenOf(kernel, spec));

    const reported = await call(specClient, "progress", { done: 2, total: 5, current: "Writing tests" });
    expect(textOf(reported)).toBe(`Progress of "${spec}": 2/5: Writing tests.`);
    expect(reported.structuredContent).toMatchObject({ instanceId: spec, progress: { done: 2, total: 5, current: "Writing tests", source: "tool" } });
    await ok(mgrClient, "progress", { done: 0, total: 1 });

    const listed = await call(mgrClient, "list");
    expect((listed.structuredContent as { instances: { id: string; progress?: unknown }[] }).instances.find((i) => i.id === spec)?.progress).toMatchObject({ done: 2, total: 5 });
    expect(textOf(listed)).toContain(`${spec}  specialist  idle  2/5: Writing tests  parent: ${mgr}`);
    expect(await ok(mgrClient, "read", { instanceId: spec })).toMatchObject({ progress: { done: 2, total: 5, current: "Writing tests" } });

    // The parent's own subtree by default; the executive sees the whole branch.
    expect(await ok(mgrClient, "get_progress")).toMatchObject({ rootId: mgr, done: 2, total: 6, withProgress: 2, withoutProgress: 0 });
    expect(await ok(execClient, "get_progress", { instanceId: mgr })).toMatchObject({ rootId: mgr, done: 2, total: 6 });
    // Read's rules: not a sibling's subtree, not as a specialist (it spawns nothing).
    const sibling = (await ok<{ instance: { id: string } }>(execClient, "spawn", { role: "manager" })).instance.id;
    expect(await refused(mgrClient, "get_progress", { instanceId: sibling })).toMatch(/acts only on its own subtree/u);
    expect(await refused(specClient, "get_progress")).toMatch(/may not use tmux-claude's orchestration tools/u);

    // Bad input: the values named, nothing written.
    expect(await refused(specClient, "progress", { done: 7, total: 5 })).toContain("done 7 is more than total 5");
    expect(await refused(specClient, "progress", { done: 1, total: 5, instanceId: mgr })).toContain(`may report only its own progress, not that of "${mgr}"`);
    expect((await kernel.get(spec)).progress).toMatchObject({ done: 2, total: 5, current: "Writing tests" });
    expect((await kernel.get(mgr)).progress).toMatchObject({ done: 0, total: 1 });
    await kernel.terminate(mgr, { cascade: true });
    await kernel.terminate(sibling);
  });
});
