import { CommanderError } from "commander";
import { ErrorCodes, isTmuxClaudeError } from "@tmux-claude/core";

/** The process exit codes of `tmux-claude`; scripts may rely on them. */
export const ExitCode = {
  OK: 0,
  /** tmux, the agent or a timeout failed. */
  FAILURE: 1,
  /** Invalid arguments, input or config. */
  USAGE: 2,
  /** No such instance. */
  NOT_FOUND: 3,
  /** Refused for now: the agent's circuit breaker is open (TC_BREAKER_OPEN); try again after it closes. */
  BREAKER_OPEN: 4,
  /** Stopped by Ctrl-C (SIGINT). */
  INTERRUPTED: 130,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    failure: tmux, the agent or a timeout (a failed doctor check too)
  2    usage error: invalid arguments, input or config
  3    not found: no such instance (or thread)
  4    the agent's circuit breaker is open (TC_BREAKER_OPEN): its spawns fail at once until it closes
  130  interrupted (Ctrl-C; 143 when stopped with SIGTERM)`;

/** Thrown when SIGINT or SIGTERM arrives while a one-shot command waits. */
export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`Interrupted by ${signal}.`);
    this.name = "Interrupted";
  }

  get exitCode(): number {
    return this.signal === "SIGTERM" ? 143 : ExitCode.INTERRUPTED;
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof Interrupted) return error.exitCode;
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  if (isTmuxClaudeError(error)) {
    if (error.code === ErrorCodes.BREAKER_OPEN) return ExitCode.BREAKER_OPEN;
    switch (error.kind) {
      case "usage":
        return ExitCode.USAGE;
      case "not-found":
        return ExitCode.NOT_FOUND;
      default:
        return ExitCode.FAILURE;
    }
  }
  return ExitCode.FAILURE;
}
