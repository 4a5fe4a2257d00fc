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
  // Its spinner, timer and terminal title redraw about 9 times a second while it waits on the model or a tool:
  // output says nothing about progress. Its hook events (ctx.activity) do.
  outputIsActivity: false,
  launch: claudeLaunch,
  drive(ctx) {
    return new ClaudeDriver(ctx, parseClaudeOptions(ctx.record().agent, ctx.agent));
  },
};
