import { readFile } from "node:fs/promises";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { definePlugin, type Kernel, type UserConfig } from "@tmux-claude/core";
import { createHarness, type Harness, type RecordedRequest } from "@tmux-claude/testkit";
import { z } from "zod";
import { createToolServer, MCP_TOKEN_ENV, ROOT, type Caller } from "../src/index.js";

export type Setup = Harness;

/** The test kit's kernel harness with roomier limits; no kernel yet (each test starts its own with the plugins it needs). */
export function createSetup(overrides: UserConfig = {}): Promise<Harness> {
  return createHarness({ limits: { maxInstances: 40, spawnTimeout: 10_000, sendTimeout: 5_000 }, ...overrides }, { label: "mcp", start: false });
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

/**
 * The MCP secret the kernel gave an instance, as the instance has it: in its
 * agent process's environment (the record keeps only its digest).
 */
export async function tokenOf(kernel: Kernel, id: string): Promise<string> {
  const { pid } = (await kernel.get(id)).tmux;
  const environ = await readFile(`/proc/${pid}/environ`, "utf8");
  const token = environ.split("\0").find((entry) => entry.startsWith(`${MCP_TOKEN_ENV}=`))?.slice(MCP_TOKEN_ENV.length + 1);
  if (!token) throw new Error(`instance ${id} (pid ${pid}) has no ${MCP_TOKEN_ENV}`);
  return token;
}

/** A client of the kernel's tool server as the root, in this process (no HTTP); `close` ends both. */
export function rootClient(kernel: Kernel): Promise<{ client: Client; close: () => Promise<void> }> {
  return callerClient(kernel, ROOT);
}

/** A client of the kernel's tool server as `caller` (an instance, as its own connection would make it), in this process; `close` ends both. */
export async function callerClient(kernel: Kernel, caller: Caller): Promise<{ client: Client; close: () => Promise<void> }> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = createToolServer(kernel, caller);
  await server.connect(serverSide);
  const client = new Client({ name: "test", version: "0.0.0" });
  await client.connect(clientSide);
  const close = async () => {
    await client.close();
    await server.close();
  };
  return { client, close };
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

/** A port that was free a moment ago (the test kit's). */
export { freePort } from "@tmux-claude/testkit";

// ------------------------------------------- scripting Claude Code instances

type Block = { type: string; text?: string; content?: unknown; id?: string; name?: string; tool_use_id?: string };

/** Which instance a stand-in model request comes from: the claude adapter names it in the appended system prompt. */
export function instanceOf(req: RecordedRequest): string | undefined {
  return /You are the tmux-claude instance \\?"([^"\\]+)\\?"/u.exec(JSON.stringify(req.body.system ?? ""))?.[1];
}

/** Every tool result of the conversation so far, as text, oldest first (a ToolSearch round trip of the stand-in is no step of the script). */
export function results(req: RecordedRequest): string[] {
  const out: string[] = [];
  const searches = new Set<string>();
  for (const message of (req.body.messages ?? []) as { role: string; content: string | Block[] }[]) {
    if (typeof message.content === "string") continue;
    for (const block of message.content) {
      if (message.role === "assistant" && block.type === "tool_use" && block.name === "ToolSearch") searches.add(block.id ?? "");
      if (message.role === "user" && block.type === "tool_result" && !searches.has(block.tool_use_id ?? "")) out.push(JSON.stringify(block.content));
    }
  }
  return out;
}

/** A stand-in model reply that calls one of tmux-claude's MCP tools. */
export const tool = (name: string, input: Record<string, unknown>) => ({ toolUse: { name: `mcp__tmux-claude__${name}`, input } });
