/**
 * `tmux-claude run`: a workflow from a file, a template, or an earlier run's
 * journal (`--from`), or the rest of an interrupted run (`--resume`). The
 * file is read and checked against the config before any kernel starts, so
 * bad input is exit 2 with nothing started; `--dry-run` stops there and
 * prints the plan.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { isTmuxClaudeError, withDefaultAgents, withDefaultRoles, type KernelApi, type ResolvedConfig } from "@tmux-claude/core";
import {
  createProgress,
  formatPlan,
  JournalReader,
  journalDir,
  loadTemplate,
  parseVarArgument,
  parseWorkflow,
  planWorkflow,
  progressMode,
  RunErrors,
  runInputs,
  type JournalEvent,
  type RunResult,
  type Workflow,
  type WorkflowsApi,
} from "@tmux-claude/plugin-workflows";
import { formatLogLine } from "../log-line.js";
import { nonEmpty, stateDirOf, usageError, type ActionFactory, type Cli } from "../context.js";
import { Interrupted } from "../exit-codes.js";

interface RunOptions {
  var?: Record<string, string>;
  template?: string;
  dryRun?: boolean;
  json?: boolean;
  /** true: --keep; false: --no-keep; undefined: neither (a new run: false; --resume: the run's own). */
  keep?: boolean;
  resume?: string;
  from?: string;
  workdir?: string;
}

/** The options with --var's default filled in. */
type RunFlags = RunOptions & { var: Record<string, string> };

export function registerRun(program: Command, action: ActionFactory): void {
  program
    .command("run")
    .description("Run a workflow (YAML: spawn, send, wait, merge and run steps) with live progress; every run keeps a journal for replay.")
    .argument("[file]", "the workflow file (YAML); or use --template, --from or --resume")
    .option("--var <name=value>", "set a variable the workflow declares (repeatable)", varOption)
    .option("--template <name>", "run a shipped template instead of a file (tmux-claude templates lists them)", nonEmpty("--template", "a template name", "Pass a name from tmux-claude templates."))
    .option("--dry-run", "check the workflow against the config and print what would run, in what order, under which parent; start nothing")
    .option("--json", "print every journal event as one JSON line on stdout (instead of the progress view)")
    .option("--keep", "leave the run's instances running when it fails (default: terminate what it spawned; --resume: as the run was started)")
    .option("--no-keep", "with --resume: terminate the run's instances when it fails, though it was started with --keep")
    .option("--resume <run>", "continue an interrupted run: re-attach to its live instances, never repeat a step that succeeded", nonEmpty("--resume", "a run id", "Pass a run id from tmux-claude runs."))
    .option("--from <run>", "run again from an earlier run's journal inputs (its workflow and variables; --var overrides)", nonEmpty("--from", "a run id or journal file", "Pass a run id from tmux-claude runs, or a .jsonl journal."))
    .option("--workdir <dir>", "directory the run's instances work in (default: the current directory)", nonEmpty("--workdir", "a directory", "Pass a directory, or leave --workdir out for the current one."))
    .addHelpText(
      "after",
      [
        "",
        "Progress goes to stderr (a live list on a terminal, one line per event otherwise);",
        "the result goes to stdout. Exit: 0 the run succeeded; 1 it failed (the step and the",
        "reason are printed); 2 the workflow or an option is invalid (nothing was started);",
        "130 interrupted (continue it: tmux-claude run --resume <run>).",
        "",
        "Examples:",
        "  tmux-claude run feature.yaml",
        '  tmux-claude run --template api-service --var goal="A REST API for bookmarks" --dry-run',
        "  tmux-claude run --resume feature-development-20261205-070000-a1b2",
        "  tmux-claude run --from feature-development-20261205-070000-a1b2 --var goal=again",
      ].join("\n"),
    )
    .action(action(run));
}

function varOption(value: string, vars: Record<string, string> | undefined): Record<string, string> {
  const parsed = parseVarArgument(value);
  if (!parsed || parsed.name === "") throw new InvalidArgumentError(`expected name=value (e.g. --var goal="Add a cart"), got "${value}".`);
  return { ...vars, [parsed.name]: parsed.value };
}

