// The run engine: start (or resume) a workflow run, follow it to its end.
// Used by the plugin's api (`ctx.plugin("workflows").run`), the CLI's `run`
// and the MCP tool `run_workflow`.
import { randomBytes } from "node:crypto";
import os from "node:os";
import { currentProcess, isProcessAlive, isSameProcess, TmuxClaudeError, type KernelApi, type Logger } from "@tmux-claude/core";
import { formatIssue, planWorkflow, resolveParents, ROOT_CALLER, stepIssue, type Caller } from "../dsl/index.js";
import type { PersistedRun, RunId, RunRequest, RunResult } from "../types.js";
import { RunContext, taskKey, type EngineOptions, type GitMergeApi } from "./context.js";
import { RunErrors } from "./errors.js";
import { JournalReader, JournalWriter, journalDir, journalPath } from "./journal.js";
import type { RunStore } from "./run-store.js";
import { formatMs } from "./format.js";
import { Scheduler, type StopReason } from "./scheduler.js";
import { reattachWorking } from "./steps/spawn.js";
import { TaskTracker } from "./tasks.js";

export { JournalReader, JournalWriter, journalDir, journalPath, runInputs } from "./journal.js";
export { RunErrors } from "./errors.js";
export type { RunStore, DocCollection, TaskRef } from "./run-store.js";
export type { EngineOptions, GitMergeApi } from "./context.js";

export interface EngineDeps {
  readonly kernel: KernelApi;
  readonly store: RunStore;
  readonly logger?: Logger;
  readonly options?: EngineOptions;
}

export interface StartedRun {
  readonly id: RunId;
  /** Settles when the run ended (succeeded, failed or interrupted); rejects only on a bug. */
  readonly done: Promise<RunResult>;
}

/** Start or resume a run and follow it to its end. */
export async function runWorkflow(deps: EngineDeps, request: RunRequest): Promise<RunResult> {
  return (await startRun(deps, request)).done;
}

/**
 * Start or resume a run: resolves with its id once it is in the store and
 * its journal began (everything wrong with the request was refused before
 * anything was spawned), and `done` when it ends.
 */
export async function startRun(deps: EngineDeps, request: RunRequest): Promise<StartedRun> {
  const { kernel } = deps;
  const logger = deps.logger ?? kernel.logger;
  const runner = { node: kernel.node, pid: process.pid, host: os.hostname(), start: (await currentProcess()).start };
  const dir = deps.options?.journalDir ?? journalDir(kernel.stateDir);
  const persisted = request.resume ? await takeOver(deps, request.resume, runner) : await create(deps, request, runner, dir);
  runningHere.add(persisted.id);
  const parents = resolveParents(persisted.workflow, kernel.config, await callerOf(kernel, persisted.caller)).parents;
  const journal = new JournalWriter(persisted.journal, persisted.id, request.onEvent);
  journal.write({ type: "run-started", workflow: persisted.workflow, vars: { ...persisted.vars }, resumed: Boolean(request.resume) });

  const stop = new AbortController();
  const run = new RunContext(kernel, deps.store, journal, logger.child({ run: persisted.id }), deps.options ?? {}, stop.signal, persisted, parents);
  let stopReason: StopReason | undefined;
  const halt = (reason: StopReason) => {
    stopReason ??= reason;
    if (!stop.signal.aborted) stop.abort(reason);
  };
  let scheduler: Scheduler | undefined;
  const tracker = new TaskTracker(run, (failure) => void scheduler?.fail(failure).catch((error: unknown) => logger.error({ err: error }, "recording a failure failed")));
  scheduler = new Scheduler(run, tracker, halt, () => kernel.plugin<GitMergeApi>("git"));

  const done = (async (): Promise<RunResult> => {
    const started = Date.now();
    const onInterrupt = () => halt("interrupted");
    request.signal?.addEventListener("abort", onInterrupt, { once: true });
    if (request.signal?.aborted) onInterrupt();
    const timeoutMs = persisted.workflow.timeoutMs;
    const timer = timeoutMs !== undefined ? setTimeout(() => void runTimedOut(run, scheduler!, timeoutMs), timeoutMs) : undefined;
    try {
      await tracker.start(request.resume ? await journaledTasks(persisted.journal) : undefined);
      if (request.resume) await reattachWorking(run, tracker);
      await scheduler!.execute();
    } catch (error) {
      // A bug or a store that went away: the run fails, naming it, rather than hanging.
      await scheduler!.fail({ step: "(run)", reason: `the engine failed: ${error instanceof Error ? error.message : String(error)}` }).catch(() => undefined);
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onInterrupt);
      tracker.stop();
    }
    const state = scheduler!.failure ? "failed" : stopReason === "interrupted" ? "interrupted" : "succeeded";
    if (state === "failed" && !run.state.keep) await terminateAll(run);
    const failure = scheduler!.failure;
    await run.update((r) => ({ ...r, state, endedAt: new Date().toISOString(), ...(failure ? { failure } : {}) }));
    // `complete` finds a task through this index while the run may still go on (running, interrupted).
    if (state !== "interrupted") await forgetTasks(run);
    journal.write({ type: "run-finished", state, ...(failure ? { failure } : {}), durationMs: Date.now() - started });
    await journal.flush();
    return { id: run.id, state, ...(failure ? { failure } : {}), journal: journal.file };
  })().finally(() => runningHere.delete(persisted.id));
  return { id: persisted.id, done };
}

