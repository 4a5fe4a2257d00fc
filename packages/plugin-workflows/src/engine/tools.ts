// The MCP side: `run_workflow` (an executive runs a workflow from YAML text,
// a template or an earlier run's inputs, or resumes one of its runs; its
// top-level spawns become the caller's children; answers with the run id at
// once), `run_status` (how a run stands) and `list_runs` (the runs the caller
// or its subtree started). Runs started here run in this process (serve);
// closing the kernel interrupts them, so a resume continues them.
import path from "node:path";
import { assertDirectory, assertWorkDirAllowed, TmuxClaudeError, type KernelApi, type PluginContext, type ToolContribution } from "@tmux-claude/core";
import { z } from "zod";
import { loadTemplate, parseWorkflow, planWorkflow, resolveParents, ROOT_CALLER } from "../dsl/index.js";
import type { PersistedRun, RunRequest, Workflow } from "../types.js";
import { RunErrors } from "./errors.js";
import { JournalReader, runInputs, runnerAlive, startRun, type EngineDeps } from "./index.js";
import { taskFailure } from "./tasks.js";

type Caller = Parameters<ToolContribution["handler"]>[1];

const runWorkflowInput = z
  .object({
    yaml: z.string().min(1).optional().describe("The workflow as YAML text (workflow:, steps:, ...). Give one of yaml, template, from or resume."),
    template: z.string().min(1).optional().describe("A shipped template's name (web-app, api-service, data-pipeline)."),
    from: z.string().min(1).optional().describe("A run id (list_runs): start a new run from that run's inputs, its workflow and variables (vars override them)."),
    resume: z
      .string()
      .min(1)
      .optional()
      .describe("A run id (list_runs): continue that run where it stopped (interrupted, its runner gone, or failed): live instances are re-attached, steps that succeeded are not repeated. It keeps its own vars and workDir, and its keep unless you give keep."),
    vars: z.record(z.string(), z.string()).optional().describe('Values of the workflow\'s variables, e.g. {"goal": "Add a cart"}.'),
    keep: z.boolean().optional().describe("Leave the run's instances running when it fails (default: they are terminated; with resume: as the run was started)."),
    workDir: z
      .string()
      .min(1)
      .optional()
      .describe("Directory the run's top-level instances (your children) work in: absolute, or relative to yours. Default: yours. It must lie inside yours unless their role allows otherwise."),
  })
  .strict();

const runStatusInput = z.object({ run: z.string().min(1).describe("The run id run_workflow returned.") }).strict();
const listRunsInput = z.object({}).strict();

const SOURCES = ["yaml", "template", "from", "resume"] as const;

