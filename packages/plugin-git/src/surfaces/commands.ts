/**
 * `tmux-claude git <sub>`: one CLI command contributed through the kernel's
 * `commands` hook, dispatching to subcommands that each part of the plugin
 * registers from its own file.
 *
 * How a part adds a subcommand (merge, queue, stats, ...):
 *
 * ```ts
 * // src/surfaces/merge-command.ts
 * import type { GitSubcommand } from "./commands.js";
 * export function mergeSubcommand(part: MergePart): GitSubcommand {
 *   return {
 *     name: "merge",
 *     usage: "merge <id> [--into <branch>] [--strategy merge|squash|rebase] [--dry-run] [--json]",
 *     summary: "merge an instance's branch into its parent's",
 *     options: { into: { type: "string" }, strategy: { type: "string" }, "dry-run": { type: "boolean" } },
 *     positionals: { min: 1, max: 1, names: ["id"] },
 *     async run({ positionals, flags, kernel, out }) {
 *       const result = await part.merge(positionals[0]!, { into: flags.into as string | undefined });
 *       out.result(result, () => `Merged ${result.branch} into ${result.into}.`);
 *       return result.merged ? 0 : 1;
 *     },
 *   };
 * }
 * // in the part's install function: runtime.commands.register(mergeSubcommand(part));
 * ```
 *
 * - `options` is node's `util.parseArgs` option config; `--json` and `--help`
 *   are added to every subcommand, so do not declare them.
 * - `run` returns the exit code (0 ok, 1 a failure the output explains).
 *   Bad input throws a `TmuxClaudeError`: the CLI prints it (as JSON with
 *   `--json`) and exits by its kind (usage 2, not found 3, failure 1).
 * - Print only through `out`: `out.result(value, text)` prints `value` as
 *   JSON with `--json`, otherwise the text; `out.note` goes to stderr.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ErrorCodes, TmuxClaudeError, type CommandContribution, type CommandInvocation, type KernelApi, type PluginHooks } from "@tmux-claude/core";

export type GitFlagValue = string | boolean | string[] | boolean[] | undefined;

/** Where a subcommand prints; tests pass their own streams. */
export interface CommandOutput {
  /** `--json` was given. */
  readonly json: boolean;
  /** The command's answer: `value` as JSON with --json, otherwise `text()` (lines without a final newline). */
  result(value: unknown, text: () => string): void;
  /** A remark for people (stderr), never part of the answer. */
  note(text: string): void;
}

export interface SubcommandInput {
  readonly positionals: readonly string[];
  readonly flags: Readonly<Record<string, GitFlagValue>>;
  readonly kernel: KernelApi;
  readonly out: CommandOutput;
}

export interface GitSubcommand {
  /** The word after `git`: `status`, `gc`, `merge`. */
  readonly name: string;
  /** Its synopsis without the `tmux-claude git` prefix: `gc [--dry-run] [--force] [--json]`. */
  readonly usage: string;
  /** One line for `tmux-claude git --help`. */
  readonly summary: string;
  /** `util.parseArgs` options (`--json` and `--help` are added). */
  readonly options?: ParseArgsConfig["options"];
  /** How many positional arguments it takes, and their names for the usage error. */
  readonly positionals?: { readonly min: number; readonly max: number; readonly names: readonly string[] };
  run(input: SubcommandInput): Promise<number>;
}

export interface OutputStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** The subcommands of `tmux-claude git`, registered by each part during the plugin's apply. */
export class GitCommands {
  private readonly subcommands = new Map<string, GitSubcommand>();

