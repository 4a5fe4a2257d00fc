// Completion, recorded by whichever process learns of it (every kernel with
// the plugin installs this): the MCP tool `complete` (served where the MCP
// endpoint runs), a turn's end for `turn-end` tasks (fired once across
// processes by the kernel), and the tie of a new instance to its task
// (beforeSpawn, before its agent starts, so even a very fast `complete`
// finds its task). The runner sees each in the store (tasks.ts). A task's
// instance is never taken by another spawn's reuse (beforeTake).
import { ErrorCodes, isTmuxClaudeError, TmuxClaudeError, type PluginContext, type ToolContribution } from "@tmux-claude/core";
import { z } from "zod";
import type { PersistedRun, TaskState } from "../types.js";
import { RunErrors } from "./errors.js";
import { bindTask, isTaskBinding, SPAWN_OPTION, type RunStore, type TaskRef } from "./run-store.js";

export const completeInput = z
  .object({
    summary: z.string().min(1).describe("What you did (or, with status failed, why you could not), in a few sentences: the workflow's later steps read it as your reply."),
    status: z.enum(["ok", "failed"]).default("ok").describe('"ok" when the task is done; "failed" when it cannot be done (the run then fails with your summary as the reason).'),
    artifacts: z.array(z.string().min(1)).optional().describe("What you produced that others should look at: files, branches, URLs."),
  })
  .strict();

export interface Completion {
  readonly status: "ok" | "failed";
  readonly summary?: string;
  readonly artifacts?: string[];
  readonly via: "tool" | "turn-end";
}

export function installRecorder(ctx: PluginContext, store: RunStore): void {
  ctx.hooks.beforeSpawn.tapPromise(async (plan) => {
    const ref = plan.plugins?.[SPAWN_OPTION];
    if (plan.restart || ref === undefined) return plan;
    if (!isTaskBinding(ref)) {
      throw new TmuxClaudeError(RunErrors.INVALID, `plugins.${SPAWN_OPTION} of a spawn is the workflow engine's own ({ run, step, index, token }), got ${JSON.stringify(ref)}. Leave it out: a workflow's spawn steps set it.`, { value: ref });
    }
    const isLive = async (id: string) => ((await ctx.kernel.get(id).catch(() => undefined))?.status ?? "exited") !== "exited";
    await bindTask(store, ref, plan.id, plan.caller, isLive);
    return plan;
  });

  // An instance a run still counts on (its task ref lives until the run ends) is no idle one to reuse: its next turn end or
  // `complete` would complete the run's task with another spawn's work.
  ctx.hooks.beforeTake.tapPromise(async ({ instance }) => {
    const ref = await store.tasks.get(instance.id);
    return ref ? `it works on task ${ref.index + 1} of step "${ref.step}" in workflow run ${ref.run}` : undefined;
  });

  ctx.hooks.tools.tapPromise(async (tools) => [...tools, completeTool(ctx, store)]);

  ctx.hooks.turnEnded.tapPromise(async ({ instance, reason, lastReply }) => {
    if (reason !== "stop") return;
    const ref = await store.tasks.get(instance.id);
    if (!ref) return;
    const run = await store.runs.get(ref.run);
    const step = run?.workflow.steps.find((s) => s.id === ref.step);
    if (!run || !step || step.kind !== "spawn" || (step.completion ?? run.workflow.completion) !== "turn-end") return;
    // A turn after the run ended (a send: step's, the last step) completes nothing: not worth a warning.
    if (!takesCompletions(run)) return;
    // More input is on its way: the turn that answers it decides.
    const queued = (await ctx.kernel.list()).find((i) => i.id === instance.id)?.queuedIds.length ?? 0;
    if (queued > 0) return;
    const summary = lastReply ?? (await screenTail(ctx, instance.id));
    await recordCompletion(store, ref, instance.id, { status: "ok", ...(summary !== undefined ? { summary } : {}), via: "turn-end" }).catch((error: unknown) =>
      // The run ended (or the task moved on) between the look above and the write: nothing to record. A store failure is worth a warning.
      ctx.logger[isTmuxClaudeError(error, RunErrors.NOT_A_TASK) ? "debug" : "warn"]({ err: error, instance: instance.id, run: ref.run }, "recording a turn-end completion failed"),
    );
  });
}

