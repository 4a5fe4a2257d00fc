// The audit log of a whole orchestration, end to end with the real CLI and
// real MCP clients: a person's CLI spawns an executive; the executive (an
// MCP client holding the executive's own token, as its agent would) spawns a
// manager and messages it over serve's HTTP endpoint; the person's own MCP
// client (`tmux-claude mcp`) lists; the CLI lists, reads and terminates.
// One line per call, each with its caller, and no token or message text.
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { AuditEntry } from "@tmux-claude/plugin-audit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BIN, createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
let serve: ChildProcess;

beforeAll(async () => {
  env = await createEnv();
  serve = env.start(["serve", "--log-level", "info"]);
  await untilServing(serve);
}, 30_000);
afterAll(async () => {
  serve?.kill("SIGTERM");
  await env?.close();
});

/** Resolves when serve logs that it serves (its MCP endpoint listens); rejects when it exits first. */
function untilServing(child: ChildProcess): Promise<void> {
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within 20 s:\n${stderr}`)), 20_000);
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('"msg":"serving"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before serving:\n${stderr}`));
    });
  });
}

/** The MCP secret the kernel gave an instance, as its agent has it: in the agent process's environment. */
async function tokenOf(pid: number): Promise<string> {
  const environ = await readFile(`/proc/${pid}/environ`, "utf8");
  const token = environ.split("\0").find((e) => e.startsWith("TMUX_CLAUDE_MCP_TOKEN="))?.slice("TMUX_CLAUDE_MCP_TOKEN=".length);
  if (!token) throw new Error(`pid ${pid} has no TMUX_CLAUDE_MCP_TOKEN`);
  return token;
}

test("the audit log holds one line per MCP call and CLI command of an orchestration, with the right caller, and no token or message text", async () => {
  const execPrompt = "exec prompt AUDIT-PROMPT-1f9c";
  const managerPrompt = "manager prompt AUDIT-PROMPT-77ab";
  const messageText = "a message AUDIT-MESSAGE-5d21 for the manager";

  const spawned = await env.run(["spawn", "executive", execPrompt]);
  expect(spawned.code, spawned.stderr).toBe(0);
  const [exec] = parseJson<{ id: string; tmux: { pid: number }; launch: { env: Record<string, string> } }[]>(await env.run(["list", "--json"]));
  expect(exec!.id).toBe("exec-1");
  const token = await tokenOf(exec!.tmux.pid);
  const url = exec!.launch.env.TMUX_CLAUDE_MCP_URL!;

  // The executive's own MCP connection, authenticated by its token.
  const agent = new Client({ name: "exec-agent", version: "1.0.0" });
  await agent.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  const child = await agent.callTool({ name: "spawn", arguments: { role: "manager", prompt: managerPrompt } });
  expect(child.isError, JSON.stringify(child.content)).toBeFalsy();
  const sent = await agent.callTool({ name: "send", arguments: { instanceId: "exec-1.mgr-1", text: messageText } });
  expect(sent.isError, JSON.stringify(sent.content)).toBeFalsy();
  // Refused (outside its subtree): recorded too, with the refusal's code.
  const refused = await agent.callTool({ name: "terminate", arguments: { instanceId: "exec-9" } });
  expect(refused.isError).toBe(true);
  await agent.close();

  // A person's own MCP client: the root caller over stdio.
  const person = new Client({ name: "person", version: "1.0.0" });
  await person.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, "--config", env.configFile, "mcp"], cwd: env.workDir, stderr: "pipe" }));
  expect((await person.callTool({ name: "list", arguments: {} })).isError).toBeFalsy();
  // A plugin's tool (workflows', on by default) is an MCP call like the others.
  expect((await person.callTool({ name: "list_runs", arguments: {} })).isError).toBeFalsy();
  await person.close();

  expect((await env.run(["list"])).code).toBe(0);
  expect((await env.run(["read", "exec-1.mgr-1"])).code).toBe(0);
  const terminated = await env.run(["terminate", "exec-1", "--cascade"]);
  expect(terminated.code, terminated.stderr).toBe(0);

  const read = await env.run(["audit", "--json"]);
  expect(read.code, read.stderr).toBe(0);
  const entries = parseJson<AuditEntry[]>(read);
  expect(entries.map((e) => [e.surface, e.caller, e.operation, e.target ?? null, e.ok ? "ok" : e.error])).toEqual([
    ["cli", "root", "spawn", null, "ok"],
    ["cli", "root", "list", null, "ok"],
    ["mcp", "exec-1", "spawn", null, "ok"],
    ["mcp", "exec-1", "send", "exec-1.mgr-1", "ok"],
    ["mcp", "exec-1", "terminate", "exec-9", "TC_FORBIDDEN"],
    ["mcp", "root", "list", null, "ok"],
    ["mcp", "root", "list_runs", null, "ok"],
    ["cli", "root", "list", null, "ok"],
    ["cli", "root", "read", "exec-1.mgr-1", "ok"],
    ["cli", "root", "terminate", "exec-1", "ok"],
  ]);
  const [cliSpawn, , mcpSpawn, mcpSend, , , , , , cliTerminate] = entries;
  // What was asked, as ids, roles and lengths; what came of it, as ids and states.
  expect(cliSpawn!.args).toMatchObject({ role: "executive", promptLength: execPrompt.length });
  expect(cliSpawn!.result).toMatchObject({ exitCode: 0, id: "exec-1", state: "delivered" });
  expect(mcpSpawn).toMatchObject({ role: "executive", args: { role: "manager", promptLength: managerPrompt.length }, result: { "instance.id": "exec-1.mgr-1" } });
  expect(mcpSend!.args).toMatchObject({ instanceId: "exec-1.mgr-1", textLength: messageText.length });
  expect(mcpSend!.result).toMatchObject({ state: expect.stringMatching(/^(delivered|queued)$/u) });
  expect(cliTerminate!.result).toMatchObject({ exitCode: 0, terminated: ["exec-1.mgr-1", "exec-1"] });
  for (const entry of entries) {
    expect(entry.args.hmac).toMatch(/^hmac-sha256:[0-9a-f]{64}$/u);
    expect(entry.node).toBe(entries[0]!.node);
    expect(Date.parse(entry.at)).not.toBeNaN();
  }

  // The files: 0600 in a 0700 directory, holding no secret and no text a person or agent wrote.
  const dir = path.join(env.stateDir, "audit");
  expect((await stat(dir)).mode & 0o777).toBe(0o700);
  for (const name of await readdir(dir)) {
    const file = path.join(dir, name);
    if (!name.startsWith("audit.jsonl")) continue;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, "utf8");
    for (const secret of [token, execPrompt, managerPrompt, messageText, "AUDIT-PROMPT", "AUDIT-MESSAGE"]) expect(text).not.toContain(secret);
  }

  // The table a person reads.
  const table = await env.run(["audit", "--caller", "exec-1"]);
  expect(table.code, table.stderr).toBe(0);
  const lines = table.stdout.trim().split("\n");
  expect(lines[0]).toMatch(/^TIME\s+NODE\s+CALLER\s+VIA\s+OPERATION\s+TARGET\s+RESULT\s+TOOK$/u);
  expect(lines.slice(1).map((l) => l.split(/\s{2,}/u).slice(2, 7))).toEqual([
    ["exec-1", "mcp", "spawn", "-", "ok exec-1.mgr-1 delivered"],
    ["exec-1", "mcp", "send", "exec-1.mgr-1", expect.stringMatching(/^ok (delivered|queued)$/u)],
    ["exec-1", "mcp", "terminate", "exec-9", "TC_FORBIDDEN"],
  ]);
}, 120_000);