  constructor(private readonly streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }) {}

  register(subcommand: GitSubcommand): void {
    if (this.subcommands.has(subcommand.name)) {
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_INVALID,
        `Plugin "git" registers the subcommand "git ${subcommand.name}" twice. Register each subcommand once, from the part that owns it.`,
        { plugin: "git", subcommand: subcommand.name },
      );
    }
    this.subcommands.set(subcommand.name, subcommand);
  }

  names(): string[] {
    return [...this.subcommands.keys()].sort();
  }

  /** The `git` command as the kernel's `commands` hook takes it. */
  contribution(): CommandContribution {
    return {
      name: "git",
      description: "git worktrees, merges and garbage collection of tmux-claude instances; `git --help` lists the subcommands",
      run: (argv, kernel) => this.dispatch(argv, kernel),
      invocation: (argv) => this.invocation(argv),
    };
  }

  /** For the audit log: a registered subcommand, and its instance when it takes ids (`names[0]` is "id") and got exactly one, parsed by its own options. */
  invocation(argv: readonly string[]): CommandInvocation {
    const [name, ...rest] = argv;
    const subcommand = name === undefined ? undefined : this.subcommands.get(name);
    if (!subcommand) return {};
    let positionals: string[];
    try {
      positionals = parseSubcommandArgs(subcommand, rest).positionals;
    } catch {
      // Arguments its options do not parse: any word may be a value or a text, so none is the target.
      return { subcommand: subcommand.name };
    }
    const takesIds = subcommand.positionals?.names[0] === "id";
    return { subcommand: subcommand.name, ...(takesIds && positionals.length === 1 ? { target: positionals[0]! } : {}) };
  }

  async dispatch(argv: readonly string[], kernel: KernelApi): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      this.streams.stdout.write(`${this.help()}\n`);
      return name === undefined ? 2 : 0;
    }
    const subcommand = this.subcommands.get(name);
    if (!subcommand) {
      throw new TmuxClaudeError(
        ErrorCodes.INVALID_ARGUMENT,
        `"tmux-claude git ${name}" is not a git subcommand. Subcommands: ${this.names().join(", ")}. See tmux-claude git --help.`,
        { subcommand: name, subcommands: this.names() },
      );
    }
    const parsed = parseSubcommandArgs(subcommand, rest);
    if (parsed.flags.help) {
      this.streams.stdout.write(`Usage: tmux-claude git ${subcommand.usage}\n\n${subcommand.summary}\n`);
      return 0;
    }
    const out = commandOutput(parsed.flags.json === true, this.streams);
    return subcommand.run({ ...parsed, kernel, out });
  }

  help(): string {
    const lines = [...this.subcommands.values()].sort((a, b) => a.name.localeCompare(b.name)).map((s) => `  ${s.usage.padEnd(58)} ${s.summary}`);
    return `Usage: tmux-claude git <subcommand> [options]\n\nSubcommands:\n${lines.join("\n")}\n\nEvery subcommand takes --json (machine-readable output) and --help.`;
  }
}

function parseSubcommandArgs(subcommand: GitSubcommand, args: readonly string[]): { positionals: string[]; flags: Record<string, GitFlagValue> } {
  let parsed: { values: Record<string, GitFlagValue>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...subcommand.options, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    // node's words, in this CLI's style: double quotes, one line, no period before ours.
    const reason = (error instanceof Error ? error.message : String(error)).replace(/'/gu, '"').replace(/\s*\n\s*/gu, " ").replace(/\.\s*$/u, "");
    throw usage(subcommand, reason, { args: [...args] });
  }
  // --help answers whatever else is missing: `git diff --help` shows the usage, not a usage error.
  if (parsed.values.help) return { positionals: parsed.positionals, flags: parsed.values };
  const { min, max, names } = subcommand.positionals ?? { min: 0, max: 0, names: [] };
  const count = parsed.positionals.length;
  if (count < min) throw usage(subcommand, `missing ${names.slice(count, min).map((n) => `<${n}>`).join(" ")}`, { args: [...args] });
  if (count > max) throw usage(subcommand, `unexpected argument "${parsed.positionals[max]}"`, { args: [...args] });
  return { positionals: parsed.positionals, flags: parsed.values };
}

function usage(subcommand: GitSubcommand, problem: string, details: Record<string, unknown>): TmuxClaudeError {
  return new TmuxClaudeError(
    ErrorCodes.INVALID_ARGUMENT,
    `tmux-claude git ${subcommand.name}: ${problem}. Usage: tmux-claude git ${subcommand.usage}`,
    { subcommand: subcommand.name, ...details },
  );
}

function commandOutput(json: boolean, streams: OutputStreams): CommandOutput {
  return {
    json,
    result(value, text) {
      streams.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
    },
    note(text) {
      streams.stderr.write(`${text}\n`);
    },
  };
}

/** Contribute `tmux-claude git` to the kernel; the registry is read when the CLI asks, so parts may register after this. */
export function installGitCommands(ctx: { hooks: PluginHooks }, commands: GitCommands = new GitCommands()): GitCommands {
  ctx.hooks.commands.tapPromise(async (list) => [...list, commands.contribution()]);
  return commands;
}
