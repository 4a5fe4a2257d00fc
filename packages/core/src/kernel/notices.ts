/**
 * `ctx.notice`: a plugin raises a notice, the `notice` hook's taps get it.
 * Checked here, so a bad notice is the raising plugin's error, not a
 * notifier's; a failing tap is logged, never thrown at the raiser.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { Notice, NoticeInput } from "./events.js";
import type { KernelHooks } from "./hooks.js";

const SEVERITIES = new Set(["info", "warning", "error"]);
/**
 * Visible ASCII, bounded: notifiers carry the id in HTTP headers and store
 * keys, where a newline or a non-Latin-1 character cannot go (fetch throws).
 */
const EVENT_ID = /^[\x21-\x7e]{1,200}$/u;

export async function raiseNotice(hooks: KernelHooks, logger: Logger, node: string, source: string, input: NoticeInput): Promise<void> {
  const kind = input?.kind;
  const title = input?.title;
  if (typeof kind !== "string" || !/^[a-z][a-z0-9-]{0,63}$/u.test(kind) || typeof title !== "string" || title.trim() === "") {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Plugin "${source}" raised a notice with kind ${JSON.stringify(kind)} and title ${JSON.stringify(title)}: kind must be lower-case letters, digits and '-' (e.g. "budget"), and title a non-empty line.`,
      { plugin: source, kind },
    );
  }
  const severity = input.severity ?? "info";
  if (!SEVERITIES.has(severity)) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `Plugin "${source}" raised a notice with severity ${JSON.stringify(severity)}; use "info", "warning" or "error".`, { plugin: source, kind });
  }
  if (input.eventId !== undefined && (typeof input.eventId !== "string" || !EVENT_ID.test(input.eventId))) {
    const shown = typeof input.eventId === "string" && input.eventId.length > 80 ? `${JSON.stringify(input.eventId.slice(0, 80))}… (${input.eventId.length} characters)` : JSON.stringify(input.eventId);
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Plugin "${source}" raised a notice with eventId ${shown}: an event id is 1 to 200 visible ASCII characters (no spaces, newlines or accents), e.g. "run-finished-r-1"; leave it out for a random one.`,
      { plugin: source, kind },
    );
  }
  const notice: Notice = {
    ...input,
    eventId: input.eventId ?? randomUUID(),
    kind,
    title,
    severity,
    source,
    node,
    at: new Date().toISOString(),
  };
  await hooks.notice.promise(notice).catch((error: unknown) => logger.error({ err: error, notice: notice.eventId, kind }, "a notice tap failed"));
}
