import type { ResolvedConfig } from "@tmux-claude/core";
import { PLUGIN_NAME, cost } from "./plugin.js";
import { BUDGET_PLUGIN, budgets } from "./budget/plugin.js";

/**
 * The config with the cost plugin added unless it lists one itself (with its
 * own prices): the CLI runs every kernel with it, so `cost`, `read` and
 * `list` show what instances cost without any config.
 */
export function withCost(config: ResolvedConfig): ResolvedConfig {
  const has = (name: string) => config.plugins.some((plugin) => plugin.name === name);
  // Budgets (limits.budget, a spawn's budget) are enforced wherever costs are known.
  const added = [...(has(PLUGIN_NAME) ? [] : [cost()]), ...(has(BUDGET_PLUGIN) ? [] : [budgets()])];
  return added.length ? { ...config, plugins: [...config.plugins, ...added] } : config;
}
