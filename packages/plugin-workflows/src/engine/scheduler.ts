// Runs a workflow's steps: each starts once every step it needs succeeded
// (independent ones at the same time); the first failure stops the run:
// running steps are stopped, the rest skipped (never started).
import type { Step, StepOutput } from "../types.js";
import type { GitMergeApi, RunContext } from "./context.js";
import { formatMs } from "./format.js";
import { runCommand } from "./steps/command.js";
import { runMerge } from "./steps/merge.js";
import { runSend } from "./steps/send.js";
import { runSpawn } from "./steps/spawn.js";
import { stepEnv, StepFailure } from "./steps/step-env.js";
import { runWait } from "./steps/wait.js";
import type { TaskFailure, TaskTracker } from "./tasks.js";

/** Why the run's signal was aborted. */
export type StopReason = "failed" | "interrupted";

export class Scheduler {
  private readonly running = new Map<string, Promise<void>>();
  /** Steps this runner started: one whose state the store refused to take is not "pending" for all that. */
  private readonly started = new Set<string>();
  /** Steps whose failure this runner recorded: a spawn step with several failing tasks finishes once, with its first reason. */
  private readonly failedSteps = new Set<string>();
  failure: TaskFailure | undefined;

  constructor(
    private readonly run: RunContext,
    private readonly tracker: TaskTracker,
    private readonly stop: (reason: StopReason) => void,
    private readonly git: () => GitMergeApi | undefined,
  ) {}

  /** Run until every step ended or the run stopped; resolves when nothing runs any more. */
  async execute(): Promise<void> {
    for (;;) {
      if (!this.run.signal.aborted) {
        for (const step of this.run.workflow.steps) {
          const state = this.run.state.steps[step.id]?.state ?? "pending";
          if (state !== "pending" || this.running.has(step.id)) continue;
          const needs = step.needs.map((id) => this.run.state.steps[id]?.state ?? "pending");
          if (needs.every((s) => s === "succeeded")) this.start(step);
        }
      }
      if (this.running.size === 0) break;
      await Promise.race(this.running.values());
    }
    // Whatever did not start will not: its need failed, or the run stopped.
    if (this.failure) {
      for (const step of this.run.workflow.steps) {
        if (this.started.has(step.id) || (this.run.state.steps[step.id]?.state ?? "pending") !== "pending") continue;
        const reason = `not started: step "${this.failure.step}" failed`;
        this.run.journal.write({ type: "step-finished", step: step.id, state: "skipped", reason, durationMs: 0 });
        await this.persist(() => this.run.setStep(step.id, { state: "skipped", reason }), `step "${step.id}" skipped`);
      }
    }
  }

  /**
   * Fail the run (the first failure wins) naming the step and the reason; the
   * step is marked failed. The failure is decided here, in memory, before the
   * store is written: a store that refuses the write (the failure may be the
   * store's) must not turn a failed run into a succeeded one.
   */
  async fail(failure: TaskFailure, output?: StepOutput): Promise<void> {
    const first = !this.failure;
    if (first) {
      this.failure = failure;
      this.stop("failed");
    }
    if (this.failedSteps.has(failure.step)) return;
    this.failedSteps.add(failure.step);
    const entry = this.run.state.steps[failure.step];
    const endedAt = new Date().toISOString();
    this.run.journal.write({ type: "step-finished", step: failure.step, state: "failed", reason: failure.reason, ...(output ? { output } : {}), durationMs: entry?.startedAt ? Date.parse(endedAt) - Date.parse(entry.startedAt) : 0 });
    await this.persist(() => this.run.setStep(failure.step, { state: "failed", endedAt, reason: failure.reason, ...(output ? { output: { ...entry?.output, ...output } } : {}) }), `step "${failure.step}" failed`);
    if (first) await this.persist(() => this.run.update((run) => ({ ...run, failure })), "the run's failure");
  }

  /** A write of a failing run's state: the store refusing it is logged, the run goes on to its end (and --resume finds what was written). */
  private async persist(write: () => Promise<unknown>, what: string): Promise<void> {
    await write().catch((error: unknown) => this.run.logger.warn({ err: error, run: this.run.id }, `could not record ${what} in the store`));
  }

  private start(step: Step): void {
    this.started.add(step.id);
    const running = this.execStep(step).finally(() => this.running.delete(step.id));
    this.running.set(step.id, running);
  }

  private async execStep(step: Step): Promise<void> {
    const startedAt = new Date().toISOString();
    this.run.journal.write({ type: "step-started", step: step.id, kind: step.kind });
    const timeoutMs = step.timeoutMs ?? this.run.options.stepTimeoutMs;
    const own = new AbortController();
    // A spawn step's timeout is its tasks' (tasks.ts): its spawning is bounded by the kernel's spawnTimeout.
    const timer = timeoutMs !== undefined && step.kind !== "spawn" ? setTimeout(() => own.abort("timeout"), timeoutMs) : undefined;
    const signal = AbortSignal.any([this.run.signal, own.signal]);
    const env = stepEnv(this.run, this.tracker, step.id, signal, timeoutMs);
    try {
      // In the try: a store that refuses this write fails the step (and the run), naming the store's error.
      await this.run.setStep(step.id, { state: "running", startedAt, reason: undefined });
      const output = await this.perform(step, env);
      const endedAt = new Date().toISOString();
      const merged = { ...this.run.state.steps[step.id]?.output, ...output };
      await this.run.setStep(step.id, { state: "succeeded", endedAt, output: merged });
      this.run.journal.write({ type: "step-finished", step: step.id, state: "succeeded", output: merged, durationMs: Date.parse(endedAt) - Date.parse(startedAt) });
    } catch (error) {
      if (this.run.signal.aborted) return this.stopped(step, startedAt);
      const reason = own.signal.aborted && !isStepMessage(error) ? `timed out after ${formatMs(timeoutMs ?? 0)}` : message(error);
      await this.fail({ step: step.id, reason }, (error as { output?: StepOutput }).output);
    } finally {
      clearTimeout(timer);
    }
  }

  private perform(step: Step, env: ReturnType<typeof stepEnv>): Promise<StepOutput> {
    switch (step.kind) {
      case "spawn":
        return runSpawn(step, env);
      case "send":
        return runSend(step, env);
      case "wait":
        return runWait(step, env);
      case "run":
        return runCommand(step, env);
      case "merge": {
        const git = this.git();
        // Checked before the run started (index.ts); a config changed under a resumed run lands here.
        if (!git) throw new Error("the git plugin is not registered; add git() to plugins in tmuxclaude.config.ts");
        return runMerge(step, env, git);
      }
    }
  }

  /** A step the run's stop ended: failed because another step failed, or back to pending for `--resume` after an interrupt. */
  private async stopped(step: Step, startedAt: string): Promise<void> {
    if (!this.failure) {
      await this.run.setStep(step.id, { state: "pending", reason: "interrupted" });
      return;
    }
    if (this.run.state.steps[step.id]?.state === "failed") return;
    const reason = `stopped: step "${this.failure.step}" failed`;
    const endedAt = new Date().toISOString();
    await this.run.setStep(step.id, { state: "failed", endedAt, reason });
    this.run.journal.write({ type: "step-finished", step: step.id, state: "failed", reason, durationMs: Date.parse(endedAt) - Date.parse(startedAt) });
  }
}

const isStepMessage = (error: unknown): boolean => error instanceof StepFailure;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
