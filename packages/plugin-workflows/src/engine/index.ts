// The run engine: start (or resume) a workflow run, follow it to its end.
// Used by the plugin's api (`ctx.plugin("workflows").run`), the CLI's `run`
// and the MCP tool `run_workflow`.
import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import { currentProcess, TmuxClaudeError, type KernelApi, type Logger, type NoticeInput } from "@tmux-claude/core";
import { planWorkflow, resolveParents, ROOT_CALLER, type Caller } from "../dsl/index.js";
import type { PersistedRun, RunId, RunRequest, RunResult, TaskState } from "../types.js";
import { RunContext, taskKey, type EngineOptions, type GitMergeApi } from "./context.js";
import { RunErrors } from "./errors.js";
import { JournalReader, JournalWriter, journalDir, journalPath } from "./journal.js";
import type { RunStore } from "./run-store.js";
import { formatMs } from "./format.js";
import { claimHere, releaseHere, runnerAlive, sameRunner } from "./runner.js";
import { Scheduler, type StopReason } from "./scheduler.js";
import { endLeftoverGroup } from "./process-group.js";
import { KILL_GRACE_MS } from "./steps/command.js";
import { reattachWorking } from "./steps/spawn.js";
import { taskFailure, TaskTracker, type TaskFailure } from "./tasks.js";

export { JournalReader, JournalWriter, journalDir, journalPath, runInputs } from "./journal.js";
export { RunErrors } from "./errors.js";
export { runnerAlive } from "./runner.js";
export type { RunStore, DocCollection, TaskRef } from "./run-store.js";
export type { EngineOptions, GitMergeApi } from "./context.js";

export interface EngineDeps {
  readonly kernel: KernelApi;
  readonly store: RunStore;
  readonly logger?: Logger;
  readonly options?: EngineOptions;
  /** The plugin's `ctx.notice`: a finished run is a `run-finished` notice for notifiers (plugin-notify). */
  readonly notice?: (notice: NoticeInput) => Promise<void>;
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
  const persisted = request.resume ? await takeOver(deps, request.resume, runner, request.keep) : await create(deps, request, runner, dir);
  // This process runs it now (runner.ts): released when it ends, or here when it cannot start.
  const parents = await callerOf(kernel, persisted.caller)
    .then((caller) => resolveParents(persisted.workflow, kernel.config, caller).parents)
    .catch((error: unknown) => {
      releaseHere(persisted.id);
      throw error;
    });
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
    // Decided here, from what this runner knows, whatever the store does: a store that fails fails the run, and its end is still journaled.
    const failure = scheduler!.failure;
    const state = failure ? "failed" : stopReason === "interrupted" ? "interrupted" : "succeeded";
    if (state === "failed" && !run.state.keep) await terminateAll(run, failure!);
    const endedAt = new Date().toISOString();
    await run
      .update((r) => ({ ...r, state, endedAt, ...(failure ? { failure } : {}) }))
      .catch((error: unknown) => logger.error({ err: error, run: run.id }, "could not record the run's end in the store; --resume finds it still running"));
    if (state !== "interrupted" && deps.notice) {
      const durationMs = Date.now() - started;
      await deps.notice(runFinishedNotice(persisted, state, endedAt, durationMs, failure)).catch((error: unknown) => logger.warn({ err: error, run: run.id }, "could not raise the run-finished notice"));
    }
    // `complete` finds a task through this index while the run may still go on: running, interrupted, or failed
    // with its instances kept (a task that completes after the failure counts when the run is resumed).
    if (state === "succeeded" || (state === "failed" && !run.state.keep)) await forgetTasks(run);
    journal.write({ type: "run-finished", state, ...(failure ? { failure } : {}), durationMs: Date.now() - started });
    releaseHere(run.id);
    await journal.flush();
    return { id: run.id, state, ...(failure ? { failure } : {}), journal: journal.file };
  })();
  return { id: persisted.id, done };
}

/**
 * What a person hears when a run ends (not when it is interrupted: a resume
 * may follow). Raised once, by the run's one runner; the event id is the
 * run's id and its end, the same for that end wherever it is read, and a
 * resumed run that ends again is a new event.
 */
