/**
 * What the events stream `<prefix>:events` holds, one entry per event of any
 * node: fields `id` (the event id, for dedupe), `type`, `node`, `instance`,
 * and `event`, the event as compact JSON. Compact: the instance as a summary
 * (who, where, status), never the full record, whose `launch.env` holds what
 * config and plugins put in an agent's environment (tokens of the user's own)
 * and whose history, agent and plugin state are large and any reader can get
 * from the store.
 */
import { cutText, type DeliveryEvent, type EventMeta, type InstanceRecord, type InstanceStatus, type ProgressUpdate, type SpawnFailure, type StatusChange, type TokenUsage, type TurnEnded, type TurnEndReason, type UsageUpdate } from "@tmux-claude/core";

/** The kernel hooks whose events travel, and so the event types. */
export const EVENT_TYPES = ["statusChange", "delivered", "turnEnded", "usage", "progress", "afterSpawn", "afterTerminate", "spawnFailed"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An instance as events carry it. */
export interface EventInstance {
  readonly id: string;
  readonly role: string;
  readonly parentId: string | null;
  readonly depth: number;
  readonly name?: string;
  readonly agent: string;
  readonly status: InstanceStatus;
  readonly statusReason?: string;
  /** Status limited: when the usage limit resets (ISO time). */
  readonly limitedUntil?: string;
  /** The node whose tmux runs it. */
  readonly node?: string;
  readonly workDir: string;
}

interface Base extends EventMeta {
  /** The entry's id in the stream (Redis assigns it; ordered): where a reader resumes (`since`). Absent before it is appended. */
  readonly streamId?: string;
}

/** One event of any node, as subscribers and `history` get it. */
export type ClusterEvent = Base &
  (
    | { readonly type: "statusChange"; readonly instance: EventInstance; readonly from: InstanceStatus; readonly to: InstanceStatus; readonly reason?: string }
    | { readonly type: "delivered"; readonly messageId: string; readonly from: string | null; readonly text: string; readonly queued: boolean; readonly threadId?: string; readonly replyTo?: string }
    | { readonly type: "turnEnded"; readonly instance: EventInstance; readonly reason: TurnEndReason; readonly lastReply?: string; readonly prompt?: string; readonly usage?: TokenUsage }
    | { readonly type: "usage"; readonly instance: EventInstance; readonly usage: TokenUsage }
    /** Compact: no task list (any reader gets it from the record). null: the progress was removed. */
    | { readonly type: "progress"; readonly instance: EventInstance; readonly progress: { readonly done: number; readonly total: number; readonly current?: string; readonly source: string } | null }
    | { readonly type: "afterSpawn"; readonly instance: EventInstance; readonly restart: boolean }
    | { readonly type: "afterTerminate"; readonly instance: EventInstance; readonly cascade: boolean }
    | { readonly type: "spawnFailed"; readonly role: string; readonly parentId: string | null; readonly restart: boolean; readonly error: { readonly code?: string; readonly message: string } }
  );

export function eventInstance(record: InstanceRecord): EventInstance {
  return {
    id: record.id,
    role: record.role,
    parentId: record.parentId,
    depth: record.depth,
    ...(record.name !== undefined ? { name: record.name } : {}),
    agent: record.agent,
    status: record.status,
    ...(record.statusReason !== undefined ? { statusReason: record.statusReason } : {}),
    ...(record.limitedUntil !== undefined ? { limitedUntil: record.limitedUntil } : {}),
    ...(record.tmux.node !== undefined ? { node: record.tmux.node } : {}),
    workDir: record.workDir,
  };
}

function meta(event: EventMeta): EventMeta {
  return { eventId: event.eventId, instanceId: event.instanceId, node: event.node, at: event.at };
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));
const cut = (text: string | undefined) => (text === undefined ? undefined : cutText(text));

