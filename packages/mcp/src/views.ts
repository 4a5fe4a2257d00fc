import { MESSAGE_HISTORY_LIMIT, progressCopy, progressText, quoteScreen, shownUsage, type DeliveryReceipt, type InstanceRecord, type InstanceSummary, type Progress, type ReadResult, type ThreadMessage } from "@tmux-claude/core";
import type { z } from "zod";
import type * as s from "./schemas.js";

/** What a tool shows of an instance: never its launch environment (which holds its MCP secret). */
export function instanceView(r: InstanceRecord): z.output<typeof s.instanceOutput> {
  return {
    id: r.id,
    role: r.role,
    parentId: r.parentId,
    depth: r.depth,
    name: r.name,
    agent: r.agent,
    status: r.status,
    statusReason: r.statusReason,
    ...(r.limitedUntil !== undefined ? { limitedUntil: r.limitedUntil } : {}),
    workDir: r.workDir,
    createdAt: r.createdAt,
    node: r.tmux.node,
  };
}

export function listedView(r: InstanceSummary): z.output<typeof s.listedInstanceOutput> {
  return { ...instanceView(r), children: r.children, ...(r.unreachable ? { unreachable: r.unreachable } : {}), ...(r.hold ? { paused: r.hold.reason } : {}), ...(r.progress ? { progress: progressView(r.progress) } : {}), ...(r.blocked ? { blocked: r.blocked } : {}), ...(r.stalled ? { stalled: r.stalled } : {}), ...(r.pooled ? { pooled: true as const } : {}), ...pluginFieldsView(r) };
}

/** An instance's progress as tools show it: all of it, who wrote it and when too. */
export function progressView(p: Progress): z.output<typeof s.progressShown> {
  return progressCopy(p);
}

export function receiptView(r: DeliveryReceipt): z.output<typeof s.receiptOutput> {
  return { messageId: r.messageId, instanceId: r.instanceId, state: r.state, acceptedAt: r.acceptedAt, position: r.position, threadId: r.threadId, ...(r.paused !== undefined ? { paused: r.paused } : {}) };
}

export function readView(r: ReadResult): z.output<typeof s.readOutput> {
  return { id: r.id, status: r.status, statusReason: r.statusReason, ...(r.limitedUntil !== undefined ? { limitedUntil: r.limitedUntil } : {}), lastReply: r.lastReply, screen: r.screen, queued: r.queued, ...(r.usage ? { usage: shownUsage(r.usage) } : {}), paused: r.paused, ...(r.progress ? { progress: progressView(r.progress) } : {}), ...(r.stalled ? { stalled: r.stalled } : {}), ...(r.blocked ? { blocked: r.blocked } : {}), ...pluginFieldsView(r) };
}

/** What plugins added (the kernel's `instanceFields` hook), when they did. */
function pluginFieldsView(r: { fields?: Record<string, unknown>; details?: string[] }): { fields?: Record<string, unknown>; details?: string[] } {
  return { ...(r.fields ? { fields: r.fields } : {}), ...(r.details ? { details: r.details } : {}) };
}

export function readText(r: ReadResult): string {
  const limit = r.limitedUntil !== undefined ? ` until ${r.limitedUntil} (its usage limit; queued messages wait for the reset)` : "";
  const stalled = r.stalled ? ` and stalled since ${r.stalled.since}` : "";
  const parts = [`"${r.id}" is ${r.status}${stalled}${limit}${r.statusReason ? ` (${r.statusReason})` : ""}.`];
  if (r.blocked) parts.push(`Blocked: ${r.blocked}.`);
  if (r.paused) parts.push(`Paused: ${r.paused}. Messages to it wait in its queue until it is resumed (resume).`);
  if (r.progress) parts.push(`Progress: ${progressText(r.progress)}.`);
  if (r.queued) {
    const kept = r.status === "exited" ? " They are kept: restart delivers them, terminate drops them." : "";
    parts.push(`${r.queued} message(s) queued for it.${kept}`);
  }
  if (r.usage) parts.push(`Tokens: ${r.usage.inputTokens} in, ${r.usage.outputTokens} out, ${r.usage.cacheReadInputTokens} cache read, ${r.usage.cacheCreationInputTokens} cache write.`);
  if (r.details) parts.push(...r.details);
  if (r.lastReply !== undefined) parts.push(`Last reply:\n${r.lastReply}`);
  parts.push(`Screen:\n${quoteScreen(r.screen, 10_000)}`);
  return parts.join("\n");
}

export function listText(instances: readonly InstanceSummary[]): string {
  if (instances.length === 0) return "No instances.";
  return instances
    .map(
      (i) =>
        `${i.id}  ${i.role}  ${i.unreachable ? `unreachable (${i.unreachable}; last status ${i.status})` : i.limitedUntil !== undefined ? `${i.status} until ${i.limitedUntil}` : i.status}${i.hold ? ` (paused: ${i.hold.reason})` : ""}${i.blocked ? ` (blocked: ${i.blocked})` : ""}${i.progress ? `  ${progressText(i.progress)}` : ""}  parent: ${i.parentId ?? "-"}  children: ${i.children.length ? i.children.join(", ") : "-"}  created: ${i.createdAt}  workDir: ${i.workDir}${i.details ? `  ${i.details.join("  ")}` : ""}`,
    )
    .join("\n");
}

/** The messages between two instances, one line each, oldest first. */
export function conversationText(a: string, b: string, messages: readonly ThreadMessage[]): string {
  if (messages.length === 0) return `No messages between "${a}" and "${b}" in their last ${MESSAGE_HISTORY_LIMIT} each.`;
  const lines = messages.map((m) => `${m.sentAt} ${m.from ?? "root"} -> ${m.to} [${m.state}] (message ${m.id}, thread ${m.threadId ?? m.id}${m.replyTo ? `, reply to ${m.replyTo}` : ""}): ${m.text}`);
  return [`Conversation between "${a}" and "${b}" (oldest first):`, ...lines].join("\n");
}
