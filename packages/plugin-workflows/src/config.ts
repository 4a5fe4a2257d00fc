import type { ResolvedConfig } from "@tmux-claude/core";
import { PLUGIN_NAME, workflows } from "./plugin.js";

/**
 * The config with the workflows plugin added unless it lists one itself (with
 * its own options): the CLI runs every kernel with it, so `serve` offers the
 * `complete` and `run_workflow` tools to every instance.
 */
export function withWorkflows(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, workflows()] };
}