function runFinishedNotice(run: PersistedRun, state: "succeeded" | "failed", endedAt: string, durationMs: number, failure: PersistedRun["failure"]): NoticeInput {
  const how = failure ? `failed at step ${failure.step}: ${failure.reason}` : `succeeded in ${formatMs(durationMs)}`;
  return {
    kind: "run-finished",
    severity: state === "failed" ? "error" : "info",
    title: `Workflow run ${run.id} (${run.workflow.name}) ${how}`,
    ...(run.caller ? { instanceId: run.caller } : {}),
    eventId: `run-finished-${run.id}-${endedAt}`,
    data: { run: run.id, workflow: run.workflow.name, state, durationMs, ...(failure ? { failure } : {}), journal: run.journal },
  };
}

async function create(deps: EngineDeps, request: RunRequest, runner: PersistedRun["runner"], dir: string): Promise<PersistedRun> {
  const workflow = request.workflow;
  if (!workflow) throw new TmuxClaudeError(RunErrors.INVALID, "A run needs a workflow (parseWorkflow / loadTemplate) or a run id to resume.");
  const caller = request.caller ?? null;
  // Everything the config can tell is checked before anything is spawned: variables, roles, who may spawn whom, limits.
  // With the kernel's plugin names: a merge step without the git plugin is refused here too.
  const { vars } = planWorkflow(workflow, deps.kernel.config, request.vars ?? {}, await callerOf(deps.kernel, caller), deps.kernel.pluginNames());
  const workDir = request.workDir ?? (caller ? (await deps.kernel.get(caller)).workDir : process.cwd());
  for (;;) {
    const id = runId(workflow.name);
    const now = new Date().toISOString();
    const fresh: PersistedRun = {
      id, workflow, vars: { ...vars }, state: "running", startedAt: now, runner, caller, keep: request.keep ?? false, workDir,
      steps: Object.fromEntries(workflow.steps.map((s) => [s.id, { state: "pending" as const }])), tasks: [], journal: journalPath(dir, id),
    };
    let taken = false;
    if (!claimHere(id)) continue;
    const stored = await deps.store.runs.update(id, (current) => {
      taken = current !== undefined;
      return current ?? fresh;
    }).catch((error: unknown) => {
      releaseHere(id);
      throw error;
    });
    if (!taken && stored) return stored;
    releaseHere(id);
  }
}

/**
 * Resume: the run's runner must be gone; steps that succeeded stay done, the
 * rest run again (tasks with live instances re-attach). A failed task, or one
 * a failed run's clean-up stopped, starts afresh: its instance (alive under
 * --keep) and what that spawned are terminated, its spawn step runs again and
 * gives it a new instance with its first message. A new instance rather than
 * the same task sent again to the old one: the old one's conversation holds
 * the attempt that failed, and a resume must behave the same with or without --keep.
 * Of two resumes at once exactly one takes over: the update checks that the
 * run is still as it was judged (same state, same runner), else another
 * resume got there first.
 */
async function takeOver(deps: EngineDeps, id: RunId, runner: PersistedRun["runner"], keep: boolean | undefined): Promise<PersistedRun> {
  if (!claimHere(id)) throw stillRunning(id, runner);
  try {
    return await takeOverClaimed(deps, id, runner, keep);
  } catch (error) {
    releaseHere(id);
    throw error;
  }
}

