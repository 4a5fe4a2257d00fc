import { readFileSync } from "node:fs";
import path from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import {
  ErrorCodes,
  quoteScreen,
  shownUsage,
  type DeliveryReceipt,
  type InstanceRecord,
  type InstanceSummary,
  type KernelApi,
  type ReadResult,
  type ToolContribution,
} from "@tmux-claude/core";
import { z } from "zod";
import { assertTarget, describeCaller, isDescendant, isRoot, mayOrchestrate, subtreeOf, type Caller } from "./caller.js";
import { errorCode, forbidden, McpErrorCodes } from "./errors.js";
import { failed, recordedCall, type CallOutcome } from "./recorded-call.js";
import * as s from "./schemas.js";
import { resumeTool } from "./resume-tool.js";

export const SERVER_NAME = "tmux-claude";
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

const INSTRUCTIONS =
  "tmux-claude runs a team of coding agents, each in its own tmux session. Use spawn to start an instance below you, " +
  "send to message it, read to see its state and last reply (wait: true blocks until its turn ends), list to see your " +
  "subtree, and terminate/restart to manage it. You act only on yourself and the instances below you.";

interface ToolResult {
  structured: Record<string, unknown>;
  text: string;
}

/** One tool as this server serves it: core or plugin-contributed. */
export interface ToolDef {
  name: string;
  title?: string;
  description: string;
  input: z.ZodType;
  output: z.ZodType;
  annotations?: Tool["annotations"];
  /** May this caller see and call it? */
  allowed(caller: Caller): boolean;
  /** Why this caller may not use it. */
  refusal(caller: Caller): string;
  run(args: Record<string, unknown>, caller: Caller): Promise<ToolResult>;
}

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

  server.server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const name = request.params.name;
    const args = request.params.arguments ?? {};
    const outcome = await recordedCall(kernel, identity, name, args, () => callTool(name, args));
    if ("error" in outcome) return toolError(outcome.error.message);
    return { content: [{ type: "text", text: outcome.text }], structuredContent: outcome.structured };
  });

  const callTool = async (name: string, args: Record<string, unknown>): Promise<CallOutcome> => {
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
      if (!parsed.success) return failed(ErrorCodes.INVALID_ARGUMENT, invalidArguments(name, tool.input, parsed.error));
      const result = await tool.run(parsed.data as Record<string, unknown>, identity);
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
function invalidArguments(tool: string, schema: z.ZodType, error: z.ZodError): string {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  const allowed = shape ? Object.keys(shape) : [];
  const lines = error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      const takes = allowed.length ? `${tool} takes ${allowed.join(", ")}` : `${tool} takes no arguments`;
      return `  - ${issue.keys.join(", ")}: unknown argument${issue.keys.length > 1 ? "s" : ""}; ${takes}`;
    }
    const where = issue.path.length ? issue.path.join(".") : "(arguments)";
    const required = issue.code === "invalid_type" && /received undefined/u.test(issue.message);
    return `  - ${where}: ${required ? `is required (${issue.message.replace(/^Invalid input: /u, "")})` : issue.message}`;
  });
  return `Invalid arguments for ${tool}:\n${lines.join("\n")}`;
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

// ------------------------------------------------------------- core tools

/**
 * Spawn options only a plugin's own code may pass (the workflows plugin ties
 * a spawned instance to a run's task with its `workflows` option): an agent
 * passing one could take over a task of someone else's run.
 */
const RESERVED_PLUGIN_OPTIONS = ["workflows"] as const;

