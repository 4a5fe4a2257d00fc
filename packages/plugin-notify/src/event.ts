/**
 * What is sent: one shape for both sources (an instance's status change and
 * a plugin's notice), so every endpoint formats one thing.
 */
import type { Notice, StatusChange } from "@tmux-claude/core";

export interface NotifyEvent {
  /** The kernel's event id (a status change) or the notice's: the same event has the same id in every process. */
  readonly eventId: string;
  /** The status reached (`waiting`, `error`, `exited`, `limited`, ...) or the notice's kind (`budget`, `conflict`, `run-finished`, ...). */
  readonly kind: string;
  readonly severity: "info" | "warning" | "error";
  /** One line a person reads. */
  readonly title: string;
  /** `kernel` for a status change, else the plugin that raised the notice. */
  readonly source: string;
  readonly node: string;
  /** ISO time of the event. */
  readonly at: string;
  readonly instance?: { readonly id: string; readonly role?: string; readonly name?: string; readonly parentId?: string | null };
  /** For a status change. */
  readonly status?: { readonly from: string; readonly to: string; readonly reason?: string };
  /** A notice's facts. */
  readonly data?: Readonly<Record<string, unknown>>;
}

const STATUS_SEVERITY: Record<string, NotifyEvent["severity"]> = { error: "error", waiting: "warning", limited: "warning" };

const STATUS_WORDS: Record<string, string> = {
  waiting: "is waiting for you",
  error: "is in error",
  exited: "exited",
  limited: "hit a usage limit",
  idle: "is idle",
  busy: "is working",
  starting: "is starting",
};

export function fromStatusChange(change: StatusChange): NotifyEvent {
  const { instance, from, to, reason } = change;
  const who = instance.name ? `${instance.id} (${instance.name})` : instance.id;
  const what = STATUS_WORDS[to] ?? `is ${to}`;
  return {
    eventId: change.eventId,
    kind: to,
    severity: STATUS_SEVERITY[to] ?? "info",
    title: `${who} ${what}${reason ? `: ${oneLine(reason)}` : ""}`,
    source: "kernel",
    node: change.node,
    at: change.at,
    instance: { id: instance.id, role: instance.role, ...(instance.name ? { name: instance.name } : {}), parentId: instance.parentId },
    status: { from, to, ...(reason ? { reason } : {}) },
  };
}

export function fromNotice(notice: Notice): NotifyEvent {
  return {
    eventId: notice.eventId,
    kind: notice.kind,
    severity: notice.severity,
    title: oneLine(notice.title),
    source: notice.source,
    node: notice.node,
    at: notice.at,
    ...(notice.instanceId ? { instance: { id: notice.instanceId } } : {}),
    ...(notice.data ? { data: notice.data } : {}),
  };
}

/** Titles go into chat lines: one line, of a readable length. */
function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/gu, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