async function create(deps: EngineDeps, request: RunRequest, runner: PersistedRun["runner"], dir: string): Promise<PersistedRun> {
  const workflow = request.workflow;
  if (!workflow) throw new TmuxClaudeError(RunErrors.INVALID, "A run needs a workflow (parseWorkflow / loadTemplate) or a run id to resume.");
  const caller = request.caller ?? null;
  // Everything the config can tell is checked before anything is spawned: variables, roles, who may spawn whom, limits.
  const { vars } = planWorkflow(workflow, deps.kernel.config, request.vars ?? {}, await callerOf(deps.kernel, caller));
  const merge = workflow.steps.find((s) => s.kind === "merge");
  if (merge && !deps.kernel.plugin("git")) {
    throw new TmuxClaudeError(
      RunErrors.INVALID,
      // At the merge key's line and column, as the plan's errors are.
      formatIssue(workflow.source, { ...stepIssue(workflow, merge, "merge", `step "${merge.id}" merges branches, which needs the git plugin, and it is not registered. Add git() to plugins in tmuxclaude.config.ts (import { git } from "@tmux-claude/plugin-git"), or remove the merge step.`), path: "" }),
      { step: merge.id },
    );
  }
  const workDir = request.workDir ?? (caller ? (await deps.kernel.get(caller)).workDir : process.cwd());
  for (;;) {
    const id = runId(workflow.name);
    const now = new Date().toISOString();
    const fresh: PersistedRun = {
      id, workflow, vars: { ...vars }, state: "running", startedAt: now, runner, caller, keep: request.keep ?? false, workDir,
      steps: Object.fromEntries(workflow.steps.map((s) => [s.id, { state: "pending" as const }])), tasks: [], journal: journalPath(dir, id),
    };
    let taken = false;
    const stored = await deps.store.runs.update(id, (current) => {
      taken = current !== undefined;
      return current ?? fresh;
    });
    if (!taken && stored) return stored;
  }
}

/** Resume: the run's runner must be gone; steps that succeeded stay done, the rest run again (tasks with live instances re-attach). */
async function takeOver(deps: EngineDeps, id: RunId, runner: PersistedRun["runner"]): Promise<PersistedRun> {
  const existing = await deps.store.runs.get(id);
  if (!existing) throw new TmuxClaudeError(RunErrors.NOT_FOUND, `No run "${id}" in the store. \`tmux-claude runs\` lists the runs.`, { run: id });
  if (existing.state === "succeeded") {
    throw new TmuxClaudeError(RunErrors.NOT_RESUMABLE, `Run "${id}" already succeeded: nothing to resume. Start it again from its inputs with \`tmux-claude run --from ${id}\`.`, { run: id });
  }
  if (existing.state === "running" && (await runnerAlive(existing))) {
    const where = existing.runner.host === os.hostname() ? `process ${existing.runner.pid}` : `process ${existing.runner.pid} on host ${existing.runner.host} (it cannot be checked from here)`;
    throw new TmuxClaudeError(RunErrors.NOT_RESUMABLE, `Run "${id}" is still being run by ${where}. Wait for it to end, or stop that process and resume again.`, { run: id, runner: existing.runner });
  }
  const resumed = await deps.store.runs.update(id, (run) =>
    run
      ? {
          ...run,
          state: "running",
          runner,
          failure: undefined,
          endedAt: undefined,
          steps: Object.fromEntries(Object.entries(run.steps).map(([step, s]) => [step, s.state === "succeeded" ? s : { state: "pending" as const }])),
          // A failed task runs again (a new instance when its own is gone); a completed one never does.
          tasks: run.tasks.map((t) => (t.state === "failed" ? { step: t.step, index: t.index, ...(t.task !== undefined ? { task: t.task } : {}), ...(t.instanceId ? { instanceId: t.instanceId } : {}), state: "working" as const } : t)),
        }
      : run,
  );
  return resumed!;
}

