// The MCP side: `run_workflow` (an executive runs a workflow from YAML text
// or a template; its top-level spawns become the caller's children; answers
// with the run id at once) and `run_status` (how a run stands). Runs started
// here run in this process (serve); closing the kernel interrupts them, so
// `tmux-claude run --resume` continues them.
import { TmuxClaudeError, type PluginContext, type ToolContribution } from "@tmux-claude/core";
import { z } from "zod";
import { loadTemplate, parseWorkflow } from "../dsl/index.js";
import type { PersistedRun } from "../types.js";
import { RunErrors } from "./errors.js";
import { startRun, type EngineDeps } from "./index.js";
import { taskFailure } from "./tasks.js";

const runWorkflowInput = z
  .object({
    yaml: z.string().min(1).optional().describe("The workflow as YAML text (workflow:, steps:, ...). Give this or template."),
    template: z.string().min(1).optional().describe("A shipped template's name (web-app, api-service, data-pipeline). Give this or yaml."),
    vars: z.record(z.string(), z.string()).optional().describe('Values of the workflow\'s variables, e.g. {"goal": "Add a cart"}.'),
    keep: z.boolean().optional().describe("Leave the run's instances running when it fails (default: they are terminated)."),
  })
  .strict();

const runStatusInput = z.object({ run: z.string().min(1).describe("The run id run_workflow returned.") }).strict();

export function installRunTools(ctx: PluginContext, deps: EngineDeps): void {
  const background = new Map<string, { stop: AbortController; done: Promise<unknown> }>();
  ctx.onClose(async () => {
    // Interrupted, not failed: the instances keep running and --resume continues the run.
    for (const run of background.values()) run.stop.abort("closing");
    await Promise.allSettled([...background.values()].map((run) => run.done));
  });

  const runWorkflow: ToolContribution = {
    name: "run_workflow",
    description:
      "Run a workflow (YAML steps: spawn, send, wait, merge, run, with needs:) from YAML text or a template. Its top-level spawns become your children. Returns the run id at once; follow it with run_status.",
    inputSchema: runWorkflowInput,
    async handler(args, caller) {
      const input = runWorkflowInput.parse(args);
      if ((input.yaml === undefined) === (input.template === undefined)) {
        throw new TmuxClaudeError(RunErrors.INVALID, "run_workflow takes yaml (the workflow's text) or template (a template's name), exactly one of them.");
      }
      const workflow = input.yaml !== undefined ? parseWorkflow(input.yaml, `run_workflow yaml from ${caller.instanceId ?? "root"}`) : loadTemplate(input.template!);
      const commands = workflow.steps.filter((s) => s.kind === "run");
      if (caller.instanceId !== null && commands.length > 0) {
        // A run: step executes a program in this (the kernel's) process: for an agent that would be a host command outside its own permission prompts.
        throw new TmuxClaudeError(
          RunErrors.FORBIDDEN,
          `${caller.instanceId} may not start a workflow with run: steps (${commands.map((s) => `"${s.id}"`).join(", ")}): they run programs in the kernel's process, outside your permission prompts. Drop them and run the commands yourself, or have a person start the workflow with tmux-claude run.`,
          { steps: commands.map((s) => s.id) },
        );
      }
      const stop = new AbortController();
      const started = await startRun(deps, { workflow, vars: input.vars ?? {}, caller: caller.instanceId, keep: input.keep ?? false, signal: stop.signal });
      const done = started.done
        .catch((error: unknown) => ctx.logger.error({ err: error, run: started.id }, "a workflow run crashed"))
        .finally(() => background.delete(started.id));
      background.set(started.id, { stop, done });
      return { run: started.id, workflow: workflow.name, text: `Started run ${started.id} (workflow ${workflow.name}). Follow it with run_status {"run": "${started.id}"}.` };
    },
  };

  const runStatus: ToolContribution = {
    name: "run_status",
    description: "How a workflow run stands: its state, each step's state, each task's instance and state, and why it failed.",
    inputSchema: runStatusInput,
    async handler(args, caller) {
      const { run: id } = runStatusInput.parse(args);
      const run = await deps.store.runs.get(id);
      if (!run) throw new TmuxClaudeError(RunErrors.NOT_FOUND, `No run "${id}". run_workflow answers with the ids of the runs you start.`, { run: id });
      if (caller.instanceId !== null && !within(run.caller, caller.instanceId)) {
        throw new TmuxClaudeError(RunErrors.FORBIDDEN, `Run "${id}" was not started by ${caller.instanceId} or an instance below it; you may see only those runs.`, { run: id });
      }
      return statusView(run);
    },
  };

  ctx.hooks.tools.tapPromise(async (tools) => [...tools, runWorkflow, runStatus]);
}

/** Is the run's caller the asking instance or below it? */
function within(runCaller: string | null, asking: string): boolean {
  return runCaller !== null && (runCaller === asking || runCaller.startsWith(`${asking}.`));
}

export function statusView(run: PersistedRun): Record<string, unknown> {
  const steps = run.workflow.steps.map((s) => ({ id: s.id, kind: s.kind, ...run.steps[s.id] }));
  const tasks = run.tasks.map((t) => ({ step: t.step, index: t.index, instanceId: t.instanceId, state: t.state, summary: t.summary, ...(t.state === "failed" ? { reason: taskFailure(t) } : {}) }));
  const lines = [
    `Run ${run.id} (workflow ${run.workflow.name}) is ${run.state}${run.failure ? `: step "${run.failure.step}" failed: ${run.failure.reason}` : ""}.`,
    ...steps.map((s) => `  ${s.id} (${s.kind}): ${s.state}${s.reason ? ` (${s.reason})` : ""}`),
    ...tasks.map((t) => `  task ${t.step}[${t.index + 1}] ${t.instanceId ?? "-"}: ${t.state}${t.summary ? `: ${t.summary}` : ""}`),
  ];
  return { id: run.id, workflow: run.workflow.name, state: run.state, startedAt: run.startedAt, endedAt: run.endedAt, failure: run.failure, steps, tasks, journal: run.journal, text: lines.join("\n") };
}
