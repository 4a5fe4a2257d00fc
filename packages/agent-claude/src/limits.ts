import type { StatusReport } from "@tmux-claude/core";
import { isLimitNotice, parseLimitReset, saysLimitReached } from "./limit-reset.js";

/** StopFailure kinds that are a usage or rate limit (Claude Code's `error` field). */
const LIMIT_ERRORS = new Set(["rate_limit", "usage_limit"]);

/**
 * A failed turn's report as status `limited`, when the failure is a usage
 * or rate limit: its reset time from the first text that names one (the
 * kernel assumes `limits.usage.unknownResetMs` when none does). Undefined
 * for any other failure.
 */
export function limitReport(error: string | undefined, texts: (string | undefined)[]): Pick<StatusReport, "limitedUntil"> | undefined {
  if (!LIMIT_ERRORS.has(error ?? "") && !texts.some((text) => saysLimitReached(text))) return undefined;
  for (const text of texts) {
    const reset = parseLimitReset(text);
    if (reset) return { limitedUntil: reset.toISOString() };
  }
  return {};
}

/**
 * A turn that ended normally (Stop) whose reply is Claude Code's limit notice
 * (a subscription's limit comes as such a reply): the report for status `limited`.
 */
export function limitInReply(reply: string | undefined): StatusReport | undefined {
  if (!isLimitNotice(reply)) return undefined;
  const reset = parseLimitReset(reply);
  return { reason: reply!.trim(), ...(reset ? { limitedUntil: reset.toISOString() } : {}) };
}

/** Lines of Claude Code's replies and notes: `● text` and `⎿ text`, with their continuation lines. */
const REPLY_MARK = /^\s*[●⎿]\s/u;

/**
 * A usage limit message in the conversation on the screen (the last reply
 * or note, not the prompt the user typed): the report for status `limited`.
 */
export function limitOnScreen(screen: string): StatusReport | undefined {
  const lines = screen.split("\n");
  const start = lines.findLastIndex((line) => REPLY_MARK.test(line));
  if (start < 0) return undefined;
  // The reply with its wrapped lines, up to the blank line or rule after it.
  const end = lines.findIndex((line, i) => i > start && (line.trim() === "" || /^[─━]{3,}/u.test(line.trim())));
  const reply = lines.slice(start, end < 0 ? undefined : end).map((line) => line.trim()).join(" ").replace(REPLY_MARK, "");
  if (!isLimitNotice(reply)) return undefined;
  const reset = parseLimitReset(reply);
  return { reason: reply, ...(reset ? { limitedUntil: reset.toISOString() } : {}) };
}
