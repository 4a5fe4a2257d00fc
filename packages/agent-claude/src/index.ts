export { claude, withClaude, CLAUDE_AGENT, PLUGIN_NAME } from "./plugin.js";
export { claudeAdapter } from "./adapter.js";
export { ClaudeDriver } from "./driver.js";
export { claudeAgentOptions, parseClaudeOptions, CLAUDE_PERMISSION_MODES, type ClaudeAgentOptions } from "./options.js";
export { generatedSettings } from "./launch.js";
// The one price table and pricing function (the cost plugin prices with them too).
export { LONG_CONTEXT_INPUT_TOKENS, PRICES, PRICES_AS_OF, apiModelId, modelUsd, priceOf, type ModelPrice, type Rates } from "./prices.js";
export { hookCommand, HOOK_EVENTS } from "./hook.js";
export { classifyScreen, type ScreenState } from "./screen.js";
export type { ClaudeAgentState } from "./state.js";
export type { HookEvent, HookPayload } from "./events.js";
