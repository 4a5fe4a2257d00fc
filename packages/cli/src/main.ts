import { Command, CommanderError, Option } from "commander";
import { ErrorCodes, isTmuxClaudeError, terminalText, type Kernel } from "@tmux-claude/core";
import { registerAttach } from "./commands/attach.js";
import { registerAudit } from "./commands/audit.js";
import { registerComplete } from "./commands/complete.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerInit } from "./commands/init.js";
import { registerLifecycle } from "./commands/lifecycle.js";
import { registerList } from "./commands/list.js";
import { registerMcp } from "./commands/mcp.js";
import { registerMonitor } from "./commands/monitor.js";
import { registerPluginCommands } from "./commands/plugins.js";
import { registerProgress } from "./commands/progress.js";
import { registerRead } from "./commands/read.js";
import { registerRun } from "./commands/run.js";
import { registerSend } from "./commands/send.js";
import { registerThread } from "./commands/thread.js";
import { registerServe } from "./commands/serve.js";
import { registerSpawn } from "./commands/spawn.js";
import { registerWorkflowCommands } from "./commands/workflows.js";
import { Cli, LOG_LEVELS, makeActionFactory, nonEmpty, VERSION, type CliIO, type GlobalOptions, type LogLevel } from "./context.js";
import { EXIT_CODES_HELP, exitCodeFor, ExitCode, Interrupted } from "./exit-codes.js";
import { printJson } from "./output.js";

export type MainOptions = Partial<CliIO>;

/** Global options that take a value, so the pre-scan can skip it. */
const VALUE_OPTIONS = new Set(["--config", "--socket", "--log-level"]);

/**
 * Run the CLI with `argv` as in `process.argv` (node, script, ...args) and
 * return the exit code. Tests may inject stdout, stderr, stdin, env, cwd and
 * an abort signal that stands for Ctrl-C.
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io: CliIO = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    stdin: options.stdin ?? process.stdin,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
  };
  const args = argv.slice(2);
  const json = wantsJson(args);
  let exitCode: number = ExitCode.OK;
  const setExitCode = (code: number) => {
    exitCode = code;
  };
  const program = buildProgram(io, setExitCode, json);
  let pluginKernel: Kernel | undefined;
  try {
    const scan = prescan(args);
    if (scan.command !== undefined && !isBuiltIn(program, scan.command)) {
      const cli = new Cli(io, scan.globals);
      pluginKernel = await registerPluginCommands(program, cli, scan.command, args.slice(scan.index + 1), setExitCode);
    } else if (topLevelHelp(args, scan)) {
      // The commands of the config's plugins belong in the list; help still prints when the config cannot be loaded.
      pluginKernel = await registerPluginCommands(program, new Cli(io, scan.globals), "help", [], setExitCode).catch(() => undefined);
    }
    await program.parseAsync([...argv], { from: "node" });
    return exitCode;
  } catch (error) {
    return reportError(io, error, json);
  } finally {
    await pluginKernel?.close().catch(() => undefined);
  }
}

export function buildProgram(io: CliIO, setExitCode: (code: number) => void, json = false): Command {
  const program = new Command("tmux-claude")
    .description("Run a hierarchy of coding agents (Claude Code first) in tmux: spawn them, talk to them, watch them.")
    .version(VERSION, "-V, --version", "print the version")
    .option(
      "--config <file>",
      "config file to use (default: tmuxclaude.config.ts found from the current directory upwards)",
      nonEmpty("--config", "a file", "Pass the config file, or leave --config out to use the tmuxclaude.config.ts found from the current directory."),
    )
    .option("--socket <name>", "tmux socket name; overrides tmux.socket from the config")
    .addOption(new Option("--log-level <level>", "log level on stderr (default: warn for one-shot commands, the config's logLevel for serve)").choices(LOG_LEVELS))
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
      // With --json the error goes to stdout as JSON instead (see reportError).
      outputError: (text, write) => {
        if (!json) write(text);
      },
    })
    .showHelpAfterError("(tmux-claude --help shows the commands; tmux-claude <command> --help their options)")
    .addHelpText("afterAll", EXIT_CODES_HELP);

  const action = makeActionFactory(io, setExitCode);
  registerInit(program, action);
  registerServe(program, action);
  registerMonitor(program, action);
  registerSpawn(program, action);
  registerSend(program, action);
  registerThread(program, action);
  registerRead(program, action);
  registerList(program, action);
  registerProgress(program, action);
  registerLifecycle(program, action);
  registerAttach(program, action);
  registerDoctor(program, action);
  registerMcp(program, action);
  registerRun(program, action);
  registerWorkflowCommands(program, action);
  registerAudit(program, action);
  registerComplete(program, action);
  program.addHelpText("after", "\nPlugins in the config may add more commands: tmux-claude <command> runs them. Always there: cost [id] [--tree] [--json] (tokens and USD per instance, subtree and run); knowledge [record|release] [--json] (shared notes and file claims per hierarchy).");
  return program;
}

function isBuiltIn(program: Command, name: string): boolean {
  return name === "help" || program.commands.some((command) => command.name() === name || command.aliases().includes(name));
}

/** `tmux-claude --help`, `-h` or `help` alone: the help that lists the commands. */
function topLevelHelp(args: readonly string[], scan: { command?: string; index: number }): boolean {
  if (scan.command === undefined) return args.includes("--help") || args.includes("-h");
  return scan.command === "help" && args.length === scan.index + 1;
}