async function run(cli: Cli, file: string | undefined, options: RunOptions): Promise<number> {
  // No commander default: it would show "(default: {})" in --help.
  const flags: RunFlags = { ...options, var: options.var ?? {} };
  const sources = [file === undefined ? undefined : `a file (${file})`, flags.template && "--template", flags.from && "--from", flags.resume && "--resume"].filter(Boolean);
  if (sources.length !== 1) {
    throw usageError(
      sources.length === 0
        ? "tmux-claude run needs a workflow: a file (tmux-claude run feature.yaml), --template <name>, --from <run> or --resume <run>. tmux-claude templates lists the templates."
        : `tmux-claude run takes one workflow, got ${sources.join(" and ")}. Give only one of them.`,
    );
  }
  // Before anything reads, plans or starts: a run (or its dry run) in a directory that is not there fails at once, not at its first step.
  if (flags.workdir !== undefined) await assertWorkdir(cli, flags.workdir);
  const loaded = await cli.loadConfig("run");
  if (flags.resume !== undefined) {
    if (flags.dryRun || Object.keys(flags.var).length > 0) throw usageError("--resume continues a run with its own workflow and variables; --dry-run and --var do not apply. Leave them out, or start a new run with --from.");
    return execute(cli, { resume: flags.resume }, flags);
  }
  const { workflow, vars } = await readWorkflow(cli, loaded.config, file, flags);
  // Checked here, before any kernel (or tmux server) starts: bad input is exit 2 with nothing started.
  const config = loaded.config;
  const plan = planWorkflow(workflow, withDefaultRoles(withDefaultAgents(config)), vars, undefined, config.plugins.map((plugin) => plugin.name));
  if (flags.dryRun) {
    if (flags.json) cli.json(plan);
    else cli.out(formatPlan(plan));
    return 0;
  }
  // The run's first progress lines (stderr, also with --json): a task that can never complete is said before it hangs.
  for (const warning of plan.warnings) cli.err(`warning: ${warning}`);
  return execute(cli, { workflow, vars: plan.vars }, flags);
}

async function assertWorkdir(cli: Cli, dir: string): Promise<void> {
  const info = await stat(path.resolve(cli.io.cwd, dir)).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw usageError(`--workdir ${dir}: ${info ? "not a directory" : "no such directory"}. Pass the directory the run's instances should work in (it must exist), or leave --workdir out for the current one. Nothing was started.`, { workdir: dir });
  }
}

/** The workflow and the variables given, from the file, the template or the earlier run's journal. */
async function readWorkflow(cli: Cli, config: ResolvedConfig, file: string | undefined, flags: RunFlags): Promise<{ workflow: Workflow; vars: Record<string, string> }> {
  if (flags.template !== undefined) return { workflow: loadTemplate(flags.template), vars: flags.var };
  if (flags.from !== undefined) {
    const inputs = runInputs(await journalOf(cli, config, flags.from), `The journal of run "${flags.from}"`);
    return { workflow: inputs.workflow, vars: { ...inputs.vars, ...flags.var } };
  }
  const where = path.resolve(cli.io.cwd, file!);
  const text = await readFile(where, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw usageError(`Cannot read the workflow file ${file}: ${error.code === "ENOENT" ? "no such file" : error.message}. Give the path of a YAML workflow, or --template <name> (tmux-claude templates lists them).`, { file });
  });
  return { workflow: parseWorkflow(text, file!), vars: flags.var };
}

/**
 * A run's journal: a .jsonl file, or a run id. A run's journal is read from
 * this config's state dir without starting a kernel (no tmux server for a
 * replay); only when it is not there (a `journalDir` in the plugin's options)
 * does the plugin, which knows where the run wrote it, look it up.
 */
export async function journalOf(cli: Cli, config: ResolvedConfig, run: string): Promise<JournalEvent[]> {
  if (/\.ya?ml$/u.test(run)) {
    throw usageError(`${run} is a workflow file, not a run: give a run id (tmux-claude runs lists them, with the workflow each ran) or a run's .jsonl journal. To run the workflow: tmux-claude run ${run}`, { run });
  }
  if (run.endsWith(".jsonl") || run.includes("/")) return new JournalReader(path.resolve(cli.io.cwd, run)).events();
  try {
    return await JournalReader.forRun(journalDir(stateDirOf(config)), run).events();
  } catch (error) {
    if (!isTmuxClaudeError(error) || error.code !== RunErrors.NOT_FOUND) throw error;
    return cli.withKernel("replay", (kernel) => workflowsApi(kernel).journal(run));
  }
}

export function workflowsApi(kernel: KernelApi): WorkflowsApi {
  const api = kernel.plugin<WorkflowsApi>("workflows");
  if (!api) throw usageError("The workflows plugin is not loaded, so there are no workflow runs here. The CLI adds it to every config; a config that lists plugins itself must not drop it.");
  return api;
}

