import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";

/** The codes this package raises; they live with every other code in core's errors file. */
export const McpErrorCodes = {
  /** A caller asked for something its identity does not allow (outside its subtree, a tool its role may not use). */
  FORBIDDEN: ErrorCodes.FORBIDDEN,
  /** The HTTP endpoint could not listen (port taken, address not available). */
  LISTEN_FAILED: ErrorCodes.MCP_LISTEN_FAILED,
} as const;

export function forbidden(message: string, details: Record<string, unknown> = {}): TmuxClaudeError {
  return new TmuxClaudeError(McpErrorCodes.FORBIDDEN, message, details);
}

/**
 * A TmuxClaudeError by shape, not by class: a plugin or a second copy of core
 * may throw one whose class is not ours.
 */
export function errorCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("TC_") ? code : undefined;
}
