/**
 * Every CLI command is an operation of the root caller (a person, or the
 * agent whose process tree runs it: TMUX_CLAUDE_INSTANCE_ID) and goes
 * into the node's audit log (plugin-audit), written here rather than through
 * a kernel's `operation` hook because many commands run no kernel (init,
 * doctor, attach) and the rest close theirs before the exit code is known.
 * MCP calls are recorded by the MCP server (the hook), so `mcp` itself is not.
 */
import type { Command } from "commander";
import { callingInstance, defaultNodeId, isTmuxClaudeError, type CommandContribution, type CommandInvocation, type OperationInput } from "@tmux-claude/core";
import { auditOf } from "@tmux-claude/plugin-audit";
import { stateDirOf, type Cli } from "./context.js";
import { Interrupted } from "./exit-codes.js";

/**
 * Not operations on the system: reading the log itself, help, and the MCP
 * server whose calls are recorded one by one. `doctor` is recorded only with
 * `--clean`: without it, it promises to write nothing (not even a state dir).
 */
const NOT_RECORDED = new Set(["audit", "mcp", "help"]);

export interface CliOperation {
  operation: string;
  args: Record<string, unknown>;
  target?: string;
}

/** What a built-in command was asked, from commander: its options and its arguments by their names (`id`, `text`, `role`). */
export function builtInOperation(command: Command, positionals: readonly unknown[]): CliOperation {
  const args: Record<string, unknown> = { ...command.opts() };
  command.registeredArguments.forEach((argument, i) => {
    const value = positionals[i];
    if (value === undefined) return;
    // Variadic words are one text, as the command joins them.
    args[argument.name()] = Array.isArray(value) ? value.join(" ") : value;
  });
  // The instance, run or workflow file it acts on; a spawn acts under its parent.
  const target = [args.id, args.run, args.file, args.parent].find((value): value is string => typeof value === "string");
  return { operation: command.name(), args, ...(target !== undefined ? { target } : {}) };
}

/**
 * A plugin's command (`git merge exec-1 --force`): its name, plus the
 * subcommand and target the command itself declares for this argv
 * (CommandContribution.invocation). argv goes into the digest only: which
 * word is an option's value or a text only the command knows, and any may be a secret.
 */
export function pluginOperation(contribution: Pick<CommandContribution, "name" | "invocation">, argv: readonly string[]): CliOperation {
  let declared: CommandInvocation = {};
  try {
    declared = contribution.invocation?.([...argv]) ?? {};
  } catch {
    // A plugin's faulty declaration costs the log its detail, never the command its run.
  }
  const sub = typeof declared.subcommand === "string" && declared.subcommand !== "" ? declared.subcommand : undefined;
  const target = typeof declared.target === "string" && declared.target !== "" ? declared.target : undefined;
  return { operation: sub === undefined ? contribution.name : `${contribution.name} ${sub}`, args: { argv: [...argv] }, ...(target !== undefined ? { target } : {}) };
}

/** Run a command and record it, also when it fails; the command's outcome (exit code or error) is unchanged. */
export async function recorded(cli: Cli, operation: CliOperation, run: () => Promise<number>): Promise<number> {
  if (NOT_RECORDED.has(operation.operation) || (operation.operation === "doctor" && !operation.args.clean)) return run();
  const started = Date.now();
  const record = (outcome: Pick<OperationInput, "result" | "error">) =>
    write(cli, {
      caller: null,
      surface: "cli",
      ...operation,
      ...outcome,
      at: new Date(started).toISOString(),
      durationMs: Date.now() - started,
    });
  try {
    const exitCode = await run();
    await record({ result: { exitCode, ...cli.auditResult } });
    return exitCode;
  } catch (error) {
    await record({ error: { code: codeOf(error), message: error instanceof Error ? error.message : String(error) } });
    throw error;
  }
}

function codeOf(error: unknown): string {
  if (isTmuxClaudeError(error)) return error.code;
  if (error instanceof Interrupted) return "TC_INTERRUPTED";
  const code = (error as { code?: unknown } | null)?.code;
  // commander's usage errors (commander.missingArgument) are the CLI's invalid arguments.
  return typeof code === "string" && code.startsWith("commander.") ? "TC_INVALID_ARGUMENT" : "TC_UNEXPECTED";
}

/** A log that cannot be written is a warning on stderr, never the command's failure: what it did stands. */
async function write(cli: Cli, operation: OperationInput): Promise<void> {
  let dir = "the state dir";
  try {
    // The config the command used; a command that loaded none (init) records where its config says.
    const { config } = await cli.loadConfig(operation.operation);
    const audit = auditOf(config);
    if (!audit?.enabled) return;
    const stateDir = stateDirOf(config);
    dir = audit.dir(stateDir);
    // An agent running the CLI through its shell is the caller, not the root (who started that agent is in its spawn's line).
    const caller = callingInstance(cli.io.env, stateDir) ?? null;
    await audit.record({ ...operation, caller, node: config.node?.id ?? defaultNodeId(config.tmux.socket) }, stateDir);
  } catch (error) {
    // A config that does not load was the command's own error already.
    if (isTmuxClaudeError(error) && dir === "the state dir") return;
    cli.err(`warning: the audit log in ${dir} was not written: ${error instanceof Error ? error.message : String(error)}. Check that the directory is writable.`);
  }
}
