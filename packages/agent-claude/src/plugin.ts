import { definePlugin, type ResolvedConfig, type UserAgentConfig } from "@tmux-claude/core";
import { claudeAdapter } from "./adapter.js";

export const PLUGIN_NAME = "claude";

/** The agent every config with this plugin has unless it defines its own `claude`: the `claude` program on PATH. */
export const CLAUDE_AGENT: UserAgentConfig = { adapter: "claude", command: "claude" };

/**
 * The Claude Code plugin: registers the `claude` adapter and contributes the
 * `claude` agent. The tmux-claude CLI adds it to every config (withClaude);
 * a program that starts a Kernel itself lists it in `plugins`.
 */
export const claude = definePlugin({
  name: PLUGIN_NAME,
  defaultAgents: { claude: CLAUDE_AGENT },
  setup(ctx) {
    ctx.registerAdapter(claudeAdapter);
  },
});

/** The config with the claude plugin added, unless it already has one. */
export function withClaude(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, claude()] };
}
