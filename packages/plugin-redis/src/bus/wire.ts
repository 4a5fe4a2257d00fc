/**
 * What travels on the bus, and under which keys (all under `<prefix>:bus:`):
 *
 *   bus:in:<node>        stream of requests for <node>; its consumer group is named <node>
 *   bus:req:<id>         the request's state, JSON: accepted, cancelled or done (with the answer)
 *   bus:reply:<caller>   pub/sub channel of one calling process: "accepted" and "done" notes
 *
 * `<id>` is the idempotency key: a send's message id (minted once by the
 * sending kernel), else a fresh uuid per call. Whoever sets `bus:req:<id>`
 * first (SET NX) decides: the owner (accepted: it will perform the request) or
 * the caller giving up (cancelled: it will never be performed).
 */
import { ErrorCodes, TmuxClaudeError, type ErrorCode, type RouteRequest, type RouteResult } from "@tmux-claude/core";

/** How long a request's state (and so its answer, for a repeated request) is kept. */
export const STATE_TTL_MS = 24 * 60 * 60 * 1_000;
/** A node's request stream is capped (approximately) at this many entries: callers of a node that never starts time out anyway. */
export const STREAM_MAX_LEN = 10_000;

export interface BusKeys {
  inbox(node: string): string;
  state(id: string): string;
  reply(caller: string): string;
}

export function busKeys(prefix: string): BusKeys {
  return {
    inbox: (node) => `${prefix}:bus:in:${node}`,
    state: (id) => `${prefix}:bus:req:${id}`,
    reply: (caller) => `${prefix}:bus:reply:${caller}`,
  };
}

export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export type Answer = { ok: true; result: RouteResult } | { ok: false; error: WireError };

export type RequestState = { state: "accepted"; by: string; take?: string } | { state: "cancelled" } | ({ state: "done"; by: string } & Answer);

/** What the owner publishes on the caller's reply channel. */
export type ReplyNote = { id: string; state: "accepted" } | ({ id: string; state: "done" } & Answer);

/** The idempotency key of a request: a message keeps its id across retries and nodes. */
export function requestId(request: RouteRequest, fresh: () => string): string {
  return request.operation === "send" ? request.message.id : fresh();
}

/** An owner's failure as it travels: a TmuxClaudeError keeps its code, message and details. */
export function toWire(error: unknown, node: string): WireError {
  if (error instanceof TmuxClaudeError) return { code: error.code, message: error.message, details: { ...error.details } };
  const reason = error instanceof Error ? error.message : String(error);
  return { code: ErrorCodes.ROUTE_FAILED, message: `Node "${node}" failed to perform the request: ${reason}.`, details: { node } };
}

/** The owner's error, rebuilt on the caller's side: same code, message and details. */
export function fromWire(error: WireError): TmuxClaudeError {
  return new TmuxClaudeError(error.code as ErrorCode, error.message, error.details);
}

export function parseState(raw: string | null): RequestState | undefined {
  return raw === null ? undefined : (JSON.parse(raw) as RequestState);
}

/**
 * How long the owner may take once it accepted a request: the operation's own
 * timeout (a read that waits, a wait for a delivery) on top of `base`, which
 * covers typing, spawning and restarting.
 */
export function resultBudgetMs(request: RouteRequest, base: number): number {
  switch (request.operation) {
    case "read":
      return base + (request.options.wait ? (request.options.timeoutMs ?? 10 * 60_000) : 0);
    case "waitDelivered":
    case "deliverQueued":
      return base + request.timeoutMs;
    default:
      return base;
  }
}
