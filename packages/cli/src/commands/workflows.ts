/** `tmux-claude runs`, `replay` and `templates`: the workflow runs there were, one run's timeline, the shipped templates. */
import type { Command } from "commander";
import { analyzeJournal, formatDuration, formatReplay, listTemplates, runnerAlive, type PersistedRun } from "@tmux-claude/plugin-workflows";
import type { ActionFactory, Cli } from "../context.js";
import { formatAge, table } from "../output.js";
import { journalOf, workflowsApi } from "./run.js";

export function registerWorkflowCommands(program: Command, action: ActionFactory): void {
  program
    .command("runs")
    .description("List workflow runs, newest first: id, workflow, state, when, how long, steps done, where a failed run failed.")
    .option("--json", "print the runs as a JSON array")
    .action(action(runs));
  program
    .command("replay")
    .description("Print a run's timeline from its journal: who did what when, each step's time and tokens, where it failed, the critical path.")
    .argument("<run>", "a run id (tmux-claude runs lists them) or a journal file (.jsonl)")
    .option("--json", "print the analysis (timeline, steps, critical path, tokens) as JSON")
    .action(action(replay));
  program
    .command("templates")
    .description("List the workflow templates shipped with tmux-claude (tmux-claude run --template <name>).")
    .option("--json", "print the templates as a JSON array")
    .action(action(templates));
}

async function runs(cli: Cli, flags: { json?: boolean }): Promise<number> {
  return cli.withKernel("runs", async (kernel) => {
    // Newest first, as list_runs and the dashboard list them.
    const all = (await workflowsApi(kernel).runs()).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    if (flags.json) cli.json(all);
    else if (all.length === 0) cli.out("No workflow runs yet: tmux-claude run <file.yaml>, or --template <name> (tmux-claude templates).");
    else cli.out(formatRuns(all, Date.now(), await stoppedRuns(all)));
    return 0;
  });
}

/** `stopped`: the runs still marked running whose runner is gone (stoppedRuns). */
export function formatRuns(all: readonly PersistedRun[], now = Date.now(), stopped: ReadonlySet<string> = new Set()): string {
  const rows = all.map((run) => {
    const steps = Object.values(run.steps);
    const took = run.endedAt === undefined ? "-" : formatDuration(Date.parse(run.endedAt) - Date.parse(run.startedAt));
    return [
      run.id,
      run.workflow.name,
      stopped.has(run.id) ? "stopped (resume it)" : run.state,
      `${formatAge(run.startedAt, now)} ago`,
      took,
      `${steps.filter((step) => step.state === "succeeded").length}/${run.workflow.steps.length}`,
      run.failure ? `${run.failure.step}: ${run.failure.reason}` : "",
    ];
  });
  return table(["RUN", "WORKFLOW", "STATE", "STARTED", "TOOK", "STEPS", "FAILED AT"], rows);
}

/** The runs still marked running whose runner is gone (the engine's own check): cut off, they wait for --resume. */
export async function stoppedRuns(all: readonly PersistedRun[]): Promise<Set<string>> {
  const cut = await Promise.all(all.map(async (run) => run.state === "running" && !(await runnerAlive(run))));
  return new Set(all.filter((_, i) => cut[i]).map((run) => run.id));
}

async function replay(cli: Cli, run: string, flags: { json?: boolean }): Promise<number> {
  const { config } = await cli.loadConfig("replay");
  const report = analyzeJournal(await journalOf(cli, config, run));
  if (flags.json) cli.json(report);
  else cli.out(formatReplay(report));
  return 0;
}

async function templates(cli: Cli, flags: { json?: boolean }): Promise<number> {
  const all = listTemplates();
  if (flags.json) cli.json(all);
  else {
    const rows = all.map((t) => [t.name, t.vars.map((v) => (v.required ? `${v.name} (required)` : v.name)).join(", ") || "-", t.description]);
    cli.out(`${table(["TEMPLATE", "VARS", "DESCRIPTION"], rows)}\n\nRun one: tmux-claude run --template <name> --var goal="..."; --dry-run shows what it would do.`);
  }
  return 0;
}
