import pino, { type Logger, type LevelWithSilent } from "pino";
import { TmuxClaudeError } from "./errors.js";

/**
 * A TmuxClaudeError is an expected failure with a code and a message that says
 * what to do (tmux died, the instance is gone): logged without its stack, which
 * would only bury that message. Other errors are bugs and keep their stack.
 */
function serializeError(error: unknown): unknown {
  if (error instanceof TmuxClaudeError) {
    return { type: error.name, code: error.code, message: error.message, ...error.details };
  }
  return pino.stdSerializers.err(error as Error);
}

/**
 * pino on stderr: stdout may be a protocol channel (MCP over stdio).
 * `destination` takes each JSON line instead, for a caller that shares the
 * terminal with something it draws (the CLI's live progress of a run).
 */
export function createLogger(level: LevelWithSilent = "info", destination?: { write(line: string): void }): Logger {
  return pino({ name: "tmux-claude", level, serializers: { err: serializeError } }, destination ?? pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
