import type { ResolvedConfig } from "@tmux-claude/core";
import { PLUGIN_NAME, cost } from "./plugin.js";

/**
 * The config with the cost plugin added unless it lists one itself (with its
 * own prices): the CLI runs every kernel with it, so `cost`, `read` and
 * `list` show what instances cost without any config.
 */
export function withCost(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, cost()] };
}