/** Run or resume it with progress on stderr (or JSON lines on stdout); the exit code says how it ended. */
async function execute(cli: Cli, request: { workflow?: Workflow; vars?: Record<string, string>; resume?: string }, flags: RunFlags): Promise<number> {
  const progress = flags.json ? createProgress(cli.io.stdout, "json") : createProgress(cli.io.stderr, progressMode(cli.io.stderr, false));
  let result: RunResult;
  let kept = flags.keep === true;
  /** Instances of the run still running when it ended (succeeded or interrupted): the result line names them. */
  let live = 0;
  try {
    result = await cli.withKernel(
      "run",
      async (kernel) => {
        const api = workflowsApi(kernel);
        // The live list of a resumed run starts from what its journal holds: steps that succeeded before show so (none is run again).
        if (request.resume !== undefined) progress.earlier(await api.journal(request.resume).catch(() => []));
        if (request.resume !== undefined) kept = flags.keep ?? (await keptByRun(cli, api, request.resume));
        const ended = await api.run({
          ...request,
          workDir: flags.workdir === undefined ? cli.io.cwd : path.resolve(cli.io.cwd, flags.workdir),
          caller: null,
          // On resume: as the run was started unless --keep / --no-keep says otherwise.
          keep: request.resume !== undefined ? flags.keep : kept,
          signal: cli.io.signal,
          onEvent: (event) => progress.event(event),
        });
        if (ended.state !== "failed") live = await liveInstances(kernel, api, ended.id);
        return ended;
      },
      // The engine winds down on Ctrl-C (the run is recorded as interrupted, its instances live on for --resume).
      // Logs share stderr with the progress: as its lines (raw JSON written between two frames broke the live list); with --json, stderr is theirs.
      { ownsInterrupt: true, ...(flags.json ? {} : { logs: { write: (line: string) => progress.log(formatLogLine(line)) } }) },
    );
  } finally {
    progress.close();
  }
  const replay = `tmux-claude replay ${result.id}`;
  if (result.state === "succeeded") {
    // A run that succeeds leaves its instances running: said, as an interrupted run's line does, with how to end them.
    const instances = live === 0 ? "." : `; ${live === 1 ? "its instance is" : `its ${live} instances are`} still running (tmux-claude list shows them; terminate --cascade ends them).`;
    if (!flags.json) cli.out(`Run ${result.id} succeeded${instances} Timeline: ${replay}`);
    return 0;
  }
  if (result.state === "interrupted") {
    // The result line, on stdout like a success's; the exit code (130) says it did not finish.
    const instances = live === 0 ? "" : live === 1 ? " its instance is still running;" : ` its ${live} instances are still running;`;
    if (!flags.json) cli.out(`Run ${result.id} was interrupted;${instances} continue it: tmux-claude run --resume ${result.id}`);
    return new Interrupted((cli.io.signal.reason as NodeJS.Signals | undefined) ?? "SIGINT").exitCode;
  }
  if (!flags.json) {
    // The reason may end its own sentence: one period, not two.
    const why = result.failure ? ` at step "${result.failure.step}": ${result.failure.reason.replace(/\.+$/u, "")}` : "";
    cli.err(`error: run ${result.id} failed${why}. ${kept ? "Its instances were kept (--keep). " : ""}Timeline: ${replay}`);
  }
  return 1;
}

/** A resumed run's own keep (from its start), said before it goes on, so that a failure leaving instances running is no surprise. */
async function keptByRun(cli: Cli, api: WorkflowsApi, id: string): Promise<boolean> {
  const kept = (await api.runs()).find((run) => run.id === id)?.keep ?? false;
  if (kept) cli.err(`Run ${id} was started with --keep: its instances are kept if it fails, as at its start (resume with --no-keep to end them then).`);
  return kept;
}

/** How many of a run's instances still live (an interrupted run's: --resume re-attaches to them). */
async function liveInstances(kernel: KernelApi, api: WorkflowsApi, id: string): Promise<number> {
  const run = (await api.runs()).find((r) => r.id === id);
  const ids = [...new Set((run?.tasks ?? []).flatMap((task) => (task.instanceId ? [task.instanceId] : [])))];
  const records = await Promise.all(ids.map((instance) => kernel.get(instance).catch(() => undefined)));
  return records.filter((record) => record !== undefined && record.status !== "exited").length;
}
