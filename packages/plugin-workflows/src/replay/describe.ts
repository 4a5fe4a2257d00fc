/**
 * One journal event in words: who did what. The replay's timeline and the
 * progress view's plain lines are the same sentences.
 */
import type { JournalEvent } from "../types.js";
import { formatDuration } from "../dsl/duration.js";
import { counted } from "../dsl/format.js";

/** At most `max` characters on one line, so a long prompt or reply does not flood the timeline. */
export function clip(text: string, max = 80): string {
  const line = text.replace(/\s+/gu, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Who the event is about: an instance, a step, or the run. */
export function actorOf(event: JournalEvent): string {
  switch (event.type) {
    case "spawned":
    case "reattached":
    case "message":
    case "status":
    case "reply":
    case "usage":
    case "merge":
      return event.instanceId;
    case "task-completed":
      return event.instanceId;
    case "task-failed":
      return event.instanceId ?? event.step;
    case "step-started":
    case "step-finished":
    case "command":
      return event.step;
    case "run-started":
    case "run-finished":
      return "run";
  }
}

/** The sentence for an event; undefined for the ones too frequent to list (usage: totals are shown per step). */
export function describeEvent(event: JournalEvent): string | undefined {
  switch (event.type) {
    case "run-started": {
      const vars = Object.entries(event.vars).map(([name, value]) => `${name}=${JSON.stringify(clip(value, 40))}`);
      return `${event.resumed ? "resumed" : "started"} ${event.workflow.name} (${counted(event.workflow.steps.length, "step")}${vars.length > 0 ? `; ${vars.join(", ")}` : ""})`;
    }
    case "step-started":
      return `step started (${event.kind})`;
    case "step-finished":
      return `step ${event.state}${event.state === "skipped" ? "" : ` after ${formatDuration(event.durationMs)}`}${event.reason ? `: ${clip(event.reason, 200)}` : ""}`;
    case "spawned":
      return `spawned as ${event.role} for ${event.step} task ${event.index + 1}, under ${event.parentId ?? "the top level"}`;
    case "reattached":
      return `re-attached for ${event.step} task ${event.index + 1}`;
    case "message":
      return `got "${clip(event.text)}" (${event.receipt})`;
    case "status":
      return event.to === "limited" ? `${event.from} -> limited: usage limit until ${event.until ?? "its reset"}; the task waits for it` : `${event.from} -> ${event.to}`;
    case "reply":
      return `replied: "${clip(event.text)}"`;
    case "task-completed":
      return `completed ${event.step} task ${event.index + 1} (${event.status}, via ${event.via === "tool" ? "the complete tool" : "the end of its turn"})${event.summary ? `: "${clip(event.summary)}"` : ""}`;
    case "task-failed":
      return `${event.step} task ${event.index + 1} failed: ${clip(event.reason, 200)}`;
    case "usage":
      return undefined;
    case "merge":
      return `merged into ${event.into}: ${event.outcome}${event.detail ? ` (${clip(event.detail)})` : ""}`;
    case "command":
      return `ran ${clip(event.command.join(" "), 120)}: ${event.signal ? `killed by ${event.signal}` : `exit ${event.exitCode}`} after ${formatDuration(event.durationMs)}`;
    case "run-finished":
      return describeRunEnd(event);
  }
}

/**
 * The run's end. `totalMs`: the time since the run first started, for a
 * resumed run (its event measures from the resume only), so the line agrees
 * with the replay's header.
 */
export function describeRunEnd(event: Extract<JournalEvent, { type: "run-finished" }>, totalMs?: number): string {
  const took = totalMs === undefined ? formatDuration(event.durationMs) : `${formatDuration(totalMs)} in all (${formatDuration(event.durationMs)} since its last resume)`;
  return `run ${event.state} after ${took}${event.failure ? `: step ${event.failure.step}: ${clip(event.failure.reason, 200)}` : ""}`;
}
