/** What the live task list shows, kept up to date from journal events (no clock in here: rendering adds elapsed time). */
import { mergeHow } from "../dsl/plan.js";
import { JournalFold } from "../replay/fold.js";
import type { JournalEvent, Step, StepState } from "../types.js";

export interface StepRow {
  readonly id: string;
  readonly label: string;
  /** `stopped`: it was running when the run was interrupted (Ctrl-C); a resume runs it again. */
  readonly state: StepState | "stopped";
  /** Instances the step wants (spawn steps), spawned or re-attached so far, tasks completed and failed. */
  readonly wanted: number;
  readonly spawned: number;
  readonly completed: number;
  readonly failed: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
  readonly reason?: string;
}

/** The journal's fold (replay's too) as the list shows it. */
export class RunModel {
  private readonly fold = new JournalFold();
  private labels: { id: string; label: string; wanted: number }[] = [];
  /** When the last resume began (its run-started). */
  private resumedAt: string | undefined;

  apply(event: JournalEvent): void {
    this.fold.apply(event);
    if (event.type === "run-started" && this.labels.length === 0) this.labels = event.workflow.steps.map(toRow);
    if (event.type === "run-started" && event.resumed) this.resumedAt = event.at;
  }

  get run(): string | undefined {
    return this.fold.first?.run;
  }
  get workflow(): string | undefined {
    return this.fold.first?.workflow.name;
  }
  get startedAt(): number | undefined {
    return this.fold.first ? Date.parse(this.fold.first.at) : undefined;
  }
  get endedAt(): number | undefined {
    return this.fold.end ? Date.parse(this.fold.end.at) : undefined;
  }
  get state(): "starting" | "running" | "succeeded" | "failed" | "interrupted" {
    return this.fold.first ? (this.fold.end?.state ?? "running") : "starting";
  }

  get rows(): StepRow[] {
    const end = this.fold.end;
    return this.labels.map((row) => {
      const step = this.fold.step(row.id);
      // The clock of the step's last attempt, as the replay measures it (a resumed step's earlier attempts are not in it).
      const startedAt = this.fold.attemptStart(row.id);
      const state = this.fold.stateOf(row.id, false);
      // A resume (its earlier events given by Progress.earlier) runs again every step that did not succeed: pending until it starts again.
      const lastSeen = step.finish?.at ?? step.starts.at(-1) ?? "";
      if (this.resumedAt !== undefined && state !== "succeeded" && lastSeen < this.resumedAt) {
        return { ...row, state: "pending", spawned: step.instances.length, completed: step.completed, failed: 0 };
      }
      // A step still running when the run was interrupted stopped with it: its clock too.
      if (state === "running" && end?.state === "interrupted") {
        return { ...row, state: "stopped", spawned: step.instances.length, completed: step.completed, failed: step.failed, ...(startedAt === undefined ? {} : { startedAt: Date.parse(startedAt) }), endedAt: Date.parse(end.at) };
      }
      return {
        ...row,
        // While the run goes on a step is what its events say: the list shows the journal as it came.
        state,
        spawned: step.instances.length,
        completed: step.completed,
        failed: step.failed,
        ...(startedAt === undefined ? {} : { startedAt: Date.parse(startedAt) }),
        ...(step.finish ? { endedAt: Date.parse(step.finish.at) } : {}),
        ...(step.finish?.reason === undefined ? {} : { reason: step.finish.reason }),
      };
    });
  }

  /** Tokens (input + output) of a step's instances, or of the whole run. */
  tokens(step?: string): number {
    const { inputTokens, outputTokens } = this.fold.tokens(step);
    return inputTokens + outputTokens;
  }

  /** Something shows a running clock. */
  get ticking(): boolean {
    return this.state === "running" && this.rows.some((row) => row.state === "running");
  }
}

function toRow(step: Step): { id: string; label: string; wanted: number } {
  const base = { id: step.id };
  switch (step.kind) {
    case "spawn":
      return { ...base, label: `spawn ${step.role}${step.count > 1 ? ` x${step.count}` : ""}`, wanted: step.count };
    case "send":
      return { ...base, label: `send to ${step.to}`, wanted: 0 };
    case "wait":
      return { ...base, label: `wait ${typeof step.for === "string" ? step.for : "any" in step.for ? `any of ${step.for.any.join(", ")}` : step.for.join(", ")}`, wanted: 0 };
    case "merge":
      return { ...base, label: step.spec ? `merge ${mergeHow(step)}` : `merge (${step.strategy})`, wanted: 0 };
    case "run":
      return { ...base, label: `run ${step.command.join(" ")}`, wanted: 0 };
  }
}
