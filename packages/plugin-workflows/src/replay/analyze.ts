/**
 * A run read back from its journal: the timeline, each step's time and
 * tokens, where it failed, and the critical path (the chain of needs that
 * decided when the run ended). Works on a finished, failed or interrupted
 * run, and on one that was resumed (its journal then holds several starts).
 */
import { TmuxClaudeError } from "@tmux-claude/core";
import { RunErrors } from "../engine/errors.js";
import type { JournalEvent, RunId, Step, StepState, Workflow } from "../types.js";
import { actorOf, describeEvent } from "./describe.js";

export interface TimelineEntry {
  readonly at: string;
  /** Milliseconds since the run first started. */
  readonly offsetMs: number;
  /** An instance id, a step id, or "run". */
  readonly actor: string;
  readonly type: JournalEvent["type"];
  readonly text: string;
}

export interface Tokens {
  inputTokens: number;
  outputTokens: number;
  /** Undefined when some instance's cost is not known. */
  costUsd?: number;
}

export interface StepReport {
  readonly id: string;
  readonly kind: Step["kind"];
  readonly needs: readonly string[];
  readonly state: StepState;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /**
   * As its step-finished event says (the timeline's "after ..."): from the
   * start of the attempt that finished (startedAt) to its end; a resumed
   * step's earlier attempts are not in it (`restarted` says there were some).
   */
  readonly durationMs?: number;
  readonly startOffsetMs?: number;
  readonly reason?: string;
  readonly instances: readonly string[];
  readonly tokens: Tokens;
  /** It was started again by a resumed run. */
  readonly restarted: boolean;
}

export interface ReplayReport {
  readonly run: RunId;
  readonly workflow: string;
  readonly source: string;
  readonly vars: Readonly<Record<string, string>>;
  /** running: the journal has no run-finished (the runner is still at it, or it crashed and was not resumed). */
  readonly state: "running" | "succeeded" | "failed" | "interrupted";
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly resumes: number;
  readonly failure?: { step: string; reason: string };
  readonly steps: readonly StepReport[];
  /** The needs chain that ended last, first step first, and the time from the run's start to its end. */
  readonly criticalPath: { readonly steps: readonly string[]; readonly durationMs: number };
  readonly tokens: Tokens;
  readonly timeline: readonly TimelineEntry[];
}

export function analyzeJournal(events: readonly JournalEvent[]): ReplayReport {
  const first = events.find((event) => event.type === "run-started");
  if (!first || first.type !== "run-started") {
    throw new TmuxClaudeError(RunErrors.INVALID, `The journal of run ${events[0]?.run ?? "(empty)"} has no run-started event, so there is nothing to replay: the run never got past its start, or this is not a tmux-claude journal.`);
  }
  const workflow: Workflow = first.workflow;
  const t0 = Date.parse(first.at);
  const offset = (at: string) => Date.parse(at) - t0;

  const timeline: TimelineEntry[] = [];
  const stepOf = new Map<string, string>();
  const lastUsage = new Map<string, Tokens>();
  const started = new Map<string, string[]>();
  const finished = new Map<string, Extract<JournalEvent, { type: "step-finished" }>>();
  let end: Extract<JournalEvent, { type: "run-finished" }> | undefined;
  let resumes = 0;
  for (const event of events) {
    const text = describeEvent(event);
    if (text !== undefined) timeline.push({ at: event.at, offsetMs: offset(event.at), actor: actorOf(event), type: event.type, text });
    switch (event.type) {
      case "run-started":
        if (event.resumed) resumes++;
        end = undefined; // a resumed run continues after an earlier end (interrupted)
        break;
      case "step-started":
        started.set(event.step, [...(started.get(event.step) ?? []), event.at]);
        break;
      case "step-finished":
        finished.set(event.step, event);
        break;
      case "spawned":
      case "reattached":
        stepOf.set(event.instanceId, event.step);
        break;
      case "usage":
        // Usage events carry the instance's totals so far (the kernel's usage hook), so the last one counts.
        lastUsage.set(event.instanceId, { inputTokens: event.inputTokens, outputTokens: event.outputTokens, ...(event.costUsd === undefined ? {} : { costUsd: event.costUsd }) });
        break;
      case "run-finished":
        end = event;
        break;
      default:
        break;
    }
  }

  const steps = workflow.steps.map((step): StepReport => {
    const starts = started.get(step.id) ?? [];
    const done = finished.get(step.id);
    const instances = [...stepOf].filter(([, id]) => id === step.id).map(([instance]) => instance);
    // The attempt that finished (a resumed step's last start): its start and its step-finished event's duration are the timeline's.
    const startedAt = done ? (starts.filter((at) => at <= done.at).at(-1) ?? starts[0]) : starts[0];
    const endedAt = done?.at;
    const state: StepState = done ? done.state : startedAt !== undefined ? (end ? "failed" : "running") : end ? "skipped" : "pending";
    return {
      id: step.id,
      kind: step.kind,
      needs: step.needs,
      state,
      ...(startedAt === undefined ? {} : { startedAt, startOffsetMs: offset(startedAt) }),
      ...(endedAt === undefined ? {} : { endedAt }),
      // One source with the timeline: the step-finished event's own measure (skipped steps never ran).
      ...(done && done.state !== "skipped" ? { durationMs: done.durationMs } : {}),
      ...(done?.reason === undefined ? {} : { reason: done.reason }),
      instances,
      tokens: sumTokens(instances.map((instance) => lastUsage.get(instance))),
      restarted: starts.length > 1,
    };
  });

  const last = events.at(-1)!;
  return {
    run: first.run,
    workflow: workflow.name,
    source: workflow.source,
    vars: first.vars,
    state: end?.state ?? "running",
    startedAt: first.at,
    ...(end ? { endedAt: end.at, durationMs: offset(end.at) } : {}),
    resumes,
    ...(end?.failure ? { failure: end.failure } : {}),
    steps,
    criticalPath: criticalPath(steps, end ? offset(end.at) : offset(last.at)),
    tokens: sumTokens([...lastUsage.values()]),
    timeline,
  };
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

/**
 * From the step that finished last (or failed), back along the need that
 * finished last before it: the steps that, had any been faster, would have
 * ended the run sooner.
 */
function criticalPath(steps: readonly StepReport[], totalMs: number): { steps: string[]; durationMs: number } {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const endOf = (step: StepReport) => (step.endedAt === undefined ? -Infinity : Date.parse(step.endedAt));
  const ran = steps.filter((step) => step.endedAt !== undefined);
  const failed = ran.find((step) => step.state === "failed");
  let current: StepReport | undefined = failed ?? ran.reduce<StepReport | undefined>((latest, step) => (latest === undefined || endOf(step) >= endOf(latest) ? step : latest), undefined);
  const path: string[] = [];
  while (current) {
    path.unshift(current.id);
    const needs: StepReport[] = current.needs.map((id) => byId.get(id)).filter((step): step is StepReport => step !== undefined && step.endedAt !== undefined);
    current = needs.reduce<StepReport | undefined>((latest, step) => (latest === undefined || endOf(step) > endOf(latest) ? step : latest), undefined);
  }
  return { steps: path, durationMs: totalMs };
}
