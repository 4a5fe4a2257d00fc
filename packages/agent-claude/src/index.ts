export { claude, withClaude, CLAUDE_AGENT, PLUGIN_NAME } from "./plugin.js";
export { claudeAdapter } from "./adapter.js";
export { ClaudeDriver } from "./driver.js";
export { claudeAgentOptions, parseClaudeOptions, CLAUDE_PERMISSION_MODES, type ClaudeAgentOptions } from "./options.js";
export { generatedSettings } from "./launch.js";
// The price table lives in the cost plugin (one table); re-exported for code that priced with this package.
export { LONG_CONTEXT_INPUT_TOKENS, PRICES, PRICES_AS_OF, costOf, priceOf, type ModelPrice } from "@tmux-claude/plugin-cost";
export { hookCommand, HOOK_EVENTS } from "./hook.js";
export { classifyScreen, type ScreenState } from "./screen.js";
export type { ClaudeAgentState } from "./state.js";
export type { HookEvent, HookPayload } from "./events.js";
