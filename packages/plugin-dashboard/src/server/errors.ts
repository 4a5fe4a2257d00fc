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

/**
 * Kernel codes that say the request does not fit the instance's state now (it
 * exited, is busy, has children, a limit is reached): the page's mistake to
 * show, not the server's failure, so 409 rather than the 500 their kind implies.
 */
const CONFLICT_CODES = new Set<string>([
  ErrorCodes.INSTANCE_EXITED,
  ErrorCodes.INSTANCE_BUSY,
  ErrorCodes.HAS_CHILDREN,
  ErrorCodes.MAX_INSTANCES,
  ErrorCodes.MAX_DEPTH,
]);

/** By code first (what happened), then by kind; only a real failure of a part (tmux, the store) is a 500. */
function statusOf(code: string, kind: string): HttpError["status"] {
  if (code === ErrorCodes.INSTANCE_NOT_FOUND || kind === "not-found") return 404;
  if (CONFLICT_CODES.has(code)) return 409;
  if (code === ErrorCodes.FORBIDDEN) return 403;
  if (code === ErrorCodes.TMUX_DISCONNECTED || code === ErrorCodes.NODE_UNREACHABLE) return 503;
  return kind === "usage" ? 400 : 500;
}

export function errorBody(error: unknown): { status: HttpError["status"]; body: ErrorBody } {
  if (error instanceof HttpError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (isTmuxClaudeError(error)) {
    return { status: statusOf(error.code, error.kind), body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: "TC_DASHBOARD_INTERNAL", message: error instanceof Error ? error.message : String(error) } } };
}
