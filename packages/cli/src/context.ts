import { PLUGIN_NAME as CLAUDE_PLUGIN, withClaude } from "@tmux-claude/agent-claude";
import { PLUGIN_NAME as MCP_PLUGIN, withMcp } from "@tmux-claude/mcp";
import { PLUGIN_NAME as AUDIT_PLUGIN, withAudit } from "@tmux-claude/plugin-audit";
import { PLUGIN_NAME as KNOWLEDGE_PLUGIN, withKnowledge } from "@tmux-claude/plugin-knowledge";
import { PLUGIN_NAME as SUPERVISOR_PLUGIN, withSupervisor } from "@tmux-claude/plugin-supervisor";
import { PLUGIN_NAME as WORKFLOWS_PLUGIN, withWorkflows } from "@tmux-claude/plugin-workflows";
import { BUDGET_PLUGIN, PLUGIN_NAME as COST_PLUGIN, withCost } from "@tmux-claude/plugin-cost";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidArgumentError, type Command } from "commander";
import {
  configSchema,
  createLogger,
  defaultStateDir,
  ErrorCodes,
  Kernel,
  loadConfig,
  terminalText,
  TmuxClaudeError,
  type LoadedConfig,
  type Logger,
  type ResolvedConfig,
} from "@tmux-claude/core";
import { builtInOperation, recorded } from "./audit-trail.js";
import { Interrupted } from "./exit-codes.js";
import { printJson, withProgress, type OutStream } from "./output.js";

export type LogLevel = ResolvedConfig["logLevel"];
export const LOG_LEVELS: readonly LogLevel[] = configSchema.shape.logLevel.unwrap().options;

/** What the CLI talks to; `main` fills it from the process unless a test injects parts. */
export interface CliIO {
  stdout: OutStream;
  stderr: OutStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted with the signal name ("SIGINT", "SIGTERM") when the user interrupts. */
  signal: AbortSignal;
}

/** Options every command accepts (declared on the program). */
export interface GlobalOptions {
  config?: string;
  socket?: string;
  logLevel?: LogLevel;
}

export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export function usageError(message: string, details: Record<string, unknown> = {}): TmuxClaudeError {
  return new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, message, details);
}

/** One command invocation: its IO, its global options, and the way it reaches config and kernel. */
export class Cli {
  /** What the command produced, beyond its exit code, for the audit log: ids and states, never texts (the spawned id, a receipt's state). */
  auditResult: Record<string, unknown> = {};
  private loaded: Promise<LoadedConfig> | undefined;

  constructor(
    readonly io: CliIO,
    readonly globals: GlobalOptions,
  ) {}

  /** Text for people: made terminal-safe (terminalText), since much of it is what agents wrote; `json` keeps the data. */
  out(text: string): void {
    const safe = terminalText(text);
    this.io.stdout.write(safe.endsWith("\n") ? safe : `${safe}\n`);
  }

  err(text: string): void {
    const safe = terminalText(text);
    this.io.stderr.write(safe.endsWith("\n") ? safe : `${safe}\n`);
  }

  json(value: unknown): void {
    printJson(this.io.stdout, value);
  }

  /** Find and validate the config, with `--socket` applied and the CLI's plugins added (withCliPlugins). */
  loadConfig(command: string): Promise<LoadedConfig> {
    // Loaded once per command: the audit record after it uses the same config (and costs no second load).
    this.loaded ??= loadConfig({ cwd: this.io.cwd, configFile: this.globals.config, command, modules: shippedPlugins() }).then((loaded) => ({
      ...loaded,
      config: withCliPlugins(withSocket(loaded.config, this.globals.socket)),
    }));
    return this.loaded;
  }

  /**
   * One-shot commands log at "warn" so their output stays readable, unless
   * `--log-level` or a non-default `logLevel` in the config asks for more or less.
   */
  logger(config: ResolvedConfig, oneShot: boolean, destination?: { write(line: string): void }): Logger {
    const configured = oneShot && config.logLevel === "info" ? "warn" : config.logLevel;
    return createLogger(this.globals.logLevel ?? configured, destination);
  }

  /**
   * Start a kernel that attaches only to the instances it touches, run `fn`, close it.
   * Ctrl-C ends the wait at once, unless `fn` handles it itself (`ownsInterrupt`:
   * it watches `io.signal` and returns when it has wound down, as a workflow run records where it stopped).
   * `logs` takes the kernel's log lines (pino JSON) instead of stderr: a command drawing there shows them its way.
   */
  async withKernel<T>(command: string, fn: (kernel: Kernel) => Promise<T>, options: { ownsInterrupt?: boolean; logs?: { write(line: string): void } } = {}): Promise<T> {
    const { config, filepath } = await this.loadConfig(command);
    const starting = Kernel.start({ config, configPath: filepath, watch: "on-demand", logger: this.logger(config, true, options.logs) });
    const kernel = await this.interruptible(starting, () => void starting.then((late) => late.close()).catch(() => undefined));
    try {
      return await (options.ownsInterrupt ? fn(kernel) : this.interruptible(fn(kernel)));
    } finally {
      await kernel.close().catch((error: unknown) => kernel.logger.warn({ err: error }, "closing the kernel failed"));
    }
  }

  /** Read or reset the circuit breakers in the configured store, without tmux (Kernel.withBreakers). */
  async withBreakers<T>(command: string, fn: Parameters<typeof Kernel.withBreakers<T>>[1]): Promise<T> {
    const { config, filepath } = await this.loadConfig(command);
    return this.interruptible(Kernel.withBreakers({ config, configPath: filepath, watch: "on-demand", logger: this.logger(config, true) }, fn));
  }

