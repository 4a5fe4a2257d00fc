/** What the stand-in model answers with: replies, and the rules that choose them. */
import type { RecordedRequest, RequestPredicate } from "./messages.js";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface ToolUseSpec {
  name: string;
  input: Record<string, unknown>;
  /** Defaults to a unique `toolu_standin_<n>`. */
  id?: string;
}

/** A normal assistant message: text, tool calls, or both (text first). */
export interface MessageReply {
  /** Defaults to `"OK"` when there is neither text nor toolUse. */
  text?: string;
  toolUse?: ToolUseSpec | ToolUseSpec[];
  /** Spread the reply over this long (streamed in small deltas), so a client shows a busy agent. */
  delayMs?: number;
  /** Defaults to `tool_use` when there are tool calls, otherwise `end_turn`. */
  stopReason?: "end_turn" | "tool_use" | "max_tokens" | "stop_sequence";
  /** Override the estimated token counts. */
  usage?: Partial<Usage>;
}

/** An API error response, e.g. 429 rate_limit_error, 529 overloaded_error, 500 api_error. */
export interface ErrorReply {
  error: { status: number; type: string; message: string };
  /** Wait this long before answering. */
  delayMs?: number;
  /** Sent as `x-should-retry`; `false` tells the client not to retry. Unset sends no header. */
  shouldRetry?: boolean;
  /** Sent as `retry-after` (seconds). */
  retryAfterSeconds?: number;
  /**
   * More response headers, e.g. a subscription's usage limit as the API
   * reports it: `anthropic-ratelimit-unified-status: rejected` with
   * `anthropic-ratelimit-unified-reset: <epoch seconds>` (see `usageLimitReply`).
   */
  headers?: Record<string, string>;
}

/**
 * A 429 `rate_limit_error` that says when the limit resets: `retry-after`,
 * the unified rate-limit headers a subscription's usage limit carries, and
 * `x-should-retry: false` so the client gives up at once instead of retrying.
 * The default message is Claude Code's own usage-limit form with the reset
 * in epoch seconds (`Claude AI usage limit reached|<seconds>`): with an API
 * key, Claude Code shows the API's message, not the headers.
 */
export function usageLimitReply(resetAt: Date, message?: string): ErrorReply {
  const seconds = Math.max(0, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
  const epoch = String(Math.ceil(resetAt.getTime() / 1000));
  message ??= `Claude AI usage limit reached|${epoch}`;
  return {
    error: { status: 429, type: "rate_limit_error", message },
    shouldRetry: false,
    retryAfterSeconds: seconds,
    headers: {
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-reset": epoch,
      "anthropic-ratelimit-unified-5h-status": "rejected",
      "anthropic-ratelimit-unified-5h-reset": epoch,
      "anthropic-ratelimit-unified-representative-claim": "five_hour",
    },
  };
}

export type Reply = MessageReply | ErrorReply;

export type ReplySource = Reply | ((req: RecordedRequest) => Reply | Promise<Reply>);

/** Which Messages API requests a rule may answer. */
export type RuleScope = "main" | "side" | "any";

export interface RuleSpec {
  /** Shown in `req.rule` and error messages. Defaults to `rule#<n>`. */
  name?: string;
  /** Defaults to always. Combine with the `match` helpers. */
  when?: RequestPredicate;
  reply: ReplySource;
  /** Answer at most this many requests, then step aside. Defaults to unlimited. */
  times?: number;
  /**
   * `main` (default): turns that carry tools. `side`: requests without tools
   * (titles and the like). `any`: both. Keeps a rule that matches the prompt
   * text from being spent on the title request that quotes the same prompt.
   */
  scope?: RuleScope;
}

export interface RuleHandle {
  readonly name: string;
  /** How many requests this rule answered. */
  readonly hits: number;
  /** How many more it may answer (`Infinity` when unlimited). */
  readonly remaining: number;
  remove(): void;
}

export function isErrorReply(reply: Reply): reply is ErrorReply {
  return "error" in reply && reply.error !== undefined;
}

export function toolUsesOf(reply: MessageReply): ToolUseSpec[] {
  return reply.toolUse === undefined ? [] : Array.isArray(reply.toolUse) ? reply.toolUse : [reply.toolUse];
}
