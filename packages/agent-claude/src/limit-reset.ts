/**
 * When a usage limit resets, from what Claude Code says about it. Known forms
 * (Claude Code's own words, as users reported them, and the API's):
 *
 * - `Claude AI usage limit reached|1750708800` (epoch seconds),
 * - `You've hit your limit · resets 3pm (Europe/Berlin)`, `resets 1:30am (Asia/Dhaka)`,
 * - `Your limit will reset at 9am (America/Chicago).`,
 * - an ISO time (`resets at 2026-12-05T10:05:00Z`),
 * - `try again in 30 seconds` / `retry after 5 minutes` (from `now`).
 *
 * A wall-clock time is the next such time in its zone (the local zone when
 * none is named): `resets 3pm` said at 4pm is tomorrow's 3pm.
 */
export function parseLimitReset(text: string | undefined, now: Date = new Date()): Date | undefined {
  if (!text) return undefined;
  return epochReset(text) ?? isoReset(text) ?? clockReset(text, now) ?? relativeReset(text, now);
}

/**
 * Is the whole text one of Claude Code's own limit notices (not a reply that
 * talks about limits)? Claude Code puts these where a reply would be (a
 * subscription's limit), so a Stop hook's `last_assistant_message` or the
 * last reply on the screen can be one.
 */
export function isLimitNotice(text: string | undefined): boolean {
  if (!text || text.length > 400) return false;
  return /^\s*(?:API Error: (?:Request rejected )?\(?429\)?|Claude (?:AI )?usage limit reached|You[’']ve (?:hit|reached) your (?:usage |session |weekly )?limit|(?:5-hour|session|weekly|Opus|usage) limit reached)/iu.test(text);
}

/** Does the text say the account hit a usage or rate limit? */
export function saysLimitReached(text: string | undefined): boolean {
  if (!text) return false;
  return /usage limit reached|hit your (?:usage )?limit|limit will reset|rate limit|rate_limit|\(429\)|\b429\b.*rate/iu.test(text);
}

function epochReset(text: string): Date | undefined {
  const match = /limit reached\|(\d{9,13})\b/iu.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  return new Date(match[1]!.length > 11 ? value : value * 1000);
}

function isoReset(text: string): Date | undefined {
  const match = /\breset[s]?\b[^\n]*?\b(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))/iu.exec(text);
  if (!match) return undefined;
  const at = Date.parse(match[1]!);
  return Number.isNaN(at) ? undefined : new Date(at);
}

const UNITS: Record<string, number> = { s: 1_000, sec: 1_000, second: 1_000, m: 60_000, min: 60_000, minute: 60_000, h: 3_600_000, hr: 3_600_000, hour: 3_600_000 };

function relativeReset(text: string, now: Date): Date | undefined {
  const match = /\b(?:resets?|try again|retry)(?: after| in)\s+(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b/iu.exec(text);
  if (!match) return undefined;
  const unit = match[2]!.toLowerCase().replace(/s$/u, "");
  const ms = UNITS[unit] ?? UNITS[unit.slice(0, 1)]!;
  return new Date(now.getTime() + Number(match[1]) * ms);
}

function clockReset(text: string, now: Date): Date | undefined {
  const match = /\breset[s]?(?: at)?\s+(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?(?:\s*\(([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)\))?/iu.exec(text);
  if (!match) return undefined;
  let hour = Number(match[1]) % 12;
  if (match[3]!.toLowerCase() === "p") hour += 12;
  const minute = Number(match[2] ?? 0);
  if (minute > 59) return undefined;
  const zone = match[4];
  if (zone && !validZone(zone)) return undefined;
  return nextWallClock(now, hour, minute, zone);
}

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The first instant after `now` whose wall clock in `zone` (default: local) reads hour:minute. */
function nextWallClock(now: Date, hour: number, minute: number, zone: string | undefined): Date {
  const parts = wallClock(now, zone);
  // Today's hour:minute in the zone, as if the zone were UTC, then shifted by the zone's offset at that moment.
  let guess = Date.UTC(parts.year, parts.month - 1, parts.day, hour, minute) - offsetMs(now, zone);
  // Correct for an offset that differs at the guessed time (a daylight-saving change between now and then).
  guess = Date.UTC(parts.year, parts.month - 1, parts.day, hour, minute) - offsetMs(new Date(guess), zone);
  if (guess <= now.getTime()) {
    const tomorrow = Date.UTC(parts.year, parts.month - 1, parts.day + 1, hour, minute);
    guess = tomorrow - offsetMs(new Date(tomorrow - offsetMs(now, zone)), zone);
  }
  return new Date(guess);
}

function wallClock(at: Date, zone: string | undefined): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const format = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
  const get = (type: string) => Number(format.formatToParts(at).find((p) => p.type === type)?.value ?? 0);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

/** The zone's offset from UTC at `at` (positive east of Greenwich). */
function offsetMs(at: Date, zone: string | undefined): number {
  const p = wallClock(at, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}