export function installRunTools(ctx: PluginContext, deps: EngineDeps): void {
  const background = new Map<string, { stop: AbortController; done: Promise<unknown> }>();
  ctx.onClose(async () => {
    // Interrupted, not failed: the instances keep running and --resume continues the run.
    for (const run of background.values()) run.stop.abort("closing");
    await Promise.allSettled([...background.values()].map((run) => run.done));
  });

  /** A stored run the caller may see: one it or an instance below it started (root sees every run). */
  const visibleRun = async (id: string, caller: Caller): Promise<PersistedRun> => {
    const run = await deps.store.runs.get(id);
    if (!run) throw new TmuxClaudeError(RunErrors.NOT_FOUND, `No run "${id}". run_workflow answers with the ids of the runs you start; list_runs lists them.`, { run: id });
    if (caller.instanceId !== null && !within(run.caller, caller.instanceId)) {
      throw new TmuxClaudeError(RunErrors.FORBIDDEN, `Run "${id}" was not started by ${caller.instanceId} or an instance below it; you may see only those runs.`, { run: id });
    }
    return run;
  };

  /** What the call asks to run: a new run's request, or the run to resume. */
  const requestOf = async (input: z.output<typeof runWorkflowInput>, caller: Caller): Promise<RunRequest> => {
    const given = SOURCES.filter((key) => input[key] !== undefined);
    if (given.length !== 1) {
      throw new TmuxClaudeError(
        RunErrors.INVALID,
        `run_workflow takes exactly one of yaml (the workflow's text), template (a template's name), from (a run to start again) or resume (a run to continue)${given.length > 0 ? `, got ${given.join(" and ")}` : ""}.`,
      );
    }
    if (input.resume !== undefined) {
      const kept = (["vars", "workDir"] as const).filter((key) => input[key] !== undefined);
      if (kept.length > 0) {
        throw new TmuxClaudeError(RunErrors.INVALID, `resume continues run "${input.resume}" with its own variables and workDir; leave out ${kept.join(" and ")}, or start a new run from its inputs with from.`, { run: input.resume });
      }
      const run = await visibleRun(input.resume, caller);
      refuseHostCommands(run.workflow, caller);
      // keep as the CLI's --resume --keep / --no-keep: given, it changes the run's from now on; left out, the run's own.
      return { resume: run.id, ...(input.keep === undefined ? {} : { keep: input.keep }) };
    }
    const { workflow, vars } = await inputsOf(input, caller);
    refuseHostCommands(workflow, caller);
    // Checked here too (the run checks it again): its problems then say how to give a variable here, in vars, not with the CLI's --var.
    const asking = caller.instanceId === null ? ROOT_CALLER : await ctx.kernel.get(caller.instanceId).then((record) => ({ role: record.role, depth: record.depth }));
    planWorkflow(workflow, ctx.kernel.config, { ...vars, ...input.vars }, asking, ctx.kernel.pluginNames(), "run_workflow");
    const workDir = input.workDir === undefined ? undefined : await runWorkDir(ctx.kernel, workflow, input.workDir, caller);
    return { workflow, vars: { ...vars, ...input.vars }, caller: caller.instanceId, keep: input.keep ?? false, ...(workDir === undefined ? {} : { workDir }) };
  };

  const inputsOf = async (input: z.output<typeof runWorkflowInput>, caller: Caller): Promise<{ workflow: Workflow; vars: Record<string, string> }> => {
    if (input.yaml !== undefined) return { workflow: parseWorkflow(input.yaml, `run_workflow yaml from ${caller.instanceId ?? "root"}`), vars: {} };
    if (input.template !== undefined) return { workflow: loadTemplate(input.template), vars: {} };
    const earlier = await visibleRun(input.from!, caller);
    return runInputs(await new JournalReader(earlier.journal).events(), `The journal of run "${earlier.id}"`);
  };

  const runWorkflow: ToolContribution = {
    name: "run_workflow",
    description:
      "Run a workflow (YAML steps: spawn, send, wait, merge, run, with needs:) from YAML text, a template or an earlier run's inputs (from), or continue one of your runs (resume). Its top-level spawns become your children. Returns the run id at once; follow it with run_status.",
    inputSchema: runWorkflowInput,
    async handler(args, caller) {
      const request = await requestOf(runWorkflowInput.parse(args), caller);
      const stop = new AbortController();
      const started = await startRun(deps, { ...request, signal: stop.signal });
      const done = started.done
        .catch((error: unknown) => ctx.logger.error({ err: error, run: started.id }, "a workflow run crashed"))
        .finally(() => background.delete(started.id));
      background.set(started.id, { stop, done });
      const name = request.workflow?.name ?? (await deps.store.runs.get(started.id))?.workflow.name;
      const what = request.resume !== undefined ? "Resumed run" : "Started run";
      return { run: started.id, workflow: name, text: `${what} ${started.id} (workflow ${name}). Follow it with run_status {"run": "${started.id}"}.` };
    },
  };

  const runStatus: ToolContribution = {
    name: "run_status",
    description: "How a workflow run stands: its state, each step's state, each task's instance and state, and why it failed.",
    inputSchema: runStatusInput,
    async handler(args, caller) {
      const { run: id } = runStatusInput.parse(args);
      return statusView(await visibleRun(id, caller));
    },
  };

  const listRuns: ToolContribution = {
    name: "list_runs",
    description: "The workflow runs you or the instances below you started, newest first: id, workflow, state, when, why one failed, and whether a stopped one can be resumed (run_workflow with resume).",
    inputSchema: listRunsInput,
    async handler(args, caller) {
      listRunsInput.parse(args);
      const runs = (await deps.store.runs.list())
        .map((doc) => doc.value)
        .filter((run) => caller.instanceId === null || within(run.caller, caller.instanceId))
        .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      const views = await Promise.all(
        runs.map(async (run) => {
          // A run whose runner is gone still says "running" in the store: it waits for a resume.
          const stopped = run.state === "running" && !(await runnerAlive(run));
          return { id: run.id, workflow: run.workflow.name, state: stopped ? "stopped" : run.state, startedAt: run.startedAt, endedAt: run.endedAt, caller: run.caller, failure: run.failure, resumable: stopped || run.state === "interrupted" || run.state === "failed" };
        }),
      );
      const lines = views.map((r) => `${r.id}  ${r.workflow}  ${r.state}${r.failure ? ` (step "${r.failure.step}": ${r.failure.reason})` : ""}  started ${r.startedAt}${r.resumable ? "  resume it: run_workflow {\"resume\": \"" + r.id + "\"}" : ""}`);
      return { runs: views, text: views.length === 0 ? "No workflow runs started by you or below you." : lines.join("\n") };
    },
  };

  ctx.hooks.tools.tapPromise(async (tools) => [...tools, runWorkflow, runStatus, listRuns]);
}

