import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { configSchema, createLogger, definePlugin, Kernel, type ResolvedConfig, type UserConfig } from "@tmux-claude/core";
import { z } from "zod";
import { MCP_TOKEN_ENV } from "../src/index.js";
import { testSocket } from "../../../test/sockets.js";

const execFileAsync = promisify(execFile);

/** The echo fake agent of core's integration tests. */
export const ECHO_AGENT = fileURLToPath(new URL("../../core/test/fixtures/echo-agent.mjs", import.meta.url));

export interface Setup {
  socket: string;
  dir: string;
  stateDir: string;
  workDir: string;
  log: string;
  /** The user config (plugins excluded), for kernels in other processes. */
  userConfig: UserConfig;
  config(plugins?: unknown[]): ResolvedConfig;
  startKernel(plugins?: unknown[], watch?: "all" | "on-demand"): Promise<Kernel>;
  received(): Promise<{ text: string }[]>;
  tmux(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** A private tmux socket, a temp state dir, and kernels whose default agent is the echo agent. */
export async function createSetup(overrides: UserConfig = {}): Promise<Setup> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-test-"));
  const socket = testSocket("mcp");
  const log = path.join(dir, "received.jsonl");
  const workDir = path.join(dir, "work");
  await mkdir(workDir);
  const stateDir = path.join(dir, "state");
  const userConfig: UserConfig = {
    tmux: { socket, configFile: "none", width: 120, height: 40 },
    stateDir,
    defaultAgent: "echo",
    logLevel: "warn",
    limits: { maxInstances: 40, spawnTimeout: 10_000, sendTimeout: 5_000 },
    ...overrides,
    agents: { echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: log } } },
  };
  const kernels: Kernel[] = [];
  const config = (plugins: unknown[] = []) => configSchema.parse({ ...userConfig, plugins });
  return {
    socket,
    dir,
    stateDir,
    workDir,
    log,
    userConfig,
    config,
    async startKernel(plugins = [], watch = "all") {
      const kernel = await Kernel.start({ config: config(plugins), watch, logger: createLogger("warn") });
      kernels.push(kernel);
      return kernel;
    },
    async received() {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { text: string });
    },
    tmux: async (...args) => (await execFileAsync("tmux", ["-L", socket, ...args])).stdout,
    async close() {
      for (const kernel of kernels) await kernel.close().catch(() => undefined);
      await execFileAsync("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
      // kill-server leaves the socket file behind.
      await rm(path.join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A plugin contributing three tools: `whoami` for every orchestrating caller,
 * `manager-report` only for managers, `specialist-note` only for specialists.
 */
export const toolsPlugin = definePlugin({
  name: "test-tools",
  setup(ctx) {
    ctx.hooks.tools.tapPromise(async (tools) => [
      ...tools,
      {
        name: "whoami",
        description: "Who is calling.",
        inputSchema: z.strictObject({ greeting: z.string().optional() }),
        handler: async (args, caller) => ({ greeting: args.greeting ?? "hello", instanceId: caller.instanceId, role: caller.role }),
      },
      {
        name: "manager-report",
        description: "Managers only.",
        inputSchema: z.strictObject({ summary: z.string().min(1) }),
        roles: ["manager"],
        handler: async (args, caller) => `report from ${caller.instanceId}: ${String(args.summary)}`,
      },
      {
        name: "specialist-note",
        description: "Specialists only.",
        inputSchema: z.strictObject({}),
        roles: ["specialist"],
        handler: async (_args, caller) => ({ noted: true, by: caller.instanceId }),
      },
    ]);
  },
});

/** The MCP secret the kernel gave an instance. */
export async function tokenOf(kernel: Kernel, id: string): Promise<string> {
  const token = (await kernel.get(id)).launch.env[MCP_TOKEN_ENV];
  if (!token) throw new Error(`instance ${id} has no ${MCP_TOKEN_ENV}`);
  return token;
}

/** An SDK client over Streamable HTTP with a bearer token. */
export async function httpClient(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "test", version: "0.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return client;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A successful call's structured content (fails the test with the error text otherwise). */
export async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return result.structuredContent as T;
}

/** A failed call's message (fails the test if it succeeded). */
export async function refused(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await call(client, name, args);
  if (!result.isError) throw new Error(`${name} succeeded, expected an error: ${textOf(result)}`);
  return textOf(result);
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
