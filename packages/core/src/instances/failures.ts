import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";

export function exitedError(record: InstanceRecord): TmuxClaudeError {
  return new TmuxClaudeError(
    ErrorCodes.INSTANCE_EXITED,
    `Instance "${record.id}" has exited${record.statusReason ? ` (${record.statusReason})` : ""}. Restart it first: tmux-claude restart ${record.id}`,
    { id: record.id },
  );
}

/**
 * The tmux server went away in the middle of an operation. tmux's own words
 * ("server exited unexpectedly") do not say that the agents ended with it, nor
 * what to do; this does. Other errors pass through unchanged.
 */
export function explainTmuxLoss(error: unknown, what: string, socket: string): unknown {
  if (!isTmuxClaudeError(error, ErrorCodes.TMUX_DISCONNECTED)) return error;
  return new TmuxClaudeError(
    ErrorCodes.TMUX_DISCONNECTED,
    `The tmux server (socket "${socket}") went away while ${what}: ${error.message.replace(/\.$/u, "")}. The agents that ran there ended with it; ` +
      "tmux-claude list shows them as exited once it runs again, and tmux-claude restart <id> relaunches one.",
    { ...error.details, socket },
    { cause: error },
  );
}
