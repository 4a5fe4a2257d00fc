// An instance's progress as the agent reports it: the checks a report must
// pass before anything is written, how it reads in one line, and the roll-up
// of a subtree (get_progress, `tmux-claude progress`). No state of its own.
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { withoutEscapes } from "./output-tail.js";
import type { InstanceRecord, InstanceStatus, Progress, ProgressItem } from "../store/types.js";

/** What `kernel.setProgress` takes: a Progress without its time (the kernel stamps `at`); `source` defaults to "api". */
export type ProgressInput = Omit<Progress, "at" | "source"> & { source?: string };

/** Bounds of a report: a record stays small however chatty the agent is. */
export const PROGRESS_LIMITS = Object.freeze({
  /** Characters of `current` and of each item's text. */
  text: 200,
  /** Entries of `items`. */
  items: 100,
  /** The largest `total` (a count of steps, not of bytes). */
  total: 1_000_000,
  /** Characters of `source`. */
  source: 40,
});

const ITEM_STATES: ReadonlySet<string> = new Set<ProgressItem["state"]>(["pending", "in_progress", "completed"]);

/** Line breaks and tabs: a space each run, so a text stays one line. */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/gu;
/** Any other control character (C0, DEL, C1; an escape sequence's leftovers, a lone ESC). */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/gu;

/**
 * A text of a report as one plain line: escape sequences and control
 * characters removed, line breaks made spaces. Progress texts end up in
 * `list`'s rows, the roll-up's lines and the dashboard; a text from any
 * source (an agent's `progress` call among them) could otherwise forge rows
 * or drive the reader's terminal.
 */
export function plainLine(text: string): string {
  return withoutEscapes(text).replace(BREAKS, " ").replace(CONTROLS, "");
}

/** Control characters but the line feed and tab. */
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/gu;

/**
 * A text as safe to write to a person's terminal: escape sequences and
 * control characters removed, line feeds and tabs kept (plainLine also
 * joins the lines). What agents write (knowledge notes, message texts,
 * replies, blocker reasons, spawn failures' output) reaches the CLI's text
 * output; raw, it could clear the screen, recolour or retitle it. JSON
 * output keeps the data as it is.
 */
export function terminalText(text: string): string {
  return withoutEscapes(text).replace(/\r\n?/gu, "\n").replace(CONTROLS_BUT_LINES, "");
}

/**
 * A report as given to setProgress (by an adapter, the `progress` tool, a
 * plugin), checked: `done` and `total` whole numbers with 0 <= done <= total,
 * `current` and item texts at most PROGRESS_LIMITS.text characters, made
 * plain lines first (plainLine). The error names the values and says what
 * would be right; `where` names the call.
 */
export function checkProgress(value: unknown, where: string): ProgressInput & { source: string } {
  const fail = (what: string): never => {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `${where}: ${what} Nothing was written.`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail(`the progress must be an object { done, total, current? } (got ${JSON.stringify(value)}).`);
  const v = value as Record<string, unknown>;
  const known = new Set(["done", "total", "current", "items", "source"]);
  const unknown = Object.keys(v).filter((key) => !known.has(key));
  if (unknown.length) fail(`unknown field(s) ${unknown.join(", ")}; a progress has done, total, current, items and source.`);
  for (const key of ["done", "total"] as const) {
    const n = v[key];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) fail(`${key} must be a whole number 0 or more (got ${JSON.stringify(n)}).`);
  }
  const done = v.done as number;
  const total = v.total as number;
  if (total > PROGRESS_LIMITS.total) fail(`total ${total} is over ${PROGRESS_LIMITS.total}; count steps, not units of work.`);
  if (done > total) fail(`done ${done} is more than total ${total}; done counts the finished steps of total, so it must be between 0 and ${total} (or raise total).`);
  const current = typeof v.current === "string" ? plainLine(v.current) : v.current;
  if (current !== undefined && typeof current !== "string") fail(`current must be a text, the step being worked on (got ${JSON.stringify(current)}).`);
  if (typeof current === "string" && current.length > PROGRESS_LIMITS.text) fail(`current is ${current.length} characters, over the ${PROGRESS_LIMITS.text} allowed; name the step in a short line.`);
  const source = typeof v.source === "string" ? plainLine(v.source).trim() : (v.source ?? "api");
  if (typeof source !== "string" || source === "" || source.length > PROGRESS_LIMITS.source) fail(`source must be a word of 1 to ${PROGRESS_LIMITS.source} characters (got ${JSON.stringify(v.source)}).`);
  const items = v.items === undefined ? undefined : checkItems(v.items, fail);
  return { done, total, ...(typeof current === "string" && current !== "" ? { current } : {}), ...(items ? { items } : {}), source: source as string };
}