function completeTool(ctx: PluginContext, store: RunStore): ToolContribution {
  return {
    name: "complete",
    description:
      "Tell the workflow that spawned you that your task is done (status ok) or cannot be done (status failed), with a summary of what you did. Call it once, when you are finished; the workflow's next steps start from it.",
    inputSchema: completeInput,
    // Every instance a workflow spawns gets it, whatever its role (a specialist spawns nothing but completes tasks).
    roles: Object.keys(ctx.config.roles),
    async handler(args, caller) {
      const input = completeInput.parse(args);
      if (caller.instanceId === null) {
        throw new TmuxClaudeError(RunErrors.NOT_A_TASK, "complete is for instances a workflow spawned: the root caller has no task. Use it from the instance doing the task.");
      }
      const ref = await store.tasks.get(caller.instanceId);
      if (!ref) {
        throw new TmuxClaudeError(RunErrors.NOT_A_TASK, `${caller.instanceId} is not working on a task of a running workflow, so there is nothing to complete. Report your result to whoever gave you the work (your parent reads your reply).`, { instance: caller.instanceId });
      }
      const task = await recordCompletion(store, ref, caller.instanceId, { status: input.status, summary: input.summary, ...(input.artifacts ? { artifacts: input.artifacts } : {}), via: "tool" });
      const what = `task ${ref.index + 1} of step "${ref.step}" in run ${ref.run}`;
      return {
        run: ref.run,
        step: ref.step,
        index: ref.index,
        status: task.status ?? input.status,
        text: task.via === "tool" && task.summary === input.summary ? `Recorded: ${what} is ${input.status === "ok" ? "complete" : "failed"}. Nothing else is needed for it.` : `${what} was already ${task.state} (${task.via ?? "tool"}); this call changed nothing.`,
      };
    },
  };
}

/** Mark the instance's task completed (or failed, for status failed); a task already completed or failed stays as it is. Resolves with the task as stored. */
export async function recordCompletion(store: RunStore, ref: TaskRef, instanceId: string, completion: Completion): Promise<TaskState> {
  let problem: string | undefined;
  let result: TaskState | undefined;
  await store.runs.update(ref.run, (run) => {
    problem = undefined;
    if (!run) return ((problem = `run ${ref.run} is not in the store any more`), run);
    if (!takesCompletions(run)) return ((problem = `run ${ref.run} has ended (${run.state})`), run);
    const at = run.tasks.findIndex((t) => t.step === ref.step && t.index === ref.index);
    const task = run.tasks[at];
    if (!task || task.instanceId !== instanceId) return ((problem = `${instanceId} no longer works on task ${ref.index + 1} of step "${ref.step}" in run ${ref.run}`), run);
    if (task.state === "completed" || task.state === "failed") return ((result = task), run);
    result = {
      ...task,
      state: completion.status === "ok" ? "completed" : "failed",
      status: completion.status,
      ...(completion.summary !== undefined ? { summary: completion.summary } : {}),
      ...(completion.artifacts ? { artifacts: completion.artifacts } : {}),
      ...(completion.status === "failed" ? { reason: `reported failure: ${completion.summary ?? "no summary"}` } : {}),
      completedAt: new Date().toISOString(),
      via: completion.via,
    };
    const tasks = [...run.tasks];
    tasks[at] = result;
    return { ...run, tasks };
  });
  if (problem || !result) throw new TmuxClaudeError(RunErrors.NOT_A_TASK, `${problem ?? "no such task"}: nothing to complete.`, { instance: instanceId, run: ref.run });
  return result;
}

/**
 * A run whose tasks may still complete: one that runs or may be resumed with its instances (interrupted, or
 * failed with keep). A completion after a failure is kept for `--resume`, with its reply and its real time.
 */
function takesCompletions(run: PersistedRun): boolean {
  return run.state === "running" || run.state === "interrupted" || (run.state === "failed" && run.keep);
}

/** Lines of screen a turn-end summary holds when the agent reports no reply of its own. */
const SCREEN_SUMMARY_LINES = 20;

/**
 * An agent that reports no reply (the command adapter reads only its state
 * from the screen): the end of its screen, where the turn's output is, so
 * that `${{ steps.<id>.reply }}` says what it did. Blank lines at the end go.
 */
async function screenTail(ctx: PluginContext, id: string): Promise<string | undefined> {
  const read = await ctx.kernel.read(id, { lines: SCREEN_SUMMARY_LINES }).catch((error: unknown) => {
    // A kernel closing (Ctrl-C of `run`) or an instance gone in the meantime: nothing to summarize, nothing wrong.
    const expected = isTmuxClaudeError(error, ErrorCodes.KERNEL_STATE) || isTmuxClaudeError(error, ErrorCodes.INSTANCE_NOT_FOUND);
    ctx.logger[expected ? "debug" : "warn"]({ err: error, instance: id }, "reading the screen for a turn-end summary failed");
    return undefined;
  });
  const lines = read?.screen.replace(/\s+$/u, "").split("\n").slice(-SCREEN_SUMMARY_LINES);
  return lines && lines.join("\n") !== "" ? lines.join("\n") : undefined;
}
