/**
 * A run's journal folded event by event: each step's starts, finish,
 * instances and tasks, each instance's token usage, the run's starts and end.
 * The live progress list folds events as they come, the replay a whole
 * journal: one reading of the journal, so the two never disagree.
 */
import type { JournalEvent, StepState } from "../types.js";

export interface Tokens {
  inputTokens: number;
  outputTokens: number;
  /** Undefined when some instance's cost is not known. */
  costUsd?: number;
}

type RunStarted = Extract<JournalEvent, { type: "run-started" }>;
type RunFinished = Extract<JournalEvent, { type: "run-finished" }>;

export interface StepFold {
  /** When it started, each time (a resumed run starts it again). */
  readonly starts: string[];
  /** Its finish, unless it started again since. */
  finish?: { readonly at: string; readonly state: "succeeded" | "failed" | "skipped"; readonly reason?: string; readonly durationMs: number };
  /** Instances spawned or re-attached for it, once each, in order. */
  readonly instances: string[];
  completed: number;
  failed: number;
}

export class JournalFold {
  /** The first run-started: the workflow, its variables, when the run began. */
  first?: RunStarted;
  /** The run's end, unless a resume started it again since. */
  end?: RunFinished;
  resumes = 0;
  private readonly stepFolds = new Map<string, StepFold>();
  private readonly stepOf = new Map<string, string>();
  private readonly usage = new Map<string, Tokens>();

  apply(event: JournalEvent): void {
    switch (event.type) {
      case "run-started":
        this.first ??= event;
        if (event.resumed) this.resumes++;
        this.end = undefined; // a resumed run continues after an earlier end (interrupted)
        break;
      case "step-started": {
        const step = this.step(event.step);
        step.starts.push(event.at);
        step.finish = undefined;
        break;
      }
      case "step-finished":
        this.step(event.step).finish = { at: event.at, state: event.state, durationMs: event.durationMs, ...(event.reason === undefined ? {} : { reason: event.reason }) };
        break;
      case "spawned":
      case "reattached":
        if (!this.stepOf.has(event.instanceId)) this.step(event.step).instances.push(event.instanceId);
        this.stepOf.set(event.instanceId, event.step);
        break;
      case "task-completed":
        this.step(event.step).completed++;
        break;
      case "task-failed":
        this.step(event.step).failed++;
        break;
      case "usage":
        // Usage events carry the instance's totals so far (the kernel's usage hook), so the last one counts.
        this.usage.set(event.instanceId, { inputTokens: event.inputTokens, outputTokens: event.outputTokens, ...(event.costUsd === undefined ? {} : { costUsd: event.costUsd }) });
        break;
      case "run-finished":
        this.end = event;
        break;
      default:
        break;
    }
  }

  step(id: string): StepFold {
    let step = this.stepFolds.get(id);
    if (!step) this.stepFolds.set(id, (step = { starts: [], instances: [], completed: 0, failed: 0 }));
    return step;
  }

  /**
   * When its last attempt started: a resumed run that starts a step again
   * starts a new attempt (its finish, if any, is that attempt's), so its time
   * and the step-finished event's duration measure the same span.
   */
  attemptStart(id: string): string | undefined {
    return this.step(id).starts.at(-1);
  }

  /** Its finish's state, else running once started; `ended`: the run ended, so a step still running then did not make it, and one never started was skipped. */
  stateOf(id: string, ended = this.end !== undefined): StepState {
    const step = this.step(id);
    if (step.finish) return step.finish.state;
    if (step.starts.length > 0) return ended ? "failed" : "running";
    return ended ? "skipped" : "pending";
  }

  /** Tokens of a step's instances, or of the whole run. */
  tokens(step?: string): Tokens {
    const parts = [...this.usage].filter(([instance]) => step === undefined || this.stepOf.get(instance) === step).map(([, tokens]) => tokens);
    return sumTokens(parts);
  }
}

function sumTokens(parts: readonly (Tokens | undefined)[]): Tokens {
  const known = parts.filter((part): part is Tokens => part !== undefined);
  const costs = known.map((part) => part.costUsd);
  const total: Tokens = {
    inputTokens: known.reduce((sum, part) => sum + part.inputTokens, 0),
    outputTokens: known.reduce((sum, part) => sum + part.outputTokens, 0),
  };
  // A cost only when every part's is known: a partial sum would look like the whole.
  if (known.length > 0 && costs.every((cost) => cost !== undefined)) total.costUsd = costs.reduce((sum, cost) => sum + cost, 0);
  return total;
}
