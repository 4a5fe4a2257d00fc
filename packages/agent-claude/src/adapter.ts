import type { AgentAdapter } from "@tmux-claude/core";
import { ClaudeDriver } from "./driver.js";
import { claudeLaunch } from "./launch.js";
import { claudeAgentOptions, parseClaudeOptions } from "./options.js";

/**
 * Claude Code as an agent adapter. State comes from Claude Code's hooks
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
