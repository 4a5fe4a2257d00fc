import type { ResolvedConfig } from "@tmux-claude/core";
import { mcp, PLUGIN_NAME } from "./plugin.js";

/**
 * The config with the mcp plugin registered, unless the user's config already
 * has one (with their options). Every kernel of a setup needs it, one-shot CLI
 * commands included: a spawn from any process must mint the instance's secret.
 */
export function withMcp(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, mcp()] };
}
