// One way to turn a failure into `{ error: { code, message } }` with a status.
import { ErrorCodes, isTmuxClaudeError } from "@tmux-claude/core";
import type { ErrorBody } from "../protocol.js";

/** A failure with the HTTP status it answers with. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 500 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorBody(error: unknown): { status: HttpError["status"]; body: ErrorBody } {
  if (error instanceof HttpError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (isTmuxClaudeError(error)) {
    const status = error.code === ErrorCodes.INSTANCE_NOT_FOUND || error.kind === "not-found" ? 404 : error.kind === "usage" ? 400 : 500;
    return { status, body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: "TC_DASHBOARD_INTERNAL", message: error instanceof Error ? error.message : String(error) } } };
}
