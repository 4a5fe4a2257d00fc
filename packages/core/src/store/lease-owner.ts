/**
 * Who holds a lease (a lock or a queue claim) in the embedded store, and
 * whether that holder is gone: its process died, or its lease ran out.
 */
import { randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { errorCode } from "./safe-name.js";

export const HOST = os.hostname();
export const DEFAULT_LEASE_MS = 10_000;

export interface LeaseOwner {
  pid: number;
  /** Process start time (/proc/<pid>/stat field 22), so a reused pid is not taken for the owner. Null where unknown. */
  start: string | null;
  host: string;
  token: string;
  key: string;
  acquiredAt: string;
  /**
   * Epoch ms after which the lease is over unless renewed. Absent in owners
   * written before leases existed: those are judged by their process only.
   */
  expiresAt?: number;
  /** What the holder keeps with its lease (a queue claim: its message and note). */
  data?: Record<string, unknown>;
}

interface ProcStat {
  state: string;
  start: string;
}

let ownStart: string | null | undefined;

function parseProcStat(text: string): ProcStat | undefined {
  // Field 2 (comm) is in parentheses and may itself contain ") ", so split after the last one.
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const start = fields[19];
  if (state === undefined || start === undefined || !/^\d+$/u.test(start)) return undefined;
  return { state, start };
}

function ownStartTime(): string | null {
  if (ownStart === undefined) {
    ownStart = null;
    if (process.platform === "linux") {
      try {
        ownStart = parseProcStat(readFileSync("/proc/self/stat", "utf8"))?.start ?? null;
      } catch {
        ownStart = null;
      }
    }
  }
  return ownStart;
}

/** The process's stat, null when there is no such process, undefined when this cannot be known here. */
async function readProcStat(pid: number): Promise<ProcStat | null | undefined> {
  if (process.platform !== "linux") return undefined;
  try {
    return parseProcStat(await fs.readFile(`/proc/${pid}/stat`, "utf8"));
  } catch (error) {
    return errorCode(error) === "ENOENT" || errorCode(error) === "ESRCH" ? null : undefined;
  }
}

/** A new owner for this process, its lease running `leaseMs` from now. */
export function ownLease(key: string, leaseMs: number, data?: Record<string, unknown>): LeaseOwner {
  return {
    ...(data ? { data } : {}),
    pid: process.pid,
    start: ownStartTime(),
    host: HOST,
    token: `${process.pid}-${ownStartTime() ?? "0"}-${randomBytes(8).toString("hex")}`,
    key,
    acquiredAt: new Date().toISOString(),
    expiresAt: Date.now() + leaseMs,
  };
}

export function isLeaseExpired(owner: LeaseOwner, now = Date.now()): boolean {
  return owner.expiresAt !== undefined && now > owner.expiresAt;
}

async function isOwnerDead(owner: LeaseOwner): Promise<boolean> {
  // Another machine's process table cannot be checked from here: only its lease can end it.
  if (owner.host !== HOST) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if (errorCode(error) === "ESRCH") return true;
    // EPERM: the process exists but belongs to someone else.
  }
  const stat = await readProcStat(owner.pid);
  if (stat === null) return true;
  if (stat === undefined) return false;
  // A killed process stays a zombie until its parent reaps it; it holds nothing any more.
  if (stat.state === "Z" || stat.state === "X") return true;
  return owner.start !== null && stat.start !== owner.start;
}

/** The holder cannot hold it any more: its process is gone (seen at once on this host) or its lease ran out. */
export async function isAbandoned(owner: LeaseOwner): Promise<boolean> {
  return isLeaseExpired(owner) || (await isOwnerDead(owner));
}

export function parseOwner(text: string): LeaseOwner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const owner = value as Partial<LeaseOwner>;
  if (typeof owner.pid !== "number" || !Number.isSafeInteger(owner.pid) || owner.pid <= 0) return undefined;
  if (typeof owner.token !== "string" || !/^[A-Za-z0-9_-]+$/u.test(owner.token)) return undefined;
  return {
    pid: owner.pid,
    start: typeof owner.start === "string" ? owner.start : null,
    host: typeof owner.host === "string" ? owner.host : HOST,
    token: owner.token,
    key: typeof owner.key === "string" ? owner.key : "",
    acquiredAt: typeof owner.acquiredAt === "string" ? owner.acquiredAt : "",
    ...(typeof owner.expiresAt === "number" && Number.isFinite(owner.expiresAt) ? { expiresAt: owner.expiresAt } : {}),
    ...(typeof owner.data === "object" && owner.data !== null ? { data: owner.data } : {}),
  };
}

/** Check a lease option: a positive number of milliseconds. */
export function leaseMsOf(value: number | undefined): number {
  const leaseMs = value ?? DEFAULT_LEASE_MS;
  if (!Number.isFinite(leaseMs) || leaseMs < 30) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `A lease must last at least 30 ms, got ${String(value)}. Pass leaseMs in milliseconds (default ${DEFAULT_LEASE_MS}).`);
  }
  return leaseMs;
}