/**
 * A run: step executes a program in this (the kernel's) process, and so does
 * a merge's verify: for an agent that would be a host command outside its
 * own permission prompts.
 */
function refuseHostCommands(workflow: Workflow, caller: Caller): void {
  if (caller.instanceId === null) return;
  const commands = workflow.steps.filter((s) => s.kind === "run" || (s.kind === "merge" && s.spec?.verify !== undefined));
  if (commands.length === 0) return;
  throw new TmuxClaudeError(
    RunErrors.FORBIDDEN,
    `${caller.instanceId} may not start a workflow with run: steps or merge verify commands (${commands.map((s) => `"${s.id}"`).join(", ")}): they run programs in the kernel's process, outside your permission prompts. Drop them and run the commands yourself, or have a person start the workflow with tmux-claude run.`,
    { steps: commands.map((s) => s.id) },
  );
}

/**
 * The run's workDir as the caller gave it, confined as the MCP spawn tool
 * confines a child's: relative to the caller's, and inside it unless the role
 * of each top-level spawn (the caller's children) allows otherwise; checked
 * here, with the kernel's own rule, so nothing starts in a directory a spawn
 * would refuse.
 */
async function runWorkDir(kernel: KernelApi, workflow: Workflow, given: string, caller: Caller): Promise<string> {
  if (caller.instanceId === null) return path.resolve(given);
  const parent = await kernel.get(caller.instanceId);
  const workDir = path.resolve(parent.workDir, given);
  await assertDirectory(workDir);
  const { parents } = resolveParents(workflow, kernel.config, { role: parent.role, depth: parent.depth });
  for (const step of workflow.steps) {
    const roleConfig = step.kind === "spawn" && parents.get(step.id) === null ? kernel.config.roles[step.role] : undefined;
    if (step.kind === "spawn" && roleConfig) await assertWorkDirAllowed(step.role, roleConfig, workDir, parent);
  }
  return workDir;
}

/** Is the run's caller the asking instance or below it? */
function within(runCaller: string | null, asking: string): boolean {
  return runCaller !== null && (runCaller === asking || runCaller.startsWith(`${asking}.`));
}

export function statusView(run: PersistedRun): Record<string, unknown> {
  const steps = run.workflow.steps.map((s) => ({ id: s.id, kind: s.kind, ...run.steps[s.id] }));
  const tasks = run.tasks.map((t) => ({ step: t.step, index: t.index, instanceId: t.instanceId, state: t.state, summary: t.summary, ...(t.state === "failed" ? { reason: taskFailure(t) } : {}) }));
  const how = { running: "is running", succeeded: "succeeded", failed: "failed", interrupted: "was interrupted" }[run.state];
  const lines = [
    `Run ${run.id} (workflow ${run.workflow.name}) ${how}${run.failure ? `: step "${run.failure.step}" failed: ${stripPeriod(run.failure.reason)}` : ""}.`,
    ...steps.map((s) => `  ${s.id} (${s.kind}): ${s.state}${s.reason ? ` (${s.reason})` : ""}`),
    // A summary of several lines keeps under its task, not at the start of the line where it would read as a step.
    ...tasks.map((t) => `  task ${t.step}[${t.index + 1}] ${t.instanceId ?? "-"}: ${t.state}${t.summary ? `: ${t.summary.trimEnd().replace(/\n/gu, "\n      ")}` : ""}`),
  ];
  return { id: run.id, workflow: run.workflow.name, state: run.state, startedAt: run.startedAt, endedAt: run.endedAt, failure: run.failure, steps, tasks, journal: run.journal, text: lines.join("\n") };
}

/** A reason that ends its own sentence, before a sentence's end is added. */
function stripPeriod(text: string): string {
  return text.replace(/\.+$/u, "");
}