  /** Resolve with `promise`, or throw Interrupted as soon as the user interrupts. */
  interruptible<T>(promise: Promise<T>, onAbandon?: () => void): Promise<T> {
    const { signal } = this.io;
    const interrupted = () => new Interrupted((signal.reason as NodeJS.Signals | undefined) ?? "SIGINT");
    if (signal.aborted) {
      void promise.catch(() => undefined);
      onAbandon?.();
      return Promise.reject(interrupted());
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        void promise.catch(() => undefined);
        onAbandon?.();
        reject(interrupted());
      };
      signal.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  /** Wait for `promise` with a spinner on a terminal; Ctrl-C ends the wait. */
  wait<T>(label: string, promise: Promise<T>): Promise<T> {
    return withProgress(this.io.stderr, label, this.interruptible(promise));
  }
}

/**
 * The plugins every CLI kernel has unless the config lists them itself: Claude
 * Code (the `claude` adapter and agent, the default agent), MCP (every
 * kernel mints the per-instance MCP credentials of what it spawns) and
 * workflows (`run`, and the `complete` tool every workflow task calls through `serve`)
 * and audit (every MCP call and CLI command in the node's audit log) and
 * cost (the `cost` command, the cost in `read` and `list`), knowledge
 * (shared notes and file claims per hierarchy, the `knowledge` command) and
 * supervisor (stalled instances flagged, blocked ones' parents told).
 */
export function withCliPlugins(config: ResolvedConfig): ResolvedConfig {
  return withSupervisor(withKnowledge(withAudit(withCost(withWorkflows(withMcp(withClaude(config)))))));
}

/**
 * The first-party plugins the CLI ships with, as a config may import them
 * (`import { git } from "@tmux-claude/plugin-git"`) in a repository that has
 * not installed them. A config only gets what it lists in `plugins`.
 */
export function shippedPlugins(): Record<string, string> {
  return {
    "@tmux-claude/plugin-git": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-git")),
    "@tmux-claude/plugin-dashboard": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-dashboard")),
    "@tmux-claude/plugin-redis": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-redis")),
    "@tmux-claude/plugin-workflows": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-workflows")),
    "@tmux-claude/plugin-notify": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-notify")),
    "@tmux-claude/plugin-cost": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-cost")),
    "@tmux-claude/plugin-knowledge": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-knowledge")),
    "@tmux-claude/plugin-supervisor": fileURLToPath(import.meta.resolve("@tmux-claude/plugin-supervisor")),
  };
}

/** The names of the plugins withCliPlugins adds. */
export const CLI_PLUGINS: ReadonlySet<string> = new Set([CLAUDE_PLUGIN, MCP_PLUGIN, WORKFLOWS_PLUGIN, COST_PLUGIN, BUDGET_PLUGIN, AUDIT_PLUGIN, KNOWLEDGE_PLUGIN, SUPERVISOR_PLUGIN]);

/** The commands those plugins contribute (the `commands` hook): only these names start a kernel to find them when the config adds no plugins. */
export const CLI_PLUGIN_COMMANDS: ReadonlySet<string> = new Set(["cost", "budget", "knowledge"]);

/** Where the kernel of this config keeps its state (the embedded store, journals, serve.json): for commands that need no kernel. */
export function stateDirOf(config: ResolvedConfig): string {
  return path.resolve(config.stateDir ?? defaultStateDir(config.tmux.socket));
}

/** Apply `--socket`, validated like `tmux.socket` in the config. */
export function withSocket(config: ResolvedConfig, socket: string | undefined): ResolvedConfig {
  if (socket === undefined) return config;
  const result = configSchema.shape.tmux.safeParse({ socket });
  if (!result.success) {
    const reason = result.error.issues.map((issue) => issue.message).join("; ");
    throw usageError(`--socket "${socket}" is not a valid tmux socket name: expected ${reason}. Use e.g. --socket my-project.`, { socket });
  }
  return { ...config, tmux: { ...config.tmux, socket } };
}

/** Read a stream to its end, as text, byte for byte. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** Turn a number-returning action into one commander can run; the number is the exit code. */
export type ActionFactory = <A extends unknown[]>(fn: (cli: Cli, ...args: A) => Promise<number>) => (...args: unknown[]) => Promise<void>;

export function makeActionFactory(io: CliIO, setExitCode: (code: number) => void): ActionFactory {
  return <A extends unknown[]>(fn: (cli: Cli, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const cli = new Cli(io, command.optsWithGlobals<GlobalOptions>());
      // commander passes the positional arguments, then the options, then the command.
      const operation = builtInOperation(command, args.slice(0, command.registeredArguments.length));
      setExitCode(await recorded(cli, operation, () => fn(cli, ...(args.slice(0, -1) as A))));
    };
}

/**
 * Commander argument parser that refuses an empty value: `--workdir ""` (an
 * unset shell variable) must not quietly mean the default.
 */
export function nonEmpty(flag: string, what: string, fix: string): (value: string) => string {
  return (value: string) => {
    if (value.trim() === "") throw new InvalidArgumentError(`${flag} needs ${what}, got ${JSON.stringify(value)}. ${fix}`);
    return value;
  };
}

/** Commander argument parser for a positive integer (milliseconds, line counts). */
export function positiveInt(what: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/u.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`expected ${what} as a positive integer.`);
    }
    return n;
  };
}