test("a plugin's command and init are recorded as the root's, with their exit codes; doctor without --clean and audit itself are not", async () => {
  const file = path.join(env.dir, "plugin.config.mjs");
  const base = (await readFile(env.configFile, "utf8")).replace(/^export default /u, "").replace(/;\s*$/u, "");
  await writeFile(
    file,
    `export default { ...${base}, plugins: [{ name: "greeter", apply(ctx) {
      ctx.hooks.commands.tapPromise(async (list) => [...list, { name: "greet", description: "Say hello", async run() { return 7; } }]);
    } }] };\n`,
  );
  const before = parseJson<AuditEntry[]>(await env.run(["audit", "--json"])).length;
  expect((await env.run(["--config", file, "greet", "hello", "world", "--loud", "a secret-ish WORD-4471"], { config: false })).code).toBe(7);
  expect((await env.run(["doctor"])).code).not.toBeNull();
  const project = path.join(env.dir, "project");
  await mkdir(project);
  // init writes a config whose state dir is the default one: point it into the test's directory.
  const initEnv = { XDG_STATE_HOME: path.join(env.dir, "xdg") };
  expect((await env.run(["init"], { cwd: project, config: false, env: initEnv })).code).toBe(0);

  const after = parseJson<AuditEntry[]>(await env.run(["audit", "--json"])).slice(before);
  // greet declares no subcommand or target (CommandContribution.invocation): its words go into the digest only.
  expect(after.map((e) => [e.caller, e.operation, e.target ?? null, e.result?.exitCode])).toEqual([["root", "greet", null, 7]]);
  expect(JSON.stringify(after)).not.toContain("WORD-4471");
  const initLog = await readFile(path.join(env.dir, "xdg", "tmux-claude", "tmux-claude", "audit", "audit.jsonl"), "utf8");
  expect(initLog.trim().split("\n").map((l) => (JSON.parse(l) as AuditEntry).operation)).toEqual(["init"]);
}, 60_000);