function checkItems(value: unknown, fail: (what: string) => never): ProgressItem[] {
  if (!Array.isArray(value)) return fail(`items must be a list of { text, state } (got ${JSON.stringify(value)}).`);
  if (value.length > PROGRESS_LIMITS.items) fail(`items has ${value.length} entries, over the ${PROGRESS_LIMITS.items} allowed.`);
  return value.map((item: unknown, i) => {
    const raw = (item ?? {}) as Record<string, unknown>;
    const it = typeof raw.text === "string" ? { ...raw, text: plainLine(raw.text) } : raw;
    if (typeof it.text !== "string" || it.text.length > PROGRESS_LIMITS.text) fail(`items[${i}].text must be a text of at most ${PROGRESS_LIMITS.text} characters (got ${JSON.stringify(it.text)?.slice(0, 60)}).`);
    if (typeof it.state !== "string" || !ITEM_STATES.has(it.state)) fail(`items[${i}].state must be pending, in_progress or completed (got ${JSON.stringify(it.state)}).`);
    return { text: it.text as string, state: it.state as ProgressItem["state"] };
  });
}

/** Do two reports say the same (the time they were written aside)? */
export function sameProgress(a: Omit<Progress, "at"> | undefined, b: Omit<Progress, "at"> | undefined): boolean {
  if (!a || !b) return a === b;
  const items = (p: Omit<Progress, "at">) => JSON.stringify(p.items ?? null);
  return a.done === b.done && a.total === b.total && a.current === b.current && a.source === b.source && items(a) === items(b);
}

/** A report as views show it: a copy (items too), so the record's object stays the kernel's. */
export function progressCopy(p: Progress): Progress {
  return { done: p.done, total: p.total, ...(p.current !== undefined ? { current: p.current } : {}), ...(p.items ? { items: p.items.map((i) => ({ ...i })) } : {}), source: p.source, at: p.at };
}

/** One line a person reads: `3/7: Writing tests`. */
export function progressText(progress: Pick<Progress, "done" | "total" | "current">): string {
  return `${progress.done}/${progress.total}${progress.current ? `: ${progress.current}` : ""}`;
}

/** One instance of a roll-up. */
export interface ProgressEntry {
  id: string;
  role: string;
  parentId: string | null;
  status: InstanceStatus;
  /** Busy and flagged stalled (InstanceRecord.stalled): shown as `busy (stalled)`, as `list` does. */
  stalled?: true;
  progress?: Progress;
}

/** The progress of a subtree (or of every instance): each one's, and their sum. */
export interface ProgressRollup {
  /** The subtree's top, or null for every instance. */
  rootId: string | null;
  instances: ProgressEntry[];
  /** Sums over the instances that report progress. */
  done: number;
  total: number;
  /** How many instances report progress, and how many do not. */
  withProgress: number;
  withoutProgress: number;
}

/** `rootId` and everything below it, following parent links of one listing (empty when `rootId` is not in it). */
export function subtreeIds(all: readonly Pick<InstanceRecord, "id" | "parentId">[], rootId: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const r of all) if (r.parentId) children.set(r.parentId, [...(children.get(r.parentId) ?? []), r.id]);
  const inside = new Set<string>();
  if (!all.some((r) => r.id === rootId)) return inside;
  const stack = [rootId];
  while (stack.length) {
    const id = stack.pop()!;
    if (inside.has(id)) continue;
    inside.add(id);
    stack.push(...(children.get(id) ?? []));
  }
  return inside;
}

/** The roll-up of `rootId`'s subtree (null: of every instance), in the listing's order. */
export function progressRollup(all: readonly InstanceRecord[], rootId: string | null): ProgressRollup {
  const inside = rootId === null ? undefined : subtreeIds(all, rootId);
  const instances: ProgressEntry[] = all
    .filter((r) => !inside || inside.has(r.id))
    .map((r) => ({ id: r.id, role: r.role, parentId: r.parentId, status: r.status, ...(r.stalled && r.status === "busy" ? { stalled: true as const } : {}), ...(r.progress ? { progress: r.progress } : {}) }));
  const reporting = instances.filter((i) => i.progress);
  return {
    rootId,
    instances,
    done: reporting.reduce((sum, i) => sum + i.progress!.done, 0),
    total: reporting.reduce((sum, i) => sum + i.progress!.total, 0),
    withProgress: reporting.length,
    withoutProgress: instances.length - reporting.length,
  };
}

/** The roll-up in lines a person reads: the sum, then one line per instance. */
export function rollupText(rollup: ProgressRollup): string {
  const scope = rollup.rootId === null ? "All instances" : `Subtree of "${rollup.rootId}"`;
  if (rollup.instances.length === 0) return `${scope}: no instances.`;
  const lines = [`${scope}: ${rollup.done}/${rollup.total} steps done; ${rollup.withProgress} instance(s) report progress, ${rollup.withoutProgress} do not.`];
  // Columns padded as list pads them; the progress text (the only free-length one) last.
  const rows = rollup.instances.map((i) => [i.id, i.role, i.stalled ? `${i.status} (stalled)` : i.status, i.progress ? progressText(i.progress) : "-"]);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) lines.push(row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join("  "));
  return lines.join("\n");
}
