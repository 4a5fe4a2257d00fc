// Who and what the CLI records: an agent that runs the CLI (or `tmux-claude
// mcp`) through its shell is the caller, not the root; a plugin's command is
// logged by its name plus what the command itself declares (subcommand,
// target), never by a word of its arguments.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { AuditEntry } from "@tmux-claude/plugin-audit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BIN, createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

/** The entries added since `before` entries. */
async function entriesAfter(before: number): Promise<AuditEntry[]> {
  return parseJson<AuditEntry[]>(await env.run(["audit", "--json"])).slice(before);
}

/** As the kernel sets them on an agent's processes (core's instance-env), for the instance `id` of `stateDir`. */
const agentEnv = (id: string, stateDir: string) => ({ TMUX_CLAUDE_INSTANCE_ID: id, TMUX_CLAUDE_STATE_DIR: stateDir });

test("a command run with an instance's environment is that instance's; another node's instance (another state dir) and a person are the root", async () => {
  const before = (await entriesAfter(0)).length;
  expect((await env.run(["list"], { env: agentEnv("exec-7", env.stateDir) })).code).toBe(0);
  expect((await env.run(["list"], { env: agentEnv("exec-7", path.join(env.dir, "other-node")) })).code).toBe(0);
  expect((await env.run(["list"])).code).toBe(0);
  expect((await env.run(["list"], { env: agentEnv("not an id; rm -rf", env.stateDir) })).code).toBe(0);
  expect((await entriesAfter(before)).map((e) => [e.caller, e.operation])).toEqual([
    ["exec-7", "list"],
    ["root", "list"],
    ["root", "list"],
    ["root", "list"],
  ]);
}, 60_000);

test("`tmux-claude mcp` run by an agent records its calls as that agent's", async () => {
  const before = (await entriesAfter(0)).length;
  const client = new Client({ name: "agent-shell", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "--config", env.configFile, "mcp"],
    cwd: env.workDir,
    env: { ...(process.env as Record<string, string>), ...agentEnv("exec-7", env.stateDir) },
    stderr: "pipe",
  });
  await client.connect(transport);
  expect((await client.callTool({ name: "list", arguments: {} })).isError).toBeFalsy();
  await client.close();
  expect((await entriesAfter(before)).map((e) => [e.surface, e.caller, e.operation])).toEqual([["mcp", "exec-7", "list"]]);
}, 60_000);

test("a plugin's command: its name, plus only the subcommand and target it declares; no word of its arguments, and a faulty declaration costs only the detail", async () => {
  const file = path.join(env.dir, "plugin.config.mjs");
  const base = (await readFile(env.configFile, "utf8")).replace(/^export default /u, "").replace(/;\s*$/u, "");
  await writeFile(
    file,
    `export default { ...${base}, plugins: [{ name: "deployer", apply(ctx) {
      ctx.hooks.commands.tapPromise(async (list) => [...list,
        { name: "greet", description: "Say hello", async run() { return 7; } },
        { name: "deploy", description: "Deploy", async run() { return 0; },
          invocation: (argv) => ({ subcommand: argv[0] === "start" ? "start" : undefined, target: argv.at(-1) }) },
        { name: "broken", description: "Broken", async run() { return 3; }, invocation() { throw new Error("bug"); } },
      ]);
    } }] };\n`,
  );
  const before = (await entriesAfter(0)).length;
  const secret = "Authorization: Bearer sk-SECRET-4471";
  expect((await env.run(["--config", file, "greet", "hello", "--verify", secret, "exec-1"], { config: false })).code).toBe(7);
  expect((await env.run(["--config", file, "deploy", "start", "--token", secret, "exec-1"], { config: false })).code).toBe(0);
  expect((await env.run(["--config", file, "broken", "start", secret], { config: false })).code).toBe(3);
  const after = await entriesAfter(before);
  expect(after.map((e) => [e.caller, e.operation, e.target ?? null, e.result?.exitCode])).toEqual([
    ["root", "greet", null, 7],
    ["root", "deploy start", "exec-1", 0],
    ["root", "broken", null, 3],
  ]);
  for (const entry of after) expect(Object.keys(entry.args)).toEqual(["hmac"]);
  const logged = await readFile(path.join(env.stateDir, "audit", "audit.jsonl"), "utf8");
  for (const word of ["sk-SECRET", "hello", "--verify", "--token"]) expect(logged).not.toContain(word);
}, 60_000);
