/** What the live task list shows, kept up to date from journal events (no clock in here: rendering adds elapsed time). */
import type { JournalEvent, Step, StepState } from "../types.js";

export interface StepRow {
  readonly id: string;
  readonly label: string;
  state: StepState;
  /** Instances the step wants (spawn steps), spawned or re-attached so far, tasks completed and failed. */
  readonly wanted: number;
  spawned: number;
  completed: number;
  failed: number;
  startedAt?: number;
  endedAt?: number;
  reason?: string;
}

export class RunModel {
  run?: string;
  workflow?: string;
  startedAt?: number;
  endedAt?: number;
  state: "starting" | "running" | "succeeded" | "failed" | "interrupted" = "starting";
  rows: StepRow[] = [];
  private readonly stepOf = new Map<string, string>();
  private readonly usage = new Map<string, number>();

  apply(event: JournalEvent): void {
    const at = Date.parse(event.at);
    const row = "step" in event ? this.rows.find((r) => r.id === event.step) : undefined;
    switch (event.type) {
      case "run-started":
        this.run = event.run;
        this.workflow = event.workflow.name;
        this.startedAt ??= at;
        this.endedAt = undefined;
        this.state = "running";
        if (this.rows.length === 0) this.rows = event.workflow.steps.map(toRow);
        break;
      case "step-started":
        if (row) Object.assign(row, { state: "running", startedAt: row.startedAt ?? at, endedAt: undefined });
        break;
      case "step-finished":
        if (row) Object.assign(row, { state: event.state, endedAt: at, ...(event.reason === undefined ? {} : { reason: event.reason }) });
        break;
      case "spawned":
      case "reattached":
        if (!this.stepOf.has(event.instanceId) && row) row.spawned++;
        this.stepOf.set(event.instanceId, event.step);
        break;
      case "task-completed":
        if (row) row.completed++;
        break;
      case "task-failed":
        if (row) row.failed++;
        break;
      case "usage":
        // Totals so far per instance, so the latest replaces the earlier.
        this.usage.set(event.instanceId, event.inputTokens + event.outputTokens);
        break;
      case "run-finished":
        this.state = event.state;
        this.endedAt = at;
        break;
      default:
        break;
    }
  }

  /** Tokens (input + output) of a step's instances, or of the whole run. */
  tokens(step?: string): number {
    let sum = 0;
    for (const [instance, tokens] of this.usage) if (step === undefined || this.stepOf.get(instance) === step) sum += tokens;
    return sum;
  }

  /** Something shows a running clock. */
  get ticking(): boolean {
    return this.state === "running" && this.rows.some((row) => row.state === "running");
  }
}

function toRow(step: Step): StepRow {
  const base = { id: step.id, state: "pending" as const, spawned: 0, completed: 0, failed: 0 };
  switch (step.kind) {
    case "spawn":
      return { ...base, label: `spawn ${step.role}${step.count > 1 ? ` x${step.count}` : ""}`, wanted: step.count };
    case "send":
      return { ...base, label: `send to ${step.to}`, wanted: 0 };
    case "wait":
      return { ...base, label: `wait ${typeof step.for === "string" ? step.for : "any" in step.for ? `any of ${step.for.any.join(", ")}` : step.for.join(", ")}`, wanted: 0 };
    case "merge":
      return { ...base, label: `merge (${step.strategy})`, wanted: 0 };
    case "run":
      return { ...base, label: `run ${step.command.join(" ")}`, wanted: 0 };
  }
}
