import type { AgentAdapter } from "../adapter.js";
import type { AgentConfig } from "../../config/schema.js";
import { ClaudeDriver } from "./driver.js";
import { claudeLaunch } from "./launch.js";
import { claudeAgentOptions, parseClaudeOptions } from "./options.js";

/**
 * Claude Code, the default agent. State comes from Claude Code's hooks
 * (registered for this process only through a generated `--settings` file),
 * with a screen reconciler for what hooks miss; input is typed into the pane
 * and its receipt is the UserPromptSubmit hook.
 */
export const claudeAdapter: AgentAdapter = {
  name: "claude",
  optionsSchema: claudeAgentOptions,
  launch: claudeLaunch,
  drive(ctx) {
    return new ClaudeDriver(ctx, parseClaudeOptions(ctx.record().agent, ctx.agent));
  },
};

/** The agent every config has unless it defines its own `claude`: the `claude` program on PATH. */
export const BUILTIN_CLAUDE_AGENT: AgentConfig = { adapter: "claude", command: "claude", args: [], env: {} };

export { ClaudeDriver } from "./driver.js";
export { claudeAgentOptions, parseClaudeOptions, CLAUDE_PERMISSION_MODES, type ClaudeAgentOptions } from "./options.js";
export { generatedSettings } from "./launch.js";
export { hookCommand, HOOK_EVENTS } from "./hook.js";
export { classifyScreen, type ScreenState } from "./screen.js";
export type { ClaudeAgentState } from "./state.js";
export type { HookEvent, HookPayload } from "./events.js";
