/**
 * An instance's recent inbox on its record (`InstanceRecord.messages`), so
 * every process (a dashboard in serve) sees who sent what and whether it got
 * in. Updaters for `store.update`: pure, and right when run again.
 */
import type { DeliveryReceipt } from "../kernel/messages.js";
import { threadFields } from "./threads.js";
import { MESSAGE_HISTORY_LIMIT, MESSAGE_TEXT_LIMIT, type InstanceRecord, type MessageEntry, type QueuedMessage } from "../store/types.js";

export interface SentMessage {
  id: string;
  text: string;
  from: string | null;
  threadId?: string;
  replyTo?: string;
}

/** A message as its record keeps it: the text cut to MESSAGE_TEXT_LIMIT characters, "…" marking the cut. */
export function messageEntry(message: SentMessage, sentAt: string, state: MessageEntry["state"], acceptedAt?: string): MessageEntry {
  return {
    id: message.id,
    from: message.from,
    text: cutText(message.text),
    sentAt,
    state,
    ...(acceptedAt !== undefined ? { acceptedAt } : {}),
    ...threadFields(message),
  };
}

/** Record a queued message (once: a retried updater, or a delivery that came first, leaves it as it is). */
export function withQueued(entry: MessageEntry): (record: InstanceRecord) => InstanceRecord {
  return (record) => (record.messages?.some((m) => m.id === entry.id) ? record : { ...record, messages: kept([...(record.messages ?? []), entry]) });
}

/**
 * Mark a message delivered, or add it delivered when it was never queued
 * (typed in at once). A queued message is delivered in queue order, so the
 * entries queued before it left the queue before it: one still marked queued
 * lost its mark (its deliverer was killed between the ack and the mark) and
 * is marked delivered too, without a time.
 */
export function withDelivered(entry: MessageEntry & { acceptedAt: string }): (record: InstanceRecord) => InstanceRecord {
  return (record) => {
    const messages = record.messages ?? [];
    const at = messages.findIndex((m) => m.id === entry.id);
    if (at === -1) return { ...record, messages: kept([...messages, { ...entry, state: "delivered" }]) };
    const updated = messages.map((m, i): MessageEntry => {
      if (i === at) return { ...m, state: "delivered", acceptedAt: entry.acceptedAt };
      return i < at && m.state === "queued" ? { ...m, state: "delivered" } : m;
    });
    return { ...record, messages: updated };
  };
}

/**
 * The receipt of a message sent before with this id (a send repeated by a
 * sender that did not get the first answer), from the instance's queue or
 * its history; undefined when it is not known there.
 */
export function earlierReceipt(record: InstanceRecord, queue: readonly QueuedMessage[], messageId: string): DeliveryReceipt | undefined {
  const position = queue.findIndex((m) => m.id === messageId);
  if (position !== -1) return { messageId, instanceId: record.id, state: "queued", position: position + 1, threadId: queue[position]!.threadId ?? messageId };
  const entry = record.messages?.find((m) => m.id === messageId);
  // In the history and no longer queued: delivered (a sender enqueues before it writes the entry, so the entry's "queued"
  // mark outlived its queue item: the deliverer was killed before it could mark it, or has not yet).
  if (entry) return { messageId, instanceId: record.id, state: "delivered", ...(entry.acceptedAt ? { acceptedAt: entry.acceptedAt } : {}), threadId: entry.threadId ?? entry.id };
  return undefined;
}

function kept(messages: MessageEntry[]): MessageEntry[] {
  return messages.length > MESSAGE_HISTORY_LIMIT ? messages.slice(-MESSAGE_HISTORY_LIMIT) : messages;
}

/** `text` cut to `limit` characters, "…" marking the cut (also what plugins that forward texts, like plugin-redis's events, keep). */
export function cutText(text: string, limit = MESSAGE_TEXT_LIMIT): string {
  if (text.length <= limit) return text;
  // Do not split a surrogate pair: the record is JSON, and half an emoji is not text.
  let end = limit - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
