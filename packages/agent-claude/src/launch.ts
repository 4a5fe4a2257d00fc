import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { open, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { INSTANCE_ENV, type LaunchContext, type LaunchSpec } from "@tmux-claude/core";
import { EVENTS_ENV, HOOK_EVENTS, hookCommand, LAUNCH_ENV, type HookEventName } from "./hook.js";
import { bypassesPermissions, parseClaudeOptions } from "./options.js";
import type { ClaudeAgentState } from "./state.js";
import { isTrustedDir } from "./trust.js";

export const EVENTS_FILE = "events.jsonl";
export const SETTINGS_FILE = "settings.json";
export const MCP_CONFIG_FILE = "mcp.json";

/** The MCP server name agents see: tools `mcp__tmux-claude__spawn`, ... */
export const MCP_SERVER_NAME = "tmux-claude";

/** Seconds Claude Code lets the hook run before it gives up on it. */
const HOOK_TIMEOUT_SECONDS = 10;

/** Settings for this one process (`--settings`); the user's own settings files are never touched. */
export function generatedSettings(options: { bypass: boolean; mcp?: boolean }): Record<string, unknown> {
  // Every tool's Pre/PostToolUse: they show a busy agent alive to a stall watcher (and the task tools' keep its progress).
  const hook = (event: HookEventName) => [{ hooks: [{ type: "command", command: hookCommand(event), timeout: HOOK_TIMEOUT_SECONDS }] }];
  const settings: Record<string, unknown> = { hooks: Object.fromEntries(HOOK_EVENTS.map((event) => [event, hook(event)])) };
  // The orchestration tools run without asking a person: the server itself decides what this instance's role may do.
  if (options.mcp) settings.permissions = { allow: [`mcp__${MCP_SERVER_NAME}`] };
  // With permission checks bypassed on purpose, the confirmation dialog has nothing left to ask.
  if (options.bypass) settings.skipDangerousModePermissionPrompt = true;
  return settings;
}

/**
 * The instance's own MCP server entry: the kernel's HTTP endpoint, authenticated with this instance's secret.
 * `alwaysLoad`: newer Claude Code releases defer MCP tools behind ToolSearch; the orchestration tools are
 * why the instance exists, so they are in its first turn's tool list (other servers stay deferred).
 */
export function mcpConfig(url: string, token: string): Record<string, unknown> {
  return { mcpServers: { [MCP_SERVER_NAME]: { type: "http", url, headers: { Authorization: `Bearer ${token}` }, alwaysLoad: true } } };
}

/** Claude Code's switch for its task tools (they are its task list, the instance's progress). */
export const TODO_TOOLS_ENV = "CLAUDE_CODE_ENABLE_TODO_TOOLS";

/**
 * Why the task list matters: newer models get the task tools deferred (behind
 * ToolSearch) and a system prompt that never names them, so without a word
 * they rarely keep one, and the instance shows no progress.
 */
export const PROGRESS_REQUEST = "For work of several steps, keep your plan as a task list (TaskCreate/TaskUpdate or TodoWrite, whichever you have) and keep it current: it is how the others see your progress.";

/** The text appended to Claude Code's system prompt: the role's instructions, who this instance is, and the request for a task list. */
export function systemPromptAddition(ctx: LaunchContext, options: { taskTools?: boolean } = {}): string {
  const who = `You are the tmux-claude instance "${ctx.instanceId}" with the role "${ctx.role}"${ctx.parentId ? `, spawned by the instance "${ctx.parentId}"` : ", at the top level of the hierarchy"}.`;
  const instructions = ctx.roleConfig.instructions?.trim();
  const parts = [...(instructions ? [instructions] : []), who, ...(options.taskTools === false ? [] : [PROGRESS_REQUEST])];
  return parts.join("\n\n");
}

/**
 * `CLAUDE_CODE_ENABLE_TODO_TOOLS=1` when the adapter offers the task tools and
 * nobody chose otherwise: the agent's `env` (ctx.env) and the environment the
 * agent inherits win, since the adapter's env is applied over them.
 */
export function taskToolsEnv(ctx: Pick<LaunchContext, "env">, taskTools: boolean, inherited: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (!taskTools || ctx.env[TODO_TOOLS_ENV] !== undefined || inherited[TODO_TOOLS_ENV] !== undefined) return {};
  return { [TODO_TOOLS_ENV]: "1" };
}

/** The conversation a relaunch resumes: the stored session, if Claude Code ever wrote its transcript. */
function resumableSession(ctx: LaunchContext): string | undefined {
  const state = (ctx.previous?.agentState ?? {}) as Partial<ClaudeAgentState>;
  if (typeof state.sessionId !== "string") return undefined;
  // Claude Code writes the transcript with the first message; a session that never had one cannot be resumed.
  if (typeof state.transcriptPath === "string" && existsSync(state.transcriptPath)) return state.sessionId;
  return undefined;
}

export async function claudeLaunch(ctx: LaunchContext): Promise<LaunchSpec> {
  const options = parseClaudeOptions(ctx.agentName, ctx.agent);
  const bypass = bypassesPermissions(options);
  const settingsFile = path.join(ctx.instanceDir, SETTINGS_FILE);
  const eventsFile = path.join(ctx.instanceDir, EVENTS_FILE);
  const mcpUrl = ctx.env[INSTANCE_ENV.endpointUrl];
  const mcpToken = ctx.env[INSTANCE_ENV.endpointToken];
  const mcp = Boolean(mcpUrl && mcpToken);
  await writeFile(settingsFile, `${JSON.stringify(generatedSettings({ bypass, mcp }), null, 2)}\n`, { mode: 0o600 });
  const mcpFile = path.join(ctx.instanceDir, MCP_CONFIG_FILE);
  // The file holds the instance's secret: readable by its owner only, in a directory only its owner can enter.
  if (mcp) await writeFile(mcpFile, `${JSON.stringify(mcpConfig(mcpUrl!, mcpToken!), null, 2)}\n`, { mode: 0o600 });
  // The driver watches the file from before the agent's first hook; events of earlier launches stay behind the offset.
  await (await open(eventsFile, "a", 0o600)).close();
  const eventsOffset = (await stat(eventsFile)).size;

  const resume = resumableSession(ctx);
  const previousState = (ctx.previous?.agentState ?? {}) as Partial<ClaudeAgentState>;
  const sessionId = resume ?? (typeof previousState.sessionId === "string" ? previousState.sessionId : randomUUID());
  const launchId = randomUUID();

  const args = [resume ? "--resume" : "--session-id", sessionId, "--settings", settingsFile];
  // A flag's server of the same name wins over one in the user's own config (e.g. the root stdio server).
  if (mcp) args.push("--mcp-config", mcpFile);
  args.push("--append-system-prompt", systemPromptAddition(ctx, options));
  if (options.permissionMode) args.push("--permission-mode", options.permissionMode);
  if (options.model) args.push("--model", options.model);
  if (options.skipPermissions) args.push("--dangerously-skip-permissions");
  args.push(...ctx.agent.args);

  const env: Record<string, string> = { [EVENTS_ENV]: eventsFile, [LAUNCH_ENV]: launchId, ...taskToolsEnv(ctx, options.taskTools) };
  // Claude Code refuses to bypass permissions as root unless told it runs in a sandbox.
  if (bypass && process.getuid?.() === 0) env.IS_SANDBOX = "1";

  // A plugin moved the instance (a git worktree): the trust the user gave the directory it asked for covers where it runs.
  const trustedOrigin = ctx.workDirOrigin && (await isTrustedDir(ctx.workDirOrigin, { ...process.env, ...ctx.env })) ? ctx.workDirOrigin : undefined;

  const agentState: ClaudeAgentState = {
    sessionId,
    launchId,
    eventsOffset,
    resumed: resume !== undefined,
    transcriptPath: previousState.transcriptPath,
    transcripts: Array.isArray(previousState.transcripts) ? previousState.transcripts : [],
    ...(trustedOrigin ? { trustedOrigin } : {}),
    // A resumed conversation goes on with its task list (tasks.ts); a new one starts without.
    ...(resume !== undefined && Array.isArray(previousState.tasks) ? { tasks: previousState.tasks } : {}),
  };
  return { command: ctx.agent.command, args, env, agentState: { ...agentState } };
}
