/**
 * A run read back from its journal: the timeline, each step's time and
 * tokens, where it failed, and the critical path (the chain of needs that
 * decided when the run ended). Works on a finished, failed or interrupted
 * run, and on one that was resumed (its journal then holds several starts).
 */
import { TmuxClaudeError } from "@tmux-claude/core";
import { RunErrors } from "../engine/errors.js";
import type { JournalEvent, RunId, Step, StepState, Workflow } from "../types.js";
import { formatDuration } from "../dsl/duration.js";
import { actorOf, describeEvent, describeRunEnd } from "./describe.js";
import { JournalFold, type Tokens } from "./fold.js";

export type { Tokens } from "./fold.js";

export interface TimelineEntry {
  readonly at: string;
  /** Milliseconds since the run first started. */
  readonly offsetMs: number;
  /** An instance id, a step id, or "run". */
  readonly actor: string;
  /**
   * The event's type, or what the journal shows by a gap: `runner-lost` (a
   * resume found no end after the runner's last event: it was killed or
   * crashed), `attempt-cut` (a step running then, or when the run was
   * interrupted, whose attempt ended unrecorded; the resume runs it again).
   */
  readonly type: JournalEvent["type"] | "runner-lost" | "attempt-cut";
  readonly text: string;
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
  const entry = (at: string, actor: string, type: TimelineEntry["type"], text: string) => timeline.push({ at, offsetMs: offset(at), actor, type, text });
  const fold = new JournalFold();
  /** The latest time in the journal so far: where a runner that left no end was last heard of. */
  let lastAt = first.at;
  /** When the current runner (the last resume) started. */
  let resumedAt: string | undefined;
  for (const event of events) {
    if (event.type === "run-started" && event.resumed) {
      for (const gap of attemptsCut(fold, workflow, lastAt)) entry(gap.at, gap.actor, gap.type, gap.text);
      resumedAt = event.at;
    }
    let text = event.type === "run-finished" ? describeRunEnd(event, fold.resumes > 0 ? offset(event.at) : undefined) : describeEvent(event);
    // Written by the resumed runner, stamped when it was recorded: between the runs, and said so (the timeline is in time order).
    if (text !== undefined && event.type === "task-completed" && resumedAt !== undefined && event.at < resumedAt) text += " (recorded while no runner ran)";
    if (text !== undefined) entry(event.at, actorOf(event), event.type, text);
    if (event.at > lastAt) lastAt = event.at;
    fold.apply(event);
  }
  // In time order: completions recorded while no runner ran are journaled by the runner that resumed, after its start. Stable: same-time events keep their order.
  timeline.sort((a, b) => a.offsetMs - b.offsetMs);
  const end = fold.end;

  const steps = workflow.steps.map((step): StepReport => {
    const { starts, finish, instances } = fold.step(step.id);
    // The last attempt (the one that finished, for a resumed step): its start and its step-finished event's duration are the timeline's.
    const startedAt = fold.attemptStart(step.id);
    const endedAt = finish?.at;
    return {
      id: step.id,
      kind: step.kind,
      needs: step.needs,
      state: fold.stateOf(step.id),
      ...(startedAt === undefined ? {} : { startedAt, startOffsetMs: offset(startedAt) }),
      ...(endedAt === undefined ? {} : { endedAt }),
      // One source with the timeline: the step-finished event's own measure (skipped steps never ran).
      ...(finish && finish.state !== "skipped" ? { durationMs: finish.durationMs } : {}),
      ...(finish?.reason === undefined ? {} : { reason: finish.reason }),
      instances: [...instances],
      tokens: fold.tokens(step.id),
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
    resumes: fold.resumes,
    ...(end?.failure ? { failure: end.failure } : {}),
    steps,
    criticalPath: criticalPath(steps, end ? offset(end.at) : offset(last.at)),
    tokens: fold.tokens(),
    timeline,
  };
}

/**
 * What the journal shows only by a gap, at a resume: the runner before it
 * left no end (it was killed or crashed: the time is its last event's), and
 * the steps running then, or when it was interrupted, ended unrecorded.
 */
function attemptsCut(fold: JournalFold, workflow: Workflow, lastAt: string): Omit<TimelineEntry, "offsetMs">[] {
  const interrupted = fold.end?.state === "interrupted";
  const at = fold.end?.at ?? lastAt;
  const out: Omit<TimelineEntry, "offsetMs">[] = [];
  if (!fold.end) out.push({ at, actor: "run", type: "runner-lost", text: "the runner's last event: it stopped without recording an end (killed or crashed); a resume went on from here" });
  for (const step of workflow.steps) {
    if (fold.stateOf(step.id, false) !== "running") continue;
    const ran = formatDuration(Date.parse(at) - Date.parse(fold.attemptStart(step.id)!));
    // A lost runner's end is known only as its last event: the attempt ran at least that long.
    const how = interrupted ? `stopped after ${ran}: the run was interrupted` : `cut off after at least ${ran}: its runner was gone`;
    out.push({ at, actor: step.id, type: "attempt-cut", text: `step attempt ${how}; the resume runs it again` });
  }
  return out;
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
