/** Reading the audit log back: which lines `tmux-claude audit` shows, and how. */
import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
import type { AuditEntry } from "./entry.js";

export interface AuditFilter {
  /** Lines at or after this time. */
  since?: Date;
  /** An instance id or "root". */
  caller?: string;
  /** A tool or command name ("spawn", "git merge"). */
  operation?: string;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO time (`2026-12-05T10:00:00Z`, `2026-12-05`) or a duration back from `now` (`30s`, `10m`, `2h`, `7d`). */
export function parseSince(value: string, now = new Date()): Date {
  const duration = /^(\d+)\s*([smhd])$/u.exec(value.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNITS[duration[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}/u.test(value)) {
    const time = new Date(value);
    if (!Number.isNaN(time.getTime())) return time;
  }
  throw new TmuxClaudeError(
    ErrorCodes.INVALID_ARGUMENT,
    `--since ${JSON.stringify(value)} is neither a time nor a duration. Use an ISO time (2026-12-05T10:00:00Z, 2026-12-05) or a duration back from now (30s, 10m, 2h, 7d).`,
    { since: value },
  );
}

export function matches(entry: AuditEntry, filter: AuditFilter): boolean {
  if (filter.since && !(Date.parse(entry.at) >= filter.since.getTime())) return false;
  if (filter.caller !== undefined && entry.caller !== filter.caller) return false;
  if (filter.operation !== undefined && entry.operation !== filter.operation) return false;
  return true;
}

/** Is this parsed line an audit entry (and not some other JSON a person appended)? */
export function isEntry(value: unknown): value is AuditEntry {
  const v = value as Partial<AuditEntry> | null;
  return typeof v === "object" && v !== null && typeof v.at === "string" && typeof v.caller === "string" && typeof v.operation === "string";
}

/** `ok`, with what it produced (`ok exec-1.mgr-1`, `ok queued`, `ok exit 0`), or the error code. */
export function describeOutcome(entry: AuditEntry): string {
  if (!entry.ok) return entry.error ?? "error";
  const r = entry.result ?? {};
  const facts = [r["instance.id"] ?? r.id, r["receipt.state"] ?? r.state, Array.isArray(r.terminated) ? r.terminated.join(",") : undefined, r.status, r.runId]
    .filter((v) => v !== undefined)
    .map(String);
  if (typeof r.exitCode === "number") facts.push(`exit ${r.exitCode}`);
  return ["ok", ...facts].join(" ");
}