/** The runs this process is running now: a runner that is this process is alive for these only (an earlier runner here may have ended). */
const runningHere = new Set<RunId>();

/** Whether a run's runner may still be at it (one on another host cannot be checked from here: yes). */
export async function runnerAlive(run: Pick<PersistedRun, "id" | "runner">): Promise<boolean> {
  const { runner } = run;
  if (runner.host !== os.hostname()) return true;
  if (runner.pid === process.pid) return runningHere.has(run.id);
  return runner.start ? isSameProcess({ pid: runner.pid, start: runner.start }) : isProcessAlive(runner.pid);
}

/** Who runs the workflow, as the parent rule needs it: the root, or an instance's role and depth. */
async function callerOf(kernel: KernelApi, caller: string | null): Promise<Caller> {
  if (caller === null) return ROOT_CALLER;
  const record = await kernel.get(caller);
  return { role: record.role, depth: record.depth };
}

/** `<workflow name>-<yyyymmdd-hhmmss>-<4 hex>`. */
export function runId(name: string, now = new Date()): RunId {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/gu, "-").replace(/^-+|-+$/gu, "") || "workflow";
  const stamp = now.toISOString().replace(/[-:]/gu, "").replace("T", "-").slice(0, 15);
  return `${slug}-${stamp}-${randomBytes(2).toString("hex")}`;
}

async function runTimedOut(run: RunContext, scheduler: Scheduler, timeoutMs: number): Promise<void> {
  const running = Object.entries(run.state.steps).filter(([, s]) => s.state === "running").map(([id]) => id);
  await scheduler.fail({ step: running[0] ?? "(run)", reason: `the workflow's timeout of ${formatMs(timeoutMs)} passed${running.length ? ` while ${running.join(", ")} ran` : ""}` });
}

/** A failed run leaves nothing running (unless keep): every instance it spawned, and what they spawned. */
async function terminateAll(run: RunContext): Promise<void> {
  const ids = run.state.tasks.map((t) => t.instanceId).filter((id): id is string => id !== undefined);
  // Parents first: a cascade takes their children along, and a child that is gone already is no error.
  ids.sort((a, b) => a.split(".").length - b.split(".").length);
  for (const id of ids) {
    await run.kernel.terminate(id, { cascade: true }).catch((error: unknown) => {
      if ((error as { code?: string }).code !== "TC_INSTANCE_NOT_FOUND") run.logger.warn({ err: error, instance: id }, "terminating a failed run's instance failed");
    });
  }
}

/** The tasks whose end a journal holds (completed or failed), by task key. */
async function journaledTasks(file: string): Promise<Map<string, "completed" | "failed">> {
  const ended = new Map<string, "completed" | "failed">();
  const events = await new JournalReader(file).events().catch(() => []);
  for (const e of events) {
    if (e.type === "task-completed") ended.set(taskKey(e.step, e.index), "completed");
    // A failed task runs again after a resume: its next end is news.
    if (e.type === "task-failed") ended.delete(taskKey(e.step, e.index));
  }
  return ended;
}

async function forgetTasks(run: RunContext): Promise<void> {
  for (const task of run.state.tasks) if (task.instanceId) await run.store.tasks.delete(task.instanceId).catch(() => undefined);
}
