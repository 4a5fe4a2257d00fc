import type { HookEvent } from "./events.js";

/** Claude Code's Bash tool kills a command after its `timeout`: 2 minutes unless the call says otherwise, at most 10. */
export const BASH_DEFAULT_TIMEOUT_MS = 120_000;
export const BASH_MAX_TIMEOUT_MS = 600_000;

/**
 * How long a silence to expect after a hook event (DriverContext.activity's
 * quietForMs): Claude Code fires no hook while a tool runs, so a Bash command
 * is silent until it ends or its timeout kills it (then PostToolUse or
 * PostToolUseFailure comes). Undefined: none beyond the usual. A command run
 * in the background returns at once and is not waited for.
 */
export function expectedQuietMs(event: HookEvent): number | undefined {
  if (event.event !== "PreToolUse" || event.payload.tool_name !== "Bash") return undefined;
  const input = (event.payload.tool_input ?? {}) as { timeout?: unknown; run_in_background?: unknown };
  if (input.run_in_background === true) return undefined;
  const timeout = typeof input.timeout === "number" && input.timeout > 0 ? input.timeout : BASH_DEFAULT_TIMEOUT_MS;
  return Math.min(timeout, BASH_MAX_TIMEOUT_MS);
}
