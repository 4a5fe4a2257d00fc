/**
 * Conversation threads. A thread is no store document of its own: every
 * message carries its `threadId` and `replyTo` in the entries the send path
 * writes anyway (the queue item, the inbox history on the record), and a
 * thread is read back from the inboxes. So a send costs no extra store write,
 * and a thread shows what the inboxes keep: each instance's last
 * MESSAGE_HISTORY_LIMIT (30) messages, while its record exists.
 */
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord, MessageEntry } from "../store/types.js";
import { MESSAGE_HISTORY_LIMIT } from "../store/types.js";
import { MESSAGE_ID } from "./send-input.js";

/** One message of a thread or conversation, as the inboxes keep it, with its recipient. */
export interface ThreadMessage extends MessageEntry {
  /** The instance whose inbox holds it (the recipient). */
  to: string;
}

/** Check a send's `threadId`/`replyTo` (spelled like message ids), naming the bad one. */
export function checkThreadOptions(id: string, options: { threadId?: unknown; replyTo?: unknown }): void {
  for (const key of ["threadId", "replyTo"] as const) {
    const value = options[key];
    if (value === undefined || (typeof value === "string" && MESSAGE_ID.test(value))) continue;
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `${key} for the message to "${id}" must be a message id (1-128 letters, digits, '.', '_', ':' or '-' starting with a letter or digit), got ${JSON.stringify(value)}. Use the threadId or messageId a send returned, or leave it out.`,
      { id, [key]: value },
    );
  }
}

/**
 * The thread a new message joins: the one asked for; else the replied-to
 * message's, found in the records the caller gives (the target's, then the
 * sender's: a reply usually answers a message in the sender's own inbox);
 * else a new one named after the message. A reply whose message is in
 * neither history (older than the last MESSAGE_HISTORY_LIMIT) needs its threadId.
 */
export async function threadOfNew(
  messageId: string,
  options: { threadId?: string; replyTo?: string },
  recent: RecentThreads,
  target: InstanceRecord,
  sender: () => Promise<InstanceRecord | undefined>,
): Promise<string> {
  const threadId = options.threadId ?? (options.replyTo === undefined ? messageId : (recent.get(options.replyTo) ?? (await threadInHistories(options.replyTo, [async () => target, sender]))));
  recent.remember(messageId, threadId);
  return threadId;
}

/**
 * The threads of the messages this process sent last: a message typed in at
 * once reaches its history with the instance's next write, so an answer to it
 * from this process (serve, where agents' MCP sends arrive) finds it here first.
 */
export class RecentThreads {
  private readonly threads = new Map<string, string>();
  constructor(private readonly limit = 1_000) {}

  get(messageId: string): string | undefined {
    return this.threads.get(messageId);
  }

  remember(messageId: string, threadId: string): void {
    this.threads.delete(messageId);
    this.threads.set(messageId, threadId);
    if (this.threads.size > this.limit) this.threads.delete(this.threads.keys().next().value!);
  }
}

async function threadInHistories(replyTo: string, histories: readonly (() => Promise<InstanceRecord | undefined>)[]): Promise<string> {
  const ids: string[] = [];
  for (const history of histories) {
    const record = await history();
    if (!record) continue;
    ids.push(record.id);
    const entry = record.messages?.find((m) => m.id === replyTo);
    if (entry) return entry.threadId ?? entry.id;
  }
  throw new TmuxClaudeError(
    ErrorCodes.INVALID_ARGUMENT,
    `replyTo "${replyTo}" is not among the last ${MESSAGE_HISTORY_LIMIT} messages of ${ids.map((id) => `"${id}"`).join(" or ") || "the instances"}, so its thread is unknown. Pass its threadId too (the thread id its send returned, or shown by \`tmux-claude thread\`).`,
    { replyTo },
  );
}

/** Every kept message of a thread, oldest first (by the time it was sent). */
export function threadMessages(records: readonly Pick<InstanceRecord, "id" | "messages">[], threadId: string): ThreadMessage[] {
  return inOrder(records.flatMap((r) => (r.messages ?? []).filter((m) => (m.threadId ?? m.id) === threadId).map((m) => ({ ...m, to: r.id }))));
}

/**
 * The kept messages between two parties, both ways, oldest first. `null` is
 * the root (a person, the CLI): it has no inbox, so only what it sent shows.
 */
export function conversation(records: readonly Pick<InstanceRecord, "id" | "messages">[], a: string | null, b: string | null): ThreadMessage[] {
  const between = (to: string, from: string | null) => records.filter((r) => r.id === to).flatMap((r) => (r.messages ?? []).filter((m) => m.from === from).map((m) => ({ ...m, to })));
  return inOrder([...(a !== null ? between(a, b) : []), ...(b !== null && b !== a ? between(b, a) : [])]);
}

/**
 * Oldest first by the time each was sent, except that a reply never comes
 * before the message it answers: clocks of different nodes may disagree,
 * and messages sent in one millisecond tie.
 */
function inOrder(messages: ThreadMessage[]): ThreadMessage[] {
  const byTime = [...messages].sort((x, y) => (x.sentAt < y.sentAt ? -1 : x.sentAt > y.sentAt ? 1 : 0));
  const present = new Set(byTime.map((m) => m.id));
  const placed = new Set<string>();
  const waiting = new Map<string, ThreadMessage[]>();
  const out: ThreadMessage[] = [];
  const place = (message: ThreadMessage) => {
    out.push(message);
    placed.add(message.id);
    const replies = waiting.get(message.id) ?? [];
    waiting.delete(message.id);
    replies.forEach(place);
  };
  for (const message of byTime) {
    const parent = message.replyTo;
    if (parent !== undefined && parent !== message.id && present.has(parent) && !placed.has(parent)) waiting.set(parent, [...(waiting.get(parent) ?? []), message]);
    else place(message);
  }
  // Only a corrupt reply cycle leaves any: they keep their time order.
  out.push(...[...waiting.values()].flat().sort((x, y) => (x.sentAt < y.sentAt ? -1 : x.sentAt > y.sentAt ? 1 : 0)));
  return out;
}

/** A message's thread fields, present ones only (the store and the hooks get no undefined keys). */
export function threadFields(message: { threadId?: string; replyTo?: string }): { threadId?: string; replyTo?: string } {
  return { ...(message.threadId !== undefined ? { threadId: message.threadId } : {}), ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}) };
}
