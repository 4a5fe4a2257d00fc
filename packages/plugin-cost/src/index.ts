/**
 * @tmux-claude/plugin-cost: what instances cost (see README.md). The price
 * table (prices.ts, also what the claude adapter prices with), pricing tokens
 * by model (pricing.ts), roll-ups per subtree and workflow run (rollup.ts),
 * the plugin and its api (plugin.ts) and the `cost` command (command.ts).
 */
export type * from "./types.js";
export { cost, costOptionsSchema, PLUGIN_NAME, type CostOptions, type CostPluginApi } from "./plugin.js";
export { withCost } from "./config.js";
export { LONG_CONTEXT_INPUT_TOKENS, PRICES, PRICES_AS_OF, costOf, priceOf, priced, type ModelPrice } from "./prices.js";
export { Pricer, modelTokens, UNKNOWN_MODEL } from "./pricing.js";
export { costReport, formatReport, type CostReport, type CostRow } from "./command.js";
export { budgets, BUDGET_PLUGIN } from "./budget/plugin.js";
export { BudgetErrors } from "./budget/enforce.js";
export { budgetOf, formatBudget, type BudgetReport } from "./budget/command.js";
