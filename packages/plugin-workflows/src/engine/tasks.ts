// Follows the run's tasks while it runs: completions recorded in the store by
// any process (the `complete` tool, a turn's end), the instances' records
// (status, reply, usage: journaled; an exit or error fails the task) and each
// task's timeout. No polling: the store's change feeds and timers.
import type { InstanceRecord, TokenUsage } from "@tmux-claude/core";
import type { SpawnStep, TaskState } from "../types.js";
import { taskKey, type RunContext } from "./context.js";
import { formatMs } from "./format.js";

export interface TaskFailure {
  readonly step: string;
  readonly reason: string;
}

interface Seen {
  status?: string;
  reply?: string;
  usage?: string;
}

export class TaskTracker {
  private readonly journaled = new Map<string, TaskState["state"]>();
  private readonly instances = new Map<string, Seen>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly chains = new Map<string, Promise<void>>();
  private stops: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly run: RunContext,
    private readonly onFailure: (failure: TaskFailure) => void,
  ) {}

  /**
   * Start following: resolves once the feeds are ready and the state was read
   * after that. `journaled`: the tasks whose end the journal already holds (a
   * resumed run's); one that ended while no runner ran is journaled now.
   */
  async start(journaled: ReadonlyMap<string, TaskState["state"]> = new Map()): Promise<void> {
    const docs = this.run.store.runs.watch((key) => key === this.run.id && void this.run.refresh().catch((error: unknown) => this.warn(error, "reading the run's state")));
    const records = this.run.kernel.watch((change) => {
      if (change.kind === "instance" && this.instances.has(change.id)) this.look(change.id);
    });
    this.stops.push(() => docs.stop(), () => records.stop());
    this.stops.push(this.run.onChange(() => this.sawState()));
    await Promise.all([docs.ready, records.ready]);
    for (const [key, state] of journaled) this.journaled.set(key, state);
    await this.run.refresh();
  }

  stop(): void {
    this.stopped = true;
    for (const stop of this.stops) stop();
    this.stops = [];
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Follow a task's instance from now on (its record as it is now is the baseline), and time the task out after `timeoutMs`. */
  follow(task: { step: string; index: number }, instance: InstanceRecord, timeoutMs: number | undefined): void {
    // The run ended (a step that settled late): nothing may outlive it, no timer, no write.
    if (this.stopped) return;
    this.instances.set(instance.id, { status: instance.status, reply: instance.lastReply, usage: usageKey(instance.usage) });
    const key = taskKey(task.step, task.index);
    if (timeoutMs !== undefined && !this.timers.has(key)) {
      const timer = setTimeout(() => void this.fail(task.step, task.index, `timed out after ${formatMs(timeoutMs)} without completing`), timeoutMs);
      timer.unref?.();
      this.timers.set(key, timer);
    }
    // It may have changed between its spawn and now.
    this.look(instance.id);
  }

  /** Mark a task failed (once; a completed task stays completed). A store that refuses the write fails the run from here (the store's feed will not tell). */
  async fail(step: string, index: number, reason: string): Promise<void> {
    await this.run
      .setTask(step, index, (task) => (task && (task.state === "working" || task.state === "spawning") ? { ...task, state: "failed", reason, completedAt: new Date().toISOString() } : undefined))
      .catch((error: unknown) => {
        this.warn(error, `recording task ${index + 1} of step "${step}" failed`);
        this.run.journal.write({ type: "task-failed", step, index, reason });
        this.onFailure({ step, reason: `task ${index + 1} ${reason}` });
      });
  }

  /** Journal what is new in the run's state: tasks completed or failed (by any process). */
  private sawState(): void {
    for (const task of this.run.state.tasks) {
      const key = taskKey(task.step, task.index);
      if ((task.state !== "completed" && task.state !== "failed") || this.journaled.get(key) === task.state) continue;
      this.journaled.set(key, task.state);
      clearTimeout(this.timers.get(key));
      this.timers.delete(key);
      if (task.state === "completed") {
        this.run.journal.write({
          type: "task-completed", step: task.step, index: task.index, instanceId: task.instanceId ?? "", status: task.status ?? "ok",
          ...(task.summary !== undefined ? { summary: task.summary } : {}), ...(task.artifacts ? { artifacts: task.artifacts } : {}), via: task.via ?? "tool",
          ...(task.completedAt ? { at: task.completedAt } : {}),
        });
        void this.stepCompleted(task.step).catch((error: unknown) => this.warn(error, "recording a step's reply"));
      } else {
        const reason = taskFailure(task);
        this.run.journal.write({ type: "task-failed", step: task.step, index: task.index, ...(task.instanceId ? { instanceId: task.instanceId } : {}), reason });
        this.onFailure({ step: task.step, reason });
      }
    }
  }

  /** Every task of a spawn step completed: its summaries become the step's reply (`${{ steps.<id>.reply }}`). */
  private async stepCompleted(stepId: string): Promise<void> {
    const step = this.run.step(stepId) as SpawnStep;
    const tasks = this.run.tasksOf(stepId);
    if (tasks.length < expectedTasks(step) || tasks.some((t) => t.state !== "completed")) return;
    const reply = tasks.length === 1 ? (tasks[0]!.summary ?? "") : tasks.map((t) => `[${t.index + 1}] ${t.summary ?? ""}`).join("\n\n");
    await this.run.update((run) => ({ ...run, steps: { ...run.steps, [stepId]: { ...run.steps[stepId]!, output: { ...run.steps[stepId]?.output, reply } } } }));
  }

  /** Look at an instance's record (one look at a time per instance, in order). */
  private look(id: string): void {
    const chain = (this.chains.get(id) ?? Promise.resolve()).then(() => this.compare(id)).catch((error: unknown) => this.warn(error, `following ${id}`));
    this.chains.set(id, chain);
  }

  private async compare(id: string): Promise<void> {
    const seen = this.instances.get(id);
    if (!seen) return;
    const record = await this.run.kernel.get(id).catch(() => undefined);
    const status = record?.status ?? "exited";
    if (status !== seen.status) {
      this.run.journal.write({ type: "status", instanceId: id, from: seen.status ?? "unknown", to: status, ...(record?.limitedUntil ? { until: record.limitedUntil } : {}) });
      seen.status = status;
    }
    if (record?.lastReply !== undefined && record.lastReply !== seen.reply) {
      this.run.journal.write({ type: "reply", instanceId: id, text: record.lastReply });
      seen.reply = record.lastReply;
    }
    const usage = usageKey(record?.usage);
    if (record?.usage && usage !== seen.usage) {
      this.run.journal.write({ type: "usage", instanceId: id, inputTokens: record.usage.inputTokens, outputTokens: record.usage.outputTokens, ...(record.usage.costUsd !== undefined ? { costUsd: record.usage.costUsd } : {}) });
      seen.usage = usage;
    }
    if (status === "exited" || status === "error") {
      const task = this.run.state.tasks.find((t) => t.instanceId === id && t.state === "working");
      if (!task) return;
      const why = record ? (record.statusReason ?? "no reason given") : "its record is gone (terminated)";
      // taskFailure names the task and its instance.
      await this.fail(task.step, task.index, `${status === "error" ? "failed" : "exited"}: ${why}`);
    }
  }

  private warn(error: unknown, what: string): void {
    this.run.logger.warn({ err: error, run: this.run.id }, `${what} failed`);
  }
}

/** How many tasks a spawn step makes (the DSL sets `count` to the number of tasks when there are tasks). */
export function expectedTasks(step: SpawnStep): number {
  return step.count;
}

/** Why a failed task failed, naming it. */
export function taskFailure(task: TaskState): string {
  const which = `task ${task.index + 1}${task.task ? ` ("${task.task}")` : ""}${task.instanceId ? ` on ${task.instanceId}` : ""}`;
  if (task.status === "failed") return `${which} reported failure through complete: ${task.summary ?? "no summary"}`;
  return `${which} ${task.reason ?? "failed"}`;
}

function usageKey(usage: TokenUsage | undefined): string | undefined {
  return usage ? `${usage.inputTokens}/${usage.outputTokens}/${usage.costUsd ?? ""}` : undefined;
}