async function takeOverClaimed(deps: EngineDeps, id: RunId, runner: PersistedRun["runner"], keep: boolean | undefined): Promise<PersistedRun> {
  const existing = await deps.store.runs.get(id);
  if (!existing) throw new TmuxClaudeError(RunErrors.NOT_FOUND, `No run "${id}" in the store. \`tmux-claude runs\` lists the runs.`, { run: id });
  if (existing.state === "succeeded") {
    throw new TmuxClaudeError(RunErrors.NOT_RESUMABLE, `Run "${id}" already succeeded: nothing to resume. Start it again from its inputs with \`tmux-claude run --from ${id}\`.`, { run: id });
  }
  if (existing.state === "running" && (await runnerAlive(existing))) throw stillRunning(id, existing.runner);
  // Refused before anything changes when the instance that started it is gone.
  await callerOf(deps.kernel, existing.caller, id);
  await endLeftoverCommands(existing);
  let taken: PersistedRun["runner"] | undefined;
  let retired: string[] = [];
  const resumed = await deps.store.runs.update(id, (run) => {
    taken = undefined;
    retired = [];
    if (!run) return run;
    if (run.state !== existing.state || !sameRunner(run.runner, existing.runner)) {
      // Changed since it was judged resumable: another runner took it over meanwhile.
      taken = run.runner;
      return run;
    }
    const redo = redoneTasks(run.tasks);
    retired = [...new Set(run.tasks.filter((t) => redo.has(t) && t.instanceId).map((t) => t.instanceId!))];
    const respawn = new Set(run.tasks.filter((t) => redo.has(t)).map((t) => t.step));
    return {
      ...run,
      state: "running",
      runner,
      // Given on resume (--keep / --no-keep): from now on; else as the run was started.
      keep: keep ?? run.keep,
      failure: undefined,
      endedAt: undefined,
      steps: Object.fromEntries(Object.entries(run.steps).map(([step, s]) => [step, s.state === "succeeded" && !respawn.has(step) ? s : { state: "pending" as const }])),
      // A completed task never runs again.
      tasks: run.tasks.map((t) => (redo.has(t) ? { step: t.step, index: t.index, ...(t.task !== undefined ? { task: t.task } : {}), state: "spawning" as const } : t)),
    };
  });
  if (taken) throw stillRunning(id, taken);
  if (!resumed) throw new TmuxClaudeError(RunErrors.NOT_FOUND, `Run "${id}" was removed from the store while it was being resumed.`, { run: id });
  // Parents first: a cascade takes their children along, and one that is gone already is no error.
  for (const instance of retired.sort((a, b) => depth(a) - depth(b))) await terminateQuietly(deps.kernel, deps.logger ?? deps.kernel.logger, instance);
  return resumed;
}

function stillRunning(id: RunId, runner: PersistedRun["runner"]): TmuxClaudeError {
  const where =
    runner.host !== os.hostname()
      ? `process ${runner.pid} on host ${runner.host} (it cannot be checked from here)`
      : runner.pid === process.pid
        ? `this process (${runner.pid}) already`
        : `process ${runner.pid}`;
  return new TmuxClaudeError(RunErrors.NOT_RESUMABLE, `Run "${id}" is still being run by ${where}. Wait for it to end, or stop that process and resume again.`, { run: id, runner });
}

/** The tasks a resume starts afresh: the failed ones, and unfinished ones whose instance a failed one's spawned (its termination takes them along). */
function redoneTasks(tasks: readonly TaskState[]): Set<TaskState> {
  const failed = tasks.filter((t) => t.state === "failed");
  const below = failed.flatMap((t) => (t.instanceId ? [`${t.instanceId}.`] : []));
  return new Set(tasks.filter((t) => t.state === "failed" || (t.state !== "completed" && t.instanceId !== undefined && below.some((prefix) => t.instanceId!.startsWith(prefix)))));
}

const depth = (instanceId: string): number => instanceId.split(".").length;

async function terminateQuietly(kernel: KernelApi, logger: Logger, id: string): Promise<void> {
  await kernel.terminate(id, { cascade: true }).catch((error: unknown) => {
    if ((error as { code?: string }).code !== "TC_INSTANCE_NOT_FOUND") logger.warn({ err: error, instance: id }, "terminating a workflow task's instance failed");
  });
}

/** A `run:` command a killed runner left running ends before its step runs again: never two copies at once. */
async function endLeftoverCommands(run: PersistedRun): Promise<void> {
  for (const [step, entry] of Object.entries(run.steps)) {
    if (!entry.process) continue;
    await endLeftoverGroup(entry.process, `The command of step "${step}" that the run's last runner started`, KILL_GRACE_MS).catch((error: unknown) => {
      throw new TmuxClaudeError(RunErrors.NOT_RESUMABLE, `Run "${run.id}": ${error instanceof Error ? error.message : String(error)}.`, { run: run.id, step, process: entry.process });
    });
  }
}