function coreTools(kernel: KernelApi): ToolDef[] {
  const orchestrator = (caller: Caller) => mayOrchestrate(kernel.config, caller);
  const refusal = (caller: Caller) =>
    `${describeCaller(caller)} may not use tmux-claude's orchestration tools: its role spawns nothing (roles.${caller.role}.spawns is empty), so it works on its own task only.`;
  const base = { allowed: orchestrator, refusal };

  return [
    {
      ...base,
      name: "spawn",
      title: "Spawn an agent",
      description:
        "Start a new agent instance (a real interactive agent in its own tmux session) below you. Returns once it is ready and its prompt was accepted, or fails with its screen quoted. Your role decides which roles you may spawn.",
      input: s.spawnInput,
      output: s.spawnOutput,
      run: async (args, caller) => {
        const a = args as z.output<typeof s.spawnInput>;
        for (const name of RESERVED_PLUGIN_OPTIONS) {
          if (a.plugins?.[name] !== undefined) {
            throw forbidden(
              `plugins.${name} is reserved: the workflow engine sets it to tie an instance it spawns to a task of its run, and no spawn tool call may. Leave it out; to run a workflow, call run_workflow.`,
              { option: `plugins.${name}` },
            );
          }
        }
        const parentId = a.parentId ?? caller.instanceId;
        if (caller.instanceId !== null && parentId !== caller.instanceId && !(parentId && (await isDescendant(kernel, caller.instanceId, parentId)))) {
          throw forbidden(
            `${describeCaller(caller)} may not spawn under "${parentId}": the parent must be itself or one of its descendants. Leave parentId out to spawn your own child.`,
            { caller: caller.instanceId, parentId },
          );
        }
        // The parent's workDir: where a child must work unless its role allows otherwise.
        const base = parentId ? (await kernel.get(parentId)).workDir : process.cwd();
        const workDir = a.workDir === undefined ? base : path.resolve(base, a.workDir);
        const { instance, receipt } = await kernel.spawn(
          { role: a.role, workDir, prompt: a.prompt, context: a.context, parentId, name: a.name, agent: a.agent, node: a.node, plugins: a.plugins, budget: a.budget },
          caller.instanceId,
        );
        const prompt = receipt ? ` Its prompt was ${receipt.state === "delivered" ? "delivered" : `queued (position ${receipt.position ?? "?"})`}.` : "";
        return {
          structured: { instance: instanceView(instance), ...(receipt ? { receipt: receiptView(receipt) } : {}) },
          text: `Spawned ${instance.role} "${instance.id}" (agent ${instance.agent}) in ${instance.workDir}${instance.parentId ? ` under "${instance.parentId}"` : " at the top level"}; it is ${instance.status}.${prompt}`,
        };
      },
    },
    {
      ...base,
      name: "send",
      title: "Send a message",
      description:
        'Send a message to an instance below you. Returns a receipt once the agent accepted the input, or "queued" when it is busy (delivered as soon as it is idle).',
      input: s.sendInput,
      output: s.sendOutput,
      run: async (args, caller) => {
        const a = args as z.output<typeof s.sendInput>;
        await assertTarget(kernel, caller, a.instanceId, "send to");
        const receipt = await kernel.send(a.instanceId, a.text, { whenBusy: a.whenBusy, ...(a.messageId !== undefined ? { messageId: a.messageId } : {}) }, caller.instanceId);
        // Queued for a paused instance (a budget, the turn cap): waiting for idle would not deliver it; say what will.
        const hold = receipt.state === "queued" ? (await kernel.get(a.instanceId)).hold : undefined;
        const why = hold ? `it is paused (${hold.reason}); the message is delivered once it is resumed` : "it is busy; the message is delivered when it becomes idle";
        return {
          structured: receiptView(receipt),
          text: receipt.state === "delivered" ? `Delivered to "${receipt.instanceId}" (accepted at ${receipt.acceptedAt ?? "now"}).` : `Queued for "${receipt.instanceId}" at position ${receipt.position ?? "?"}: ${why}.`,
        };
      },
    },
    {
      ...base,
      name: "read",
      title: "Read an instance",
      description:
        "Status, last reply, token usage and the screen tail of an instance below you (or yourself). With wait: true it blocks until the agent's current turn ends.",
      input: s.readInput,
      output: s.readOutput,
      annotations: { readOnlyHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.readInput>;
        await assertTarget(kernel, caller, a.instanceId, "read", true);
        if (a.wait && a.instanceId === caller.instanceId) {
          throw forbidden(`${describeCaller(caller)} may not read itself with wait: its own turn cannot end while it waits. Read without wait.`, {
            caller: caller.instanceId,
          });
        }
        const result = await kernel.read(a.instanceId, { lines: a.lines, wait: a.wait, timeoutMs: a.timeoutMs });
        return { structured: readView(result), text: readText(result) };
      },
    },
    {
      ...base,
      name: "list",
      title: "List instances",
      description: "Instances with role, parent, status, working directory, creation time and children. You see yourself and the instances below you.",
      input: s.listInput,
      output: s.listOutput,
      annotations: { readOnlyHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.listInput>;
        let instances = await kernel.list({ role: a.role, parentId: a.parentId, status: a.status });
        if (caller.instanceId !== null) {
          const inside = subtreeOf(await kernel.list(), caller.instanceId);
          instances = instances.filter((i) => inside.has(i.id));
        }
        return { structured: { instances: instances.map(listedView) }, text: listText(instances) };
      },
    },
    {
      ...base,
      name: "terminate",
      title: "Terminate an instance",
      description: "End an instance below you and its whole process tree. With cascade: true its descendants end too; without it an instance with running children is refused.",
      input: s.terminateInput,
      output: s.terminateOutput,
      annotations: { destructiveHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.terminateInput>;
        await assertTarget(kernel, caller, a.instanceId, "terminate");
        const terminated = await kernel.terminate(a.instanceId, { cascade: a.cascade, ...(a.plugins ? { plugins: a.plugins } : {}) });
        return { structured: { terminated }, text: `Terminated ${terminated.map((id) => `"${id}"`).join(", ")}.` };
      },
    },
    {
      ...base,
      name: "restart",
      title: "Restart an instance",
      description: "Relaunch an instance below you in the same working directory, resuming its conversation where the agent can. Returns once it is ready.",
      input: s.restartInput,
      output: s.restartOutput,
      annotations: { destructiveHint: true },
      run: async (args, caller) => {
        const a = args as z.output<typeof s.restartInput>;
        await assertTarget(kernel, caller, a.instanceId, "restart");
        const instance = await kernel.restart(a.instanceId);
        return { structured: { instance: instanceView(instance) }, text: `Restarted "${instance.id}"; it is ${instance.status}.` };
      },
    },
    resumeTool(kernel, base),
  ];
}

