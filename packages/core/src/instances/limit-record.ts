// The usage limit's part of a record (status limited, `limitedUntil`), as every status write sets it.
import type { InstanceRecord } from "../store/types.js";

/** The record with `limitedUntil` set (status limited) or removed (any other status). */
export function withLimit(record: InstanceRecord, limitedUntil: string | undefined): InstanceRecord {
  if (limitedUntil !== undefined) return { ...record, limitedUntil };
  if (record.limitedUntil === undefined) return record;
  const { limitedUntil: _, ...rest } = record;
  return rest;
}

/** When a usage limit resets: as the agent said (a valid time), else `unknownResetMs` from now. */
export function resetTime(said: string | undefined, unknownResetMs: number): string {
  const at = said === undefined ? Number.NaN : Date.parse(said);
  return new Date(Number.isNaN(at) ? Date.now() + unknownResetMs : at).toISOString();
}