/** `--json` before a `--` asks for JSON errors too. */
function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).includes("--json");
}

/** The command name and the global options before it, read before commander parses (for plugin commands). */
function prescan(args: readonly string[]): { command?: string; index: number; globals: GlobalOptions } {
  const globals: GlobalOptions = {};
  const set = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    if (name === "--config") globals.config = value;
    else if (name === "--socket") globals.socket = value;
    else if ((LOG_LEVELS as readonly string[]).includes(value)) globals.logLevel = value as LogLevel;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return { command: args[i + 1], index: i + 1, globals };
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0 && VALUE_OPTIONS.has(arg.slice(0, eq))) {
      set(arg.slice(0, eq), arg.slice(eq + 1));
      continue;
    }
    if (VALUE_OPTIONS.has(arg)) {
      set(arg, args[++i]);
      continue;
    }
    if (arg.startsWith("-")) continue;
    return { command: arg, index: i, globals };
  }
  return { index: args.length, globals };
}

/** One clear message on stderr, or `{"error": {...}}` on stdout with --json; returns the exit code. */
function reportError(io: CliIO, error: unknown, json: boolean): number {
  const code = exitCodeFor(error);
  if (error instanceof CommanderError) {
    // commander has printed it already (unless --json); help and --version end here with 0.
    if (json && code !== ExitCode.OK) {
      printJson(io.stdout, { error: { code: ErrorCodes.INVALID_ARGUMENT, message: error.message.replace(/^error: /u, "") } });
    }
    return code;
  }
  if (error instanceof Interrupted) {
    if (json) printJson(io.stdout, { error: { code: "TC_INTERRUPTED", message: error.message } });
    else io.stderr.write(`\n${error.message}\n`);
    return code;
  }
  if (isTmuxClaudeError(error)) {
    if (json) printJson(io.stdout, { error: { code: error.code, message: error.message, ...error.details } });
    // Error texts quote agents' screens and output (a failed spawn, an open breaker): terminal-safe.
    else io.stderr.write(`error: ${terminalText(error.message)}\n`);
    return code;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (json) printJson(io.stdout, { error: { code: "TC_UNEXPECTED", message } });
  else {
    io.stderr.write(`error: ${message}\n`);
    io.stderr.write(`This is a bug in tmux-claude; please report it with this trace:\n${error instanceof Error ? error.stack : ""}\n`);
  }
  return code;
}
