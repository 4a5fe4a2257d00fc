import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { nonEmpty, readAll, usageError, type ActionFactory, type Cli } from "../context.js";

interface SpawnFlags {
  role?: string;
  promptFile?: string;
  context?: string;
  parent?: string;
  name?: string;
  agent?: string;
  workdir?: string;
  node?: string;
  plugin: Record<string, Record<string, unknown>>;
  budgetUsd?: number;
  budgetTokens?: number;
  budgetAction?: "pause" | "stop" | "notify";
  reuse?: "idle";
  json?: boolean;
}

export function registerSpawn(program: Command, action: ActionFactory): void {
  program
    .command("spawn")
    .description("Start an agent instance and wait until it is ready for input; prints its id.")
    .argument("[role]", "role from the config (default roles: executive, manager, specialist); or give it with --role")
    .argument("[prompt...]", "first prompt, sent once the agent is ready (words are joined with spaces)")
    .option("--role <role>", "the role, as an option instead of the first argument (then every argument is prompt)")
    .option("--prompt-file <file>", "read the first prompt from a file ('-' reads stdin)", nonEmpty("--prompt-file", "a file", "Pass the prompt's file, or '-' to read stdin."))
    .option("--context <text>", "background sent before the prompt in the same first message (without a prompt, it is the first message)")
    .option("--parent <id>", "parent instance; its role must be allowed to spawn <role>", nonEmpty("--parent", "an instance id", "Pass the parent's id (tmux-claude list shows them), or leave --parent out for a top-level instance."))
    .option("--name <name>", "a name for people to recognise the instance by")
    .option("--agent <agent>", "agent from the config (default: defaultAgent)", nonEmpty("--agent", "an agent name", "Pass an agent from the config, or leave --agent out for defaultAgent."))
    .option("--workdir <dir>", "directory the agent works in (default: its parent's with --parent, else the current directory)", nonEmpty("--workdir", "a directory", "Pass the directory the agent works in, or leave --workdir out for the default."))
    .option("--node <id>", "the node to spawn on (tmux-claude nodes lists them; default: node.placement in the config, which is this node unless least-loaded)", nonEmpty("--node", "a node id", "Pass a node id (tmux-claude nodes lists them), or leave --node out to let node.placement choose."))
    .option("--plugin <name.key=value>", "an option for a plugin (repeatable), e.g. --plugin git.isolation=shared; a JSON value is parsed", pluginOption, {})
    .option("--budget-usd <dollars>", "budget of its subtree (it and what it spawns) in US dollars", budgetAmount("--budget-usd", false))
    .option("--budget-tokens <count>", "budget of its subtree in tokens (every kind summed)", budgetAmount("--budget-tokens", true))
    .addOption(new Option("--budget-action <action>", "what happens when the budget is crossed (default: limits.budget.action)").choices(["pause", "stop", "notify"]))
    .addOption(new Option("--reuse <which>", "reuse an idle instance of the role under the same parent (its conversation reset, /clear for Claude Code) instead of starting one; spawns anew when none fits").choices(["idle"]))
    .option("--json", "print the instance record as JSON (with source: cold, pool or reuse)")
    .addHelpText(
      "after",
      '\nExamples:\n  tmux-claude spawn executive Plan the release\n  tmux-claude spawn manager --parent exec-1 --prompt-file task.md\n  tmux-claude spawn --role manager --parent exec-1 --context "Build feature X"',
    )
    .action(action(spawn));
}

