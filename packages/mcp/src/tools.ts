import { readFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCodes, formatZodIssues, type KernelApi } from "@tmux-claude/core";
import { z } from "zod";
import type { Caller } from "./caller.js";
import { coreTools } from "./core-tools.js";
import { errorCode, McpErrorCodes } from "./errors.js";
import { pluginTool } from "./plugin-tools.js";
import { failed, recordedCall, type CallOutcome } from "./recorded-call.js";
import type { ToolDef } from "./tool-def.js";

export type { ToolDef } from "./tool-def.js";

export const SERVER_NAME = "tmux-claude";
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

const INSTRUCTIONS =
  "tmux-claude runs a team of coding agents, each in its own tmux session. Use spawn to start an instance below you, " +
  "send to message it, read to see its state and last reply (wait: true blocks until its turn ends), list to see your " +
  "subtree, and terminate/restart to manage it. You act only on yourself and the instances below you. Report how far " +
  "you are with progress; get_progress shows your subtree's.";

/**
 * An MCP server named `tmux-claude` whose tools act as `caller`. The caller
 * comes from the connection (the instance's secret over HTTP, the process over
 * stdio), never from arguments. tools/list shows only what the caller may use
 * and every call is authorized again. Plugin tools come from `kernel.tools()`
 * at each list and call, so a plugin may change them while the server runs.
 *
 * The server answers tools/list and tools/call itself (for per-caller lists and
 * errors that name the field); register further tools through the kernel's
 * `tools` hook, not with `registerTool` on the returned server.
 */
export function createToolServer(kernel: KernelApi, caller: Caller): McpServer {
  const identity: Caller = Object.freeze({ instanceId: caller.instanceId, role: caller.role, ...(caller.inInstance !== undefined ? { inInstance: caller.inInstance } : {}) });
  const logger = kernel.logger.child({ component: "mcp", caller: identity.instanceId ?? "root" });
  const server = new McpServer({ name: SERVER_NAME, version: VERSION }, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS });
  const core = coreTools(kernel);

  const allTools = async (): Promise<ToolDef[]> => {
    const tools = [...core];
    const taken = new Set(tools.map((t) => t.name));
    for (const contribution of await kernel.tools()) {
      const tool = pluginTool(kernel, contribution, logger);
      if (!tool) continue;
      if (taken.has(tool.name)) {
        logger.warn({ tool: tool.name }, `a plugin contributes tool "${tool.name}", which already exists; the first one is served`);
        continue;
      }
      taken.add(tool.name);
      tools.push(tool);
    }
    return tools;
  };

  server.server.setRequestHandler(ListToolsRequestSchema, async () => {
    const tools: Tool[] = [];
    for (const tool of (await allTools()).filter((t) => t.allowed(identity))) {
      try {
        tools.push(definition(tool));
      } catch (error) {
        // One plugin's schema that has no JSON Schema form must not hide every other tool.
        logger.warn({ err: error, tool: tool.name }, `tool "${tool.name}" is not listed: its schema cannot be converted to JSON Schema`);
      }
    }
    return { tools };
  });

  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const args = request.params.arguments ?? {};
    // The SDK aborts extra.signal when the client cancels the call (or its transport closes): plugin tools that wait stop.
    const outcome = await recordedCall(kernel, identity, name, args, () => callTool(name, args, extra.signal));
    if ("error" in outcome) return toolError(outcome.error.message);
    return { content: [{ type: "text", text: outcome.text }], structuredContent: outcome.structured };
  });

  const callTool = async (name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallOutcome> => {
    try {
      const tools = await allTools();
      const tool = tools.find((t) => t.name === name);
      if (!tool || !tool.allowed(identity)) {
        const mine = tools.filter((t) => t.allowed(identity)).map((t) => t.name);
        const list = mine.length ? mine.join(", ") : "none";
        return tool
          ? failed(McpErrorCodes.FORBIDDEN, `${tool.refusal(identity)} Tools you may use: ${list}.`)
          : failed(ErrorCodes.INVALID_ARGUMENT, `Unknown tool "${name}". Tools you may use: ${list}.`);
      }
      const parsed = await tool.input.safeParseAsync(args);
      if (!parsed.success) return failed(ErrorCodes.INVALID_ARGUMENT, invalidArguments(name, tool.input, parsed.error, args));
      const result = await tool.run(parsed.data as Record<string, unknown>, identity, { signal });
      return { text: result.text, structured: withoutUndefined(result.structured) };
    } catch (error) {
      const code = errorCode(error);
      if (code) {
        logger.debug({ err: error, tool: name }, "tool failed");
        return failed(code, (error as Error).message);
      }
      logger.error({ err: error, tool: name }, "tool crashed");
      return failed("TC_UNEXPECTED", `Tool "${name}" failed unexpectedly: ${error instanceof Error ? error.message : String(error)}. The server logs (stderr) have the details.`);
    }
  };

  return server;
}

function definition(tool: ToolDef): Tool {
  return {
    name: tool.name,
    ...(tool.title ? { title: tool.title } : {}),
    description: tool.description,
    inputSchema: jsonSchema(tool.input, "input") as Tool["inputSchema"],
    outputSchema: jsonSchema(tool.output, "output") as Tool["outputSchema"],
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
  };
}

/** draft-07, as the SDK's own McpServer emits and its client validates. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: "draft-7", io }) as Record<string, unknown>;
}

function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** One line per problem, each naming the argument. */
function invalidArguments(tool: string, schema: z.ZodType, error: z.ZodError, args: unknown): string {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  const allowed = shape ? Object.keys(shape) : [];
  const lines = error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const takes = allowed.length ? `${tool} takes ${allowed.join(", ")}` : `${tool} takes no arguments`;
      return `  - ${issue.keys.join(", ")}: unknown argument${issue.keys.length > 1 ? "s" : ""}; ${takes}`;
    }
    // As the config's errors say it (core's formatter): what is allowed and the value got.
    return formatZodIssues(new z.ZodError([issue]), args ?? {}, schema)
      .map((problem) => `  - ${issue.path.length ? problem.path : "(arguments)"}: ${problem.message.replace(/^missing; /u, "is required; ")}`)
      .join("\n");
  });
  return `Invalid arguments for ${tool}:\n${lines.join("\n")}`;
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