// ----------------------------------------------------------- plugin tools

function pluginTool(kernel: KernelApi, contribution: ToolContribution, logger: KernelApi["logger"]): ToolDef | undefined {
  const schema = contribution.inputSchema as z.ZodType | undefined;
  if (!schema || typeof schema !== "object" || !("_zod" in schema) || typeof schema.safeParseAsync !== "function") {
    logger.warn({ tool: contribution.name }, `plugin tool "${contribution.name}" has no zod 4 inputSchema; it is not served`);
    return undefined;
  }
  const roles = contribution.roles;
  return {
    name: contribution.name,
    description: contribution.description,
    input: schema,
    output: s.pluginOutput,
    allowed: (caller) => isRoot(caller) || (roles ? caller.role !== null && roles.includes(caller.role) : mayOrchestrate(kernel.config, caller)),
    refusal: (caller) =>
      roles
        ? `Tool "${contribution.name}" is for role(s) ${roles.join(", ")}; ${describeCaller(caller)} may not use it.`
        : `Tool "${contribution.name}" is for instances that orchestrate; ${describeCaller(caller)} may not use it (its role spawns nothing).`,
    run: async (args, caller) => {
      const result = await contribution.handler(args, { instanceId: caller.instanceId, role: caller.role });
      // A result with a readable `text` (ToolContribution.handler): that is the text, the rest the structured content, as the core tools answer.
      if (isPlainObject(result) && typeof result.text === "string") {
        const { text, ...structured } = result;
        return { structured, text };
      }
      const structured = isPlainObject(result) ? result : { result: result ?? null };
      const text = typeof result === "string" ? result : JSON.stringify(result ?? null, null, 2);
      return { structured, text };
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ------------------------------------------------------------------ views

/** What a tool shows of an instance: never its launch environment (which holds its MCP secret). */
function instanceView(r: InstanceRecord): z.output<typeof s.instanceOutput> {
  return {
    id: r.id,
    role: r.role,
    parentId: r.parentId,
    depth: r.depth,
    name: r.name,
    agent: r.agent,
    status: r.status,
    statusReason: r.statusReason,
    ...(r.limitedUntil !== undefined ? { limitedUntil: r.limitedUntil } : {}),
    workDir: r.workDir,
    createdAt: r.createdAt,
    node: r.tmux.node,
  };
}

function listedView(r: InstanceSummary): z.output<typeof s.listedInstanceOutput> {
  return { ...instanceView(r), children: r.children, ...(r.unreachable ? { unreachable: r.unreachable } : {}), ...(r.hold ? { paused: r.hold.reason } : {}), ...pluginFieldsView(r) };
}

function receiptView(r: DeliveryReceipt): z.output<typeof s.receiptOutput> {
  return { messageId: r.messageId, instanceId: r.instanceId, state: r.state, acceptedAt: r.acceptedAt, position: r.position };
}

function readView(r: ReadResult): z.output<typeof s.readOutput> {
  return { id: r.id, status: r.status, statusReason: r.statusReason, ...(r.limitedUntil !== undefined ? { limitedUntil: r.limitedUntil } : {}), lastReply: r.lastReply, screen: r.screen, queued: r.queued, ...(r.usage ? { usage: shownUsage(r.usage) } : {}), paused: r.paused, ...pluginFieldsView(r) };
}

/** What plugins added (the kernel's `instanceFields` hook), when they did. */
function pluginFieldsView(r: { fields?: Record<string, unknown>; details?: string[] }): { fields?: Record<string, unknown>; details?: string[] } {
  return { ...(r.fields ? { fields: r.fields } : {}), ...(r.details ? { details: r.details } : {}) };
}

function readText(r: ReadResult): string {
  const limit = r.limitedUntil !== undefined ? ` until ${r.limitedUntil} (its usage limit; queued messages wait for the reset)` : "";
  const parts = [`"${r.id}" is ${r.status}${limit}${r.statusReason ? ` (${r.statusReason})` : ""}.`];
  if (r.paused) parts.push(`Paused: ${r.paused}. Messages to it wait in its queue until it is resumed (resume).`);
  if (r.queued) {
    const kept = r.status === "exited" ? " They are kept: restart delivers them, terminate drops them." : "";
    parts.push(`${r.queued} message(s) queued for it.${kept}`);
  }
  if (r.usage) parts.push(`Tokens: ${r.usage.inputTokens} in, ${r.usage.outputTokens} out, ${r.usage.cacheReadInputTokens} cache read, ${r.usage.cacheCreationInputTokens} cache write.`);
  if (r.details) parts.push(...r.details);
  if (r.lastReply !== undefined) parts.push(`Last reply:\n${r.lastReply}`);
  parts.push(`Screen:\n${quoteScreen(r.screen, 10_000)}`);
  return parts.join("\n");
}

function listText(instances: readonly InstanceSummary[]): string {
  if (instances.length === 0) return "No instances.";
  return instances
    .map(
      (i) =>
        `${i.id}  ${i.role}  ${i.unreachable ? `unreachable (${i.unreachable}; last status ${i.status})` : i.limitedUntil !== undefined ? `${i.status} until ${i.limitedUntil}` : i.status}${i.hold ? ` (paused: ${i.hold.reason})` : ""}  parent: ${i.parentId ?? "-"}  children: ${i.children.length ? i.children.join(", ") : "-"}  created: ${i.createdAt}  workDir: ${i.workDir}${i.details ? `  ${i.details.join("  ")}` : ""}`,
    )
    .join("\n");
}
