// A run's journal as a compact Gantt list at a point of its playback: each
// step's bar from its start to its end (or to the playback's now while it
// runs) on one time axis for the whole run, its state and failure reason,
// and under it the instances its tasks got, their tokens and how each ended.
import { el, time, tokens } from "./format.js";
import type { RunEventView } from "./protocol.js";

interface TaskRow {
  index: number;
  instanceId?: string;
  role?: string;
  state: "spawned" | "completed" | "failed";
  text?: string;
  /** Input + output tokens of its instance so far. */
  tokens?: number;
}

interface StepRow {
  id: string;
  kind: string;
  state: "pending" | "running" | "succeeded" | "failed" | "skipped";
  start?: number;
  end?: number;
  reason?: string;
  tasks: Map<number, TaskRow>;
}

export interface RunAtPoint {
  steps: StepRow[];
  /** The run's end as the journal says it, once that line is shown. */
  finished?: { state: string; failure?: { step: string; reason: string } };
}

/** The run as the first `count` events tell it. Steps: the workflow's (`known`, pending until started), then any step seen later. */
export function runAt(events: readonly RunEventView[], count: number, known: readonly { id: string; kind: string }[] = []): RunAtPoint {
  const steps = new Map<string, StepRow>();
  const step = (id: string, kind = "?") => {
    let row = steps.get(id);
    if (!row) steps.set(id, (row = { id, kind, state: "pending", tasks: new Map() }));
    return row;
  };
  const point: RunAtPoint = { steps: [] };
  // Usage events carry an instance's totals so far: the last one counts.
  const usage = new Map<string, number>();
  for (const s of known) step(s.id, s.kind);
  for (const event of events.slice(0, count)) {
    const at = Date.parse(event.at);
    const str = (key: string) => (typeof event[key] === "string" ? (event[key] as string) : undefined);
    const task = () => {
      const row = step(event.step ?? "?");
      const index = event.index ?? 0;
      let t = row.tasks.get(index);
      if (!t) row.tasks.set(index, (t = { index, state: "spawned" }));
      if (event.instanceId) t.instanceId = event.instanceId;
      return t;
    };
    switch (event.type) {
      case "run-started": {
        // A resumed run starts again: its earlier end (interrupted) no longer stands.
        delete point.finished;
        const workflow = event.workflow as { steps?: { id: string; kind: string }[] } | undefined;
        for (const s of workflow?.steps ?? []) step(s.id, s.kind);
        break;
      }
      case "step-started": {
        const row = step(event.step ?? "?", str("kind"));
        // Started again (a resume): the bar is the last attempt's, as replay's timeline and the step's durationMs are.
        row.start = at;
        Object.assign(row, { state: "running", end: undefined, reason: undefined });
        break;
      }
      case "step-finished": {
        const row = step(event.step ?? "?");
        row.state = (str("state") as StepRow["state"]) ?? "succeeded";
        row.start ??= at;
        row.end = at;
        row.reason = str("reason");
        break;
      }
      case "spawned":
        Object.assign(task(), { state: "spawned", role: str("role") });
        break;
      case "reattached":
        task();
        break;
      case "usage":
        if (event.instanceId) usage.set(event.instanceId, Number(event.inputTokens ?? 0) + Number(event.outputTokens ?? 0));
        break;
      case "task-completed":
        Object.assign(task(), { state: str("status") === "failed" ? "failed" : "completed", text: str("summary") });
        break;
      case "task-failed":
        Object.assign(task(), { state: "failed", text: str("reason") });
        break;
      case "run-finished":
        point.finished = { state: str("state") ?? "?", ...(event.failure ? { failure: event.failure as { step: string; reason: string } } : {}) };
        break;
    }
  }
  point.steps = [...steps.values()];
  for (const row of point.steps) for (const t of row.tasks.values()) if (t.instanceId && usage.has(t.instanceId)) t.tokens = usage.get(t.instanceId);
  return point;
}

/** Draws the steps at `count` events into `list`, on the axis from the first event to the last. */
export function drawRun(list: HTMLElement, events: readonly RunEventView[], count: number, known: readonly { id: string; kind: string }[]): RunAtPoint {
  const point = runAt(events, count, known);
  const first = events.length > 0 ? Date.parse(events[0]!.at) : 0;
  const span = Math.max(1, (events.length > 0 ? Date.parse(events.at(-1)!.at) : 0) - first);
  const now = count > 0 ? Date.parse(events[count - 1]!.at) : first;
  const percent = (ms: number) => `${(((ms - first) / span) * 100).toFixed(2)}%`;
  list.replaceChildren(
    ...point.steps.map((row) => {
      const item = el("li", { className: "run-step", testid: "run-step", data: { step: row.id, state: row.state } });
      const bar = el("span", { className: "bar" });
      if (row.start !== undefined) {
        const end = row.end ?? now;
        bar.style.setProperty("--from", percent(row.start));
        bar.style.setProperty("--to", percent(Math.max(end, row.start)));
        bar.title = `${time(new Date(row.start).toISOString())} – ${row.end !== undefined ? time(new Date(row.end).toISOString()) : "running"}`;
      }
      const track = el("span", { className: "track" });
      track.append(bar);
      const duration = row.start !== undefined && row.end !== undefined ? seconds(row.end - row.start) : row.state === "running" ? "…" : "";
      item.append(
        el("span", { className: "step-id", text: `${row.id} (${row.kind})` }),
        el("span", { className: "step-state", text: row.state }),
        track,
        el("span", { className: "step-duration", text: duration }),
      );
      if (row.reason) item.append(el("span", { className: "step-reason", testid: "run-step-reason", text: row.reason }));
      const tasks = [...row.tasks.values()].sort((a, b) => a.index - b.index);
      if (tasks.length > 0) {
        const sub = el("ul", { className: "run-tasks" });
        for (const t of tasks) {
          const words = [t.instanceId ?? `task ${t.index + 1}`, t.role ? `(${t.role})` : "", t.state, t.tokens !== undefined ? `· ${tokens(t.tokens)} tokens` : "", t.text ? `: ${t.text}` : ""];
          sub.append(el("li", { className: "run-task", testid: "run-task", text: words.filter(Boolean).join(" "), data: { state: t.state } }));
        }
        item.append(sub);
      }
      return item;
    }),
  );
  return point;
}

/** One journal line in words, for the playback's "now" line. */
export function describeEvent(event: RunEventView): string {
  const parts = [time(event.at), event.type];
  for (const key of ["step", "instanceId", "state", "status", "receipt", "outcome"]) {
    if (typeof event[key] === "string") parts.push(event[key] as string);
  }
  const text = event.reason ?? event.summary ?? event.text;
  if (typeof text === "string") parts.push(`: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
  return parts.join(" ");
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}