/** The compact form of each hook's payload. */
export const fromHook = {
  statusChange: (change: StatusChange): ClusterEvent => ({
    ...meta(change),
    type: "statusChange",
    instance: eventInstance(change.instance),
    from: change.from,
    to: change.to,
    ...optional("reason", change.reason),
  }),
  delivered: (event: DeliveryEvent): ClusterEvent => ({
    ...meta(event),
    type: "delivered",
    messageId: event.message.id,
    from: event.message.from,
    text: cutText(event.message.text),
    queued: event.queued,
    // The conversation it belongs to, as on the local hook (README: Conversation threads).
    ...optional("threadId", event.message.threadId),
    ...optional("replyTo", event.message.replyTo),
  }),
  turnEnded: (turn: TurnEnded): ClusterEvent => ({
    ...meta(turn),
    type: "turnEnded",
    instance: eventInstance(turn.instance),
    reason: turn.reason,
    ...optional("lastReply", cut(turn.lastReply)),
    ...optional("prompt", cut(turn.prompt)),
    ...optional("usage", turn.usage),
  }),
  usage: (update: UsageUpdate): ClusterEvent => ({ ...meta(update), type: "usage", instance: eventInstance(update.instance), usage: update.usage }),
  progress: (update: ProgressUpdate): ClusterEvent => {
    const p = update.progress;
    return { ...meta(update), type: "progress", instance: eventInstance(update.instance), progress: p && { done: p.done, total: p.total, ...optional("current", p.current), source: p.source } };
  },
  afterSpawn: (event: EventMeta, record: InstanceRecord, restart: boolean): ClusterEvent => ({ ...meta(event), type: "afterSpawn", instance: eventInstance(record), restart }),
  afterTerminate: (event: EventMeta, record: InstanceRecord, cascade: boolean): ClusterEvent => ({ ...meta(event), type: "afterTerminate", instance: eventInstance(record), cascade }),
  /** The plan is left out (its env holds the secrets the spawn was given), and so is any secret value of it the error message quotes. */
  spawnFailed: (failure: SpawnFailure, secrets: readonly string[]): ClusterEvent => {
    const { error, plan } = failure;
    const code = typeof (error as { code?: unknown } | null)?.code === "string" ? (error as { code: string }).code : undefined;
    let message = error instanceof Error ? error.message : String(error);
    for (const secret of secrets) if (secret.length >= 8) message = message.split(secret).join("***");
    return { ...meta(failure), type: "spawnFailed", role: plan.role, parentId: plan.parentId, restart: plan.restart, error: { ...optional("code", code), message: cutText(message) } };
  },
};

/** XADD's field list for an event. */
export function entryFields(event: ClusterEvent): string[] {
  return ["id", event.eventId, "type", event.type, "node", event.node, "instance", event.instanceId, "event", JSON.stringify(event)];
}

/** An entry read back (XRANGE, XREAD), with its stream id; undefined for one that is not an event of ours (trimmed, foreign). */
export function parseEntry(streamId: string, fields: string[] | null): ClusterEvent | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== "event") continue;
    try {
      return { ...(JSON.parse(fields[i + 1]!) as ClusterEvent), streamId };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Stream ids (`<ms>-<seq>`) in order. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint?];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint?];
  if (am !== bm) return am < bm ? -1 : 1;
  const sa = as ?? 0n;
  const sb = bs ?? 0n;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/** The first stream id after `id`: XRANGE's start for "after id" (its `(id` form needs Redis 6.2; the store supports 6.0). */
export function nextStreamId(id: string): string {
  const [ms, seq] = id.split("-");
  // A bare `<ms>` stands for all of that millisecond's entries, as XRANGE reads it.
  if (seq === undefined || BigInt(seq) === MAX_SEQ) return `${BigInt(ms!) + 1n}-0`;
  return `${ms}-${BigInt(seq) + 1n}`;
}

/** The largest sequence number of a stream id (a 64-bit unsigned integer). */
export const MAX_SEQ = 18446744073709551615n;

export const STREAM_ID = /^\d+(-\d+)?$/u;
