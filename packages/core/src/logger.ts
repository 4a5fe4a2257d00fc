import pino, { type Logger, type LevelWithSilent } from "pino";

/** pino on stderr: stdout may be a protocol channel (MCP over stdio). */
export function createLogger(level: LevelWithSilent = "info"): Logger {
  return pino({ name: "tmux-claude", level }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
