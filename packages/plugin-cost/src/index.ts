/**
 * @tmux-claude/plugin-cost: what instances cost (see README.md). Pricing
 * tokens by model (pricing.ts, with the price table and pricing function of
 * @tmux-claude/agent-claude's prices.ts), roll-ups per subtree and workflow
 * run (rollup.ts) over records and the cost ledger (ledger.ts), the plugin
 * and its api (plugin.ts) and the `cost` command (command.ts).
 */
export type * from "./types.js";
export { cost, costOptionsSchema, PLUGIN_NAME, type CostOptions, type CostPluginApi } from "./plugin.js";
export { withCost } from "./config.js";
// The shipped table and pricing function, for code that prices as this plugin does.
export { LONG_CONTEXT_INPUT_TOKENS, PRICES, PRICES_AS_OF, apiModelId, modelUsd, priceOf, type ModelPrice } from "@tmux-claude/agent-claude";
export { Pricer, modelTokens, priceHint, UNKNOWN_MODEL } from "./pricing.js";
export { costReport, formatReport, type CostReport, type CostRow } from "./command.js";
export { budgets, BUDGET_PLUGIN } from "./budget/plugin.js";
export { BudgetErrors } from "./budget/enforce.js";
export { budgetOf, formatBudget, type BudgetReport } from "./budget/command.js";
