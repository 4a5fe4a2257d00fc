// Records as the page sees them: pure functions from what the kernel stores
// to the wire types (protocol.ts), so the live model only diffs and pushes.
import { progressCopy, type InstanceRecord, type InstanceSummary, type Progress } from "@tmux-claude/core";
import type { GitView, InstanceView, MessageView, ProgressView, UsageView } from "../protocol.js";

/** What `kernel.list()` returns: records with their inbox (`messages`) and last `usage`. */
export type RecordLike = InstanceSummary;

/** A subtree's usage: `unpriced` when some instance in it has usage without a price. */
interface Rollup {
  cost?: number;
  tokens: number;
  any: boolean;
  unpriced: boolean;
}

/** Lower is more urgent: 0 = needs you. */
const STATUS_ATTENTION: Record<InstanceRecord["status"], number> = {
  waiting: 0,
  error: 0,
  busy: 1,
  // It goes on by itself at the reset (limits.usage.resumeOnReset) or takes a message then: no answer needed now.
  limited: 1,
  starting: 2,
  idle: 3,
  exited: 4,
};

export function attentionOf(status: InstanceRecord["status"], git: GitView | undefined, unreachable?: string, stalled?: boolean): number {
  // Its node is down: nothing it does reaches anyone until someone starts that node's serve again.
  if (unreachable !== undefined) return 0;
  // Busy but silent for supervision.stallAfterMs: someone should look.
  if (stalled && status === "busy") return 0;
  // An exited instance's last forecast is stale and nothing can act on it: it does not need you.
  if (status !== "exited" && git && git.conflicts.length > 0) return 0;
  return STATUS_ATTENTION[status] ?? 5;
}

/** Views of every record, with subtree usage rolled up and git fields merged in. */
export function instanceViews(records: readonly RecordLike[], node: string, git: ReadonlyMap<string, GitView>): InstanceView[] {
  const children = new Map<string, RecordLike[]>();
  for (const record of records) {
    if (!record.parentId) continue;
    const siblings = children.get(record.parentId) ?? [];
    siblings.push(record);
    children.set(record.parentId, siblings);
  }
  const subtree = new Map<string, Rollup>();
  const rollup = (record: RecordLike, seen: Set<string>): Rollup => {
    const cached = subtree.get(record.id);
    if (cached) return cached;
    // A broken parent chain (a cycle in hand-edited state) must not hang the server.
    if (seen.has(record.id)) return { tokens: 0, any: false, unpriced: false };
    seen.add(record.id);
    const usage = record.usage;
    let cost = usage?.costUsd;
    let tokens = usage ? usage.inputTokens + usage.outputTokens : 0;
    let any = usage !== undefined;
    let unpriced = usage !== undefined && usage.costUsd === undefined;
    for (const child of children.get(record.id) ?? []) {
      const sub = rollup(child, seen);
      if (sub.cost !== undefined) cost = (cost ?? 0) + sub.cost;
      tokens += sub.tokens;
      any ||= sub.any;
      unpriced ||= sub.unpriced;
    }
    const total = { ...(cost !== undefined ? { cost } : {}), tokens, any, unpriced };
    subtree.set(record.id, total);
    return total;
  };
  return records.map((record) => {
    const sub = rollup(record, new Set());
    const gitView = git.get(record.id);
    const usage: UsageView | undefined = sub.any
      ? { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0, ...record.usage, subtreeTokens: sub.tokens, ...(sub.cost !== undefined ? { subtreeCostUsd: sub.cost, ...(sub.unpriced ? { subtreeCostPartial: true as const } : {}) } : {}) }
      : undefined;
    const view: InstanceView = {
      id: record.id,
      parentId: record.parentId,
      role: record.role,
      ...(record.name !== undefined ? { name: record.name } : {}),
      agent: record.agent,
      status: record.status,
      ...(record.statusReason !== undefined ? { statusReason: record.statusReason } : {}),
      ...(record.limitedUntil !== undefined ? { limitedUntil: record.limitedUntil } : {}),
      node: record.tmux.node ?? node,
      ...(record.unreachable !== undefined ? { unreachable: record.unreachable } : {}),
      ...(record.stalled !== undefined && record.status === "busy" ? { stalled: record.stalled } : {}),
      depth: record.depth,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      ...(record.lastReply !== undefined ? { lastReply: record.lastReply } : {}),
      queued: record.queuedIds.length,
      ...(usage ? { usage } : {}),
      ...(record.progress ? { progress: progressView(record.progress) } : {}),
      ...(gitView ? { git: gitView } : {}),
      attention: attentionOf(record.status, gitView, record.unreachable, record.stalled !== undefined),
    };
    return view;
  });
}

/** What the page shows of an instance's progress (not who wrote it or when). */
function progressView(progress: Progress): ProgressView {
  const { source: _source, at: _at, ...shown } = progressCopy(progress);
  return shown;
}

/** Attention first, then creation order: what the page lists first. */
export function byAttention(a: InstanceView, b: InstanceView): number {
  return a.attention - b.attention || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

/**
 * How long a history entry may be `queued` without being in the queue before
 * it counts as delivered: `list` reads the queues and the records one after
 * the other, so an entry written between the two reads is still on its way
 * in, not out.
 */
export const ENQUEUE_GRACE_MS = 5000;

/**
 * The timeline entries of one instance's inbox. The history says `queued` until
 * the delivering process marks it; the store's queue says what still waits:
 * an entry the queue no longer has was delivered (its mark not written, or lost
 * to a kill), and one still queued when the instance was terminated is dropped.
 */
export function messageViews(record: RecordLike, now = Date.now()): MessageView[] {
  const entries = record.messages ?? [];
  const inQueue = new Set(record.queuedIds);
  // FIFO: an entry older than one still in the queue has left it.
  const newestQueued = entries.findLastIndex((entry) => inQueue.has(entry.id));
  return entries.map((entry, index) => {
    let state: MessageView["state"] = entry.state;
    if (state === "queued" && record.terminatedAt !== undefined) state = "dropped";
    else if (state === "queued" && !inQueue.has(entry.id) && (index < newestQueued || now - Date.parse(entry.sentAt) > ENQUEUE_GRACE_MS)) state = "delivered";
    return {
      id: entry.id,
      from: entry.from,
      to: record.id,
      text: entry.text,
      sentAt: entry.sentAt,
      state,
      ...(entry.acceptedAt !== undefined ? { acceptedAt: entry.acceptedAt } : {}),
    };
  });
}