/** Who runs the workflow, as the parent rule needs it: the root, or an instance's role and depth. */
async function callerOf(kernel: KernelApi, caller: string | null, resumed?: RunId): Promise<Caller> {
  if (caller === null) return ROOT_CALLER;
  const record = await kernel.get(caller).catch((error: unknown) => {
    if (resumed === undefined || (error as { code?: string }).code !== "TC_INSTANCE_NOT_FOUND") throw error;
    // Its top-level instances would have no parent, and run_status no one to show the run to.
    throw new TmuxClaudeError(
      RunErrors.NOT_RESUMABLE,
      `Run "${resumed}" was started by instance ${caller} (through the run_workflow tool), which is gone: the run's top-level instances were its children and it alone may see the run. Start the run again from its inputs with \`tmux-claude run --from ${resumed}\` (as the root), or from a live instance with run_workflow.`,
      { run: resumed, caller },
    );
  });
  return { role: record.role, depth: record.depth };
}

/** A name part longer than this is cut, with a hash of the whole name: the store takes keys of up to 128 characters. */
const MAX_SLUG = 64;

/** `<workflow name>-<yyyymmdd-hhmmss>-<4 hex>` (a long name: its first characters and a hash of it). */
export function runId(name: string, now = new Date()): RunId {
  const full = name.toLowerCase().replace(/[^a-z0-9]+/gu, "-").replace(/^-+|-+$/gu, "") || "workflow";
  const slug = full.length <= MAX_SLUG ? full : `${full.slice(0, MAX_SLUG - 9).replace(/-+$/u, "")}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
  const stamp = now.toISOString().replace(/[-:]/gu, "").replace("T", "-").slice(0, 15);
  return `${slug}-${stamp}-${randomBytes(2).toString("hex")}`;
}

async function runTimedOut(run: RunContext, scheduler: Scheduler, timeoutMs: number): Promise<void> {
  const running = Object.entries(run.state.steps).filter(([, s]) => s.state === "running").map(([id]) => id);
  await scheduler.fail({ step: running[0] ?? "(run)", reason: `the workflow's timeout of ${formatMs(timeoutMs)} passed${running.length ? ` while ${running.join(", ")} ran` : ""}` });
}

/**
 * A failed run leaves nothing running (unless keep): every instance it
 * spawned, and what they spawned. Tasks still at work are recorded failed
 * ("stopped"), so that a resume gives them new instances instead of finding
 * their instances gone.
 */
async function terminateAll(run: RunContext, failure: TaskFailure): Promise<void> {
  const reason = `stopped: the run failed at step "${failure.step}"`;
  const at = new Date().toISOString();
  const unfinished = (t: TaskState) => t.state === "working" || t.state === "spawning";
  // A store that refuses the write fails nothing here: the instances are ended all the same.
  const after = await run
    .update((r) => ({ ...r, tasks: r.tasks.map((t) => (unfinished(t) ? { ...t, state: "failed" as const, reason, completedAt: at } : t)) }))
    .catch((error: unknown) => (run.logger.error({ err: error, run: run.id }, "could not record the tasks a failed run stopped"), run.state));
  for (const task of after.tasks.filter((t) => t.state === "failed" && t.reason === reason && t.completedAt === at)) {
    run.journal.write({ type: "task-failed", step: task.step, index: task.index, ...(task.instanceId ? { instanceId: task.instanceId } : {}), reason: taskFailure(task) });
  }
  // The store's tasks and what this runner spawned itself (a store that refused the write still has none of it).
  const ids = [...new Set([...run.state.tasks.map((t) => t.instanceId).filter((id): id is string => id !== undefined), ...run.instances])];
  // Parents first: a cascade takes their children along, and a child that is gone already is no error.
  for (const id of ids.sort((a, b) => depth(a) - depth(b))) await terminateQuietly(run.kernel, run.logger, id);
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
