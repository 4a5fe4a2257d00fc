// `budgets()`: the budget part of the cost plugin, a plugin of its own ("budget") on top of the cost plugin's api.
import type { Plugin } from "@tmux-claude/core";
import { PLUGIN_NAME as COST } from "../plugin.js";
import type { CostApi } from "../types.js";
import { budgetCommand, budgetTool } from "./command.js";
import { Budgets } from "./enforce.js";

export const BUDGET_PLUGIN = "budget";

/**
 * Enforces budgets (limits.budget in the config, a spawn's `budget`,
 * `tmux-claude budget`): refuses spawns into a subtree at or over its
 * budget (a take of a pooled or reused instance there too: `beforeTake`),
 * runs the budget's action when a turn's usage crosses it, and adds the
 * `budget` command and MCP tool. Needs the cost plugin (`cost()`).
 */
export function budgets(): Plugin {
  return {
    name: BUDGET_PLUGIN,
    kernel: "^0.1.0",
    // The kernel refuses to start without it, naming it: budgets are priced by its api.
    dependencies: [COST],
    apply(ctx) {
      const cost = (): CostApi => ctx.kernel.plugin<CostApi>(COST)!;
      const enforcer = new Budgets(ctx, cost);
      ctx.hooks.beforeSpawn.tapPromise((plan) => enforcer.beforeSpawn(plan));
      ctx.hooks.beforeTake.tapPromise((plan) => enforcer.beforeTake(plan));
      ctx.hooks.usage.tapPromise((update) => enforcer.onUsage(update));
      ctx.hooks.commands.tap((commands) => [...commands, budgetCommand(cost, enforcer)]);
      ctx.hooks.tools.tap((tools) => [...tools, budgetTool(() => ctx.kernel, cost, enforcer)]);
    },
  };
}
