/**
 * The slice of the Anthropic Messages API request shape that tests read, and
 * helpers to ask a recorded request the questions rules and assertions ask.
 */

/** One content block. Loose on purpose: Claude Code sends block types we never inspect. */
export interface ContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: string | ContentBlock[];
  is_error?: boolean;
  [key: string]: unknown;
}

export interface Message {
  /** Claude Code 2.1 also sends `system` messages mid-conversation. */
  role: "user" | "assistant" | "system";
  content: string | ContentBlock[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  input_schema?: unknown;
  [key: string]: unknown;
}

export interface MessagesRequestBody {
  model?: string;
  /** Always an array here; empty when the request had none (count_tokens, other endpoints). */
  messages: Message[];
  system?: string | ContentBlock[];
  tools?: ToolDefinition[];
  stream?: boolean;
  max_tokens?: number;
  [key: string]: unknown;
}

export type RequestKind = "messages" | "count_tokens" | "other";

/** Every HTTP request the stand-in saw, in arrival order. */
export interface RecordedRequest {
  /** Position in `model.requests`. */
  index: number;
  kind: RequestKind;
  method: string;
  /** Path without the query, e.g. `/v1/messages`. */
  path: string;
  /** Path with the query, e.g. `/v1/messages?beta=true`. */
  url: string;
  headers: Record<string, string>;
  body: MessagesRequestBody;
  rawBody: string;
  /** `Date.now()` when the body had fully arrived. */
  receivedAt: number;
  /** Which rule answered: its name, `"side-default"`, `"fallback"`; unset for non-messages requests. */
  rule?: string;
}

/** A tool result the client sent back, flattened for assertions. */
export interface ToolResult {
  toolUseId: string;
  /** The result's text; text parts joined with newlines when the content was a list. */
  content: string;
  isError: boolean;
}

const SYSTEM_REMINDER = "<system-reminder>";

function blocksOf(message: Message): ContentBlock[] {
  return typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
}

/**
 * The user messages of the current turn: every one since the last assistant
 * message. Claude Code appends reminders (agent types, deferred tools, MCP
 * server instructions) as user messages of their own after the prompt or the
 * tool results, so the last user message alone may hold none of them.
 */
function currentUserMessages(req: RecordedRequest): Message[] {
  const messages = req.body.messages;
  const lastAssistant = messages.findLastIndex((m) => m.role === "assistant");
  return messages.slice(lastAssistant + 1).filter((m) => m.role === "user");
}

/** True for a Messages API request that carries tools: a turn of the main agent loop. */
export function isMainTurn(req: RecordedRequest): boolean {
  return req.kind === "messages" && (req.body.tools?.length ?? 0) > 0;
}

/** True for a Messages API request without tools, e.g. Claude Code's session-title request. */
export function isSideRequest(req: RecordedRequest): boolean {
  return req.kind === "messages" && (req.body.tools?.length ?? 0) === 0;
}

/**
 * The text the user typed in the current turn (every user message since the
 * last assistant message): text blocks joined with newlines, without the
 * `<system-reminder>` blocks Claude Code adds. Empty when the turn only
 * carries tool results.
 */
export function lastUserText(req: RecordedRequest): string {
  return currentUserMessages(req)
    .flatMap(blocksOf)
    .filter((b) => b.type === "text" && typeof b.text === "string" && !b.text.trimStart().startsWith(SYSTEM_REMINDER))
    .map((b) => b.text as string)
    .join("\n");
}

/** Tool results of the current turn (every user message since the last assistant message): the calls this turn answers. */
export function toolResults(req: RecordedRequest): ToolResult[] {
  return currentUserMessages(req)
    .flatMap(blocksOf)
    .filter((b) => b.type === "tool_result")
    .map((b) => ({
      toolUseId: String(b.tool_use_id ?? ""),
      content:
        typeof b.content === "string"
          ? b.content
          : (b.content ?? [])
              .filter((c) => typeof c.text === "string")
              .map((c) => c.text as string)
              .join("\n"),
      isError: b.is_error === true,
    }));
}

/** Names of the tools the request offers the model, e.g. `Bash`, `mcp__tmux-claude__spawn`. */
export function toolNames(req: RecordedRequest): string[] {
  return (req.body.tools ?? []).map((t) => t.name);
}

export type RequestPredicate = (req: RecordedRequest) => boolean;

function textMatches(text: string, pattern: string | RegExp): boolean {
  return typeof pattern === "string" ? text.includes(pattern) : pattern.test(text);
}

/** Match helpers for `rule({ when })` and `waitForRequest`. */
export const match = {
  mainTurn: isMainTurn,
  sideRequest: isSideRequest,
  lastUserTextIncludes:
    (pattern: string | RegExp): RequestPredicate =>
    (req) =>
      textMatches(lastUserText(req), pattern),
  /** The last user message carries a tool result (optionally for one tool-use id, or containing some text). */
  hasToolResult:
    (filter: { toolUseId?: string; contentIncludes?: string | RegExp } = {}): RequestPredicate =>
    (req) =>
      toolResults(req).some(
        (r) =>
          (filter.toolUseId === undefined || r.toolUseId === filter.toolUseId) &&
          (filter.contentIncludes === undefined || textMatches(r.content, filter.contentIncludes)),
      ),
  toolsInclude:
    (name: string): RequestPredicate =>
    (req) =>
      toolNames(req).includes(name),
  all:
    (...predicates: RequestPredicate[]): RequestPredicate =>
    (req) =>
      predicates.every((p) => p(req)),
  any:
    (...predicates: RequestPredicate[]): RequestPredicate =>
    (req) =>
      predicates.some((p) => p(req)),
} as const;
