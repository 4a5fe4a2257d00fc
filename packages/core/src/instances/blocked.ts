import type { InstanceRecord } from "../store/types.js";

/**
 * Blocked: an instance that cannot go on without someone: waiting on a
 * question, in error, at a usage limit, or flagged stalled. Says why in one
 * line, or undefined when it is not blocked. Derived from the record alone,
 * so every process (and `list --blocked`) agrees.
 */
export function blockedReason(record: Pick<InstanceRecord, "status" | "statusReason" | "limitedUntil" | "stalled">): string | undefined {
  const reason = record.statusReason ? `: ${record.statusReason}` : "";
  switch (record.status) {
    case "waiting":
      return `waiting on a question${reason}`;
    case "error":
      return `error${reason}`;
    case "limited":
      return `at its usage limit until ${record.limitedUntil ?? "an unknown time"}`;
    case "busy":
      return record.stalled ? `stalled: ${record.stalled.why}` : undefined;
    default:
      return undefined;
  }
}

/** The record without its stall flag when `clear` (a status change ends a stall). */
export function unstalled(record: InstanceRecord, clear: boolean): InstanceRecord {
  if (!clear || record.stalled === undefined) return record;
  const { stalled: _stalled, ...rest } = record;
  return rest;
}