async function spawn(cli: Cli, first: string | undefined, rest: string[], flags: SpawnFlags): Promise<number> {
  const { role, words } = await roleAndWords(cli, first, rest, flags.role);
  const prompt = await promptFrom(cli, words, flags.promptFile);
  const requested = flags.workdir === undefined ? undefined : path.resolve(cli.io.cwd, flags.workdir);
  return cli.withKernel("spawn", async (kernel) => {
    // A child works inside its parent's workDir (unless its role allows otherwise): that is where it starts by default.
    const workDir = requested ?? (flags.parent ? (await kernel.get(flags.parent)).workDir : cli.io.cwd);
    const { instance, receipt, source } = await cli.wait(
      `spawning ${role}...`,
      kernel.spawn({ role, workDir, prompt, context: flags.context, parentId: flags.parent ?? null, name: flags.name, agent: flags.agent, node: flags.node, plugins: flags.plugin, reuse: flags.reuse, ...budgetOf(flags) }),
    );
    cli.auditResult = { id: instance.id, status: instance.status, source, ...(receipt ? { state: receipt.state } : {}) };
    if (flags.json) cli.json(receipt ? { ...instance, receipt, source } : { ...instance, source });
    else cli.out(instance.id);
    return 0;
  });
}

/** `--budget-usd 5`, `--budget-tokens 200000`: a number 0 or more (tokens whole), or an error naming the value. */
function budgetAmount(flag: string, whole: boolean): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${flag} needs ${whole ? "a whole number of tokens" : "a number of US dollars"}, 0 or more; got ${JSON.stringify(value)}.`);
    }
    return n;
  };
}

function budgetOf(flags: SpawnFlags): { budget?: { usd?: number; tokens?: number; action?: SpawnFlags["budgetAction"] } } {
  if (flags.budgetUsd === undefined && flags.budgetTokens === undefined) {
    if (flags.budgetAction !== undefined) throw usageError("--budget-action needs --budget-usd and/or --budget-tokens: the budget it acts on.");
    return {};
  }
  return { budget: { usd: flags.budgetUsd, tokens: flags.budgetTokens, action: flags.budgetAction } };
}

/** `--plugin git.isolation=shared`: one key of one plugin's options; `true`, `3`, `["a"]` are JSON. */
export function pluginOption(value: string, options: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const match = /^([^.=\s]+)\.([^=\s]+)=(.*)$/su.exec(value);
  if (!match) {
    throw usageError(`--plugin takes <plugin>.<key>=<value>, e.g. --plugin git.isolation=shared (got "${value}").`, { value });
  }
  const [, plugin, key, raw] = match as unknown as [string, string, string, string];
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not JSON: the value is the text as typed.
  }
  return { ...options, [plugin]: { ...options[plugin], [key]: parsed } };
}

/**
 * `spawn <role> [prompt...]` or `spawn --role <role> [prompt...]` (the seed's form): with
 * --role every argument is prompt, unless the first one names a role too, which is ambiguous.
 */
async function roleAndWords(cli: Cli, first: string | undefined, rest: string[], option: string | undefined): Promise<{ role: string; words: string[] }> {
  if (option === undefined) {
    if (first === undefined) {
      throw usageError('spawn needs a role: tmux-claude spawn <role> [prompt...] or tmux-claude spawn --role <role> [prompt...] (default roles: executive, manager, specialist).');
    }
    return { role: first, words: rest };
  }
  if (first !== undefined) {
    const { config } = await cli.loadConfig("spawn");
    if (Object.hasOwn(config.roles, first)) {
      throw usageError(
        `Give the role once: as an argument or with --role, not both (got "${first}" and --role ${option}). If "${first}" starts the prompt, quote the whole prompt or use --prompt-file.`,
        { role: option, argument: first },
      );
    }
  }
  return { role: option, words: first === undefined ? rest : [first, ...rest] };
}

async function promptFrom(cli: Cli, words: string[], promptFile: string | undefined): Promise<string | undefined> {
  if (promptFile === undefined) return words.length > 0 ? words.join(" ") : undefined;
  if (words.length > 0) {
    throw usageError(`Give the prompt either as arguments or with --prompt-file, not both (got "${words.join(" ")}" and --prompt-file ${promptFile}).`);
  }
  if (promptFile === "-") return readAll(cli.io.stdin);
  const file = path.resolve(cli.io.cwd, promptFile);
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : (error as Error).message;
    throw usageError(`Cannot read --prompt-file ${file}: ${reason}. Pass an existing file, or '-' to read the prompt from stdin.`, { file });
  }
}
