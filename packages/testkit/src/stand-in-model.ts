/**
 * A scripted stand-in for the Anthropic Messages API on loopback, so the real
 * Claude Code binary can run fully offline. Replies are chosen by ordered
 * rules over the conversation; every request is recorded.
 */
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TestkitError, TestkitErrorCodes } from "./errors.js";
import {
  isMainTurn,
  isSideRequest,
  lastUserText,
  type MessagesRequestBody,
  type RecordedRequest,
  type RequestKind,
  type RequestPredicate,
  toolResults,
} from "./messages.js";
import { TOOL_SEARCH, toolsToSearch } from "./tool-search.js";

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

export interface StandInModelOptions {
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Defaults to 0 (a free port). */
  port?: number;
  /** The reply to side requests no rule answered. Defaults to `{ text: "Stand-in session" }`. */
  sideReply?: ReplySource;
  /** The reply to main turns no rule answered. Defaults to a text saying no rule matched. */
  fallbackReply?: ReplySource;
}

interface Rule {
  name: string;
  when: RequestPredicate;
  reply: ReplySource;
  scope: RuleScope;
  remaining: number;
  hits: number;
}

type ContentOut =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

const MAX_BODY_BYTES = 64 * 1024 * 1024;

function isErrorReply(reply: Reply): reply is ErrorReply {
  return "error" in reply && reply.error !== undefined;
}

function toolUsesOf(reply: MessageReply): ToolUseSpec[] {
  return reply.toolUse === undefined ? [] : Array.isArray(reply.toolUse) ? reply.toolUse : [reply.toolUse];
}

/** About four characters per token, as for English text; enough for usage to look real. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function chunkText(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += 3) chunks.push(words.slice(i, i + 3).join(""));
  return chunks.length > 0 ? chunks : [""];
}

function chunkJson(json: string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < json.length; i += 24) chunks.push(json.slice(i, i + 24));
  return chunks.length > 0 ? chunks : [""];
}

function kindOf(method: string, path: string): RequestKind {
  if (method !== "POST") return "other";
  if (path === "/v1/messages") return "messages";
  if (path === "/v1/messages/count_tokens") return "count_tokens";
  return "other";
}

function describe(req: RecordedRequest): string {
  const base = `${req.method} ${req.url}`;
  if (req.kind !== "messages") return base;
  const tools = isMainTurn(req) ? `${req.body.tools?.length} tools` : "no tools";
  return `${base} (${tools}, last user text ${JSON.stringify(lastUserText(req).slice(0, 60))})`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class StandInModel {
  readonly #server: Server;
  readonly #rules: Rule[] = [];
  readonly #requests: RecordedRequest[] = [];
  readonly #events = new EventEmitter();
  readonly #sideReply: ReplySource;
  readonly #fallbackReply: ReplySource;
  /** Replies held back while their deferred tools are selected, by the id of the ToolSearch call made first. */
  readonly #afterSearch = new Map<string, { rule: string; reply: MessageReply }>();
  #ruleCounter = 0;
  #idCounter = 0;
  #closed: Promise<void> | undefined;

  private constructor(server: Server, options: StandInModelOptions) {
    this.#server = server;
    this.#sideReply = options.sideReply ?? { text: "Stand-in session" };
    this.#fallbackReply =
      options.fallbackReply ??
      ((req) => ({
        text: `[stand-in model] no rule matched this turn (last user text: ${JSON.stringify(lastUserText(req).slice(0, 80))}). Add a rule with model.rule({ when, reply }).`,
      }));
    this.#events.setMaxListeners(0);
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: StandInModelOptions = {}): Promise<StandInModel> {
    const server = createServer();
    const model = new StandInModel(server, options);
    server.on("request", (req, res) => void model.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    return model;
  }

  /** Base URL for `ANTHROPIC_BASE_URL`, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    const address = this.#server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Every request seen so far, in arrival order. */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** Messages API requests that carry tools: the turns of the main agent loop. */
  mainTurns(): RecordedRequest[] {
    return this.#requests.filter(isMainTurn);
  }

  /** Messages API requests without tools (session title and other side requests). */
  sideRequests(): RecordedRequest[] {
    return this.#requests.filter(isSideRequest);
  }

  /** Adds a rule after the existing ones; the first rule that matches answers. */
  rule(spec: RuleSpec): RuleHandle {
    if (spec.times !== undefined && (!Number.isInteger(spec.times) || spec.times < 1)) {
      throw new TestkitError(
        TestkitErrorCodes.INVALID_ARGUMENT,
        `rule times must be a positive integer, got ${String(spec.times)}; omit it for a rule without limit.`,
      );
    }
    const rule: Rule = {
      name: spec.name ?? `rule#${++this.#ruleCounter}`,
      when: spec.when ?? (() => true),
      reply: spec.reply,
      scope: spec.scope ?? "main",
      remaining: spec.times ?? Number.POSITIVE_INFINITY,
      hits: 0,
    };
    this.#rules.push(rule);
    const rules = this.#rules;
    return {
      get name() {
        return rule.name;
      },
      get hits() {
        return rule.hits;
      },
      get remaining() {
        return rule.remaining;
      },
      remove() {
        const i = rules.indexOf(rule);
        if (i >= 0) rules.splice(i, 1);
      },
    };
  }

  /**
   * Resolves with the first request, already recorded or still to come, that
   * matches. Pass `since` (e.g. `model.requests.length` before acting) to only
   * consider requests from that index on.
   */
  waitForRequest(
    predicate: RequestPredicate,
    timeoutMs = 10_000,
    options: { since?: number } = {},
  ): Promise<RecordedRequest> {
    const since = options.since ?? 0;
    let seen: RecordedRequest | undefined;
    try {
      seen = this.#requests.slice(since).find(predicate);
    } catch (error) {
      return Promise.reject(error);
    }
    if (seen) return Promise.resolve(seen);
    if (this.#closed) {
      return Promise.reject(new TestkitError(TestkitErrorCodes.MODEL_CLOSED, "The stand-in model is closed; no more requests will arrive."));
    }
    return new Promise((resolve, reject) => {
      const onRequest = (req: RecordedRequest) => {
        let matched: boolean;
        try {
          matched = predicate(req);
        } catch (error) {
          cleanup();
          reject(error);
          return;
        }
        if (!matched) return;
        cleanup();
        resolve(req);
      };
      const onClose = () => {
        cleanup();
        reject(new TestkitError(TestkitErrorCodes.MODEL_CLOSED, "The stand-in model closed while a test waited for a request."));
      };
      const timer = setTimeout(() => {
        cleanup();
        const recent = this.#requests.slice(since).slice(-5).map(describe);
        reject(
          new TestkitError(
            TestkitErrorCodes.REQUEST_TIMEOUT,
            `No matching request reached the stand-in model at ${this.url} within ${timeoutMs} ms; ` +
              `it saw ${this.#requests.length - since} request(s) since index ${since}` +
              (recent.length > 0 ? `, the last: ${recent.join("; ")}` : "") +
              ". Check that the client got ANTHROPIC_BASE_URL and that the predicate matches.",
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#events.off("request", onRequest);
        this.#events.off("close", onClose);
      };
      this.#events.on("request", onRequest);
      this.#events.once("close", onClose);
    });
  }

  /** Stops listening and drops open connections (including streams in flight). Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#events.emit("close");
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let recorded: RecordedRequest;
    try {
      recorded = await this.#record(req);
    } catch (error) {
      this.#sendError(res, 413, "request_too_large", (error as Error).message);
      return;
    }
    this.#events.emit("request", recorded);
    try {
      if (recorded.kind === "messages") await this.#answerMessages(recorded, res);
      else if (recorded.kind === "count_tokens") this.#sendJson(res, 200, { input_tokens: this.#inputTokens(recorded.body) });
      else this.#sendError(res, 404, "not_found_error", `The stand-in model does not serve ${recorded.method} ${recorded.path}.`);
    } catch (error) {
      // A rule's `when` or `reply` threw: answer like an API failure so the client shows it.
      if (!res.headersSent) {
        this.#sendError(res, 500, "api_error", `stand-in rule ${recorded.rule ?? "?"} threw: ${(error as Error).message}`, { shouldRetry: false });
      } else {
        res.destroy();
      }
    }
  }

  async #record(req: IncomingMessage): Promise<RecordedRequest> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new Error(`Request body over ${MAX_BODY_BYTES} bytes.`);
      chunks.push(chunk);
    }
    const rawBody = Buffer.concat(chunks).toString("utf8");
    let parsed: unknown;
    try {
      parsed = rawBody.length > 0 ? JSON.parse(rawBody) : {};
    } catch {
      parsed = {};
    }
    const object = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    const body: MessagesRequestBody = {
      ...object,
      messages: Array.isArray(object.messages) ? (object.messages as MessagesRequestBody["messages"]) : [],
    };
    const url = req.url ?? "/";
    const path = url.split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(", ") : value;
    }
    const recorded: RecordedRequest = {
      index: this.#requests.length,
      kind: kindOf(method, path),
      method,
      path,
      url,
      headers,
      body,
      rawBody,
      receivedAt: Date.now(),
    };
    this.#requests.push(recorded);
    return recorded;
  }

  #pickRule(req: RecordedRequest): { name: string; reply: ReplySource } {
    const side = isSideRequest(req);
    for (const rule of this.#rules) {
      if (rule.remaining <= 0) continue;
      if (rule.scope === "main" && side) continue;
      if (rule.scope === "side" && !side) continue;
      req.rule = rule.name;
      if (!rule.when(req)) continue;
      rule.remaining -= 1;
      rule.hits += 1;
      return rule;
    }
    return side ? { name: "side-default", reply: this.#sideReply } : { name: "fallback", reply: this.#fallbackReply };
  }

  /**
   * A rule's reply, or the reply a rule gave before the ToolSearch round trip
   * this request answers. Like a real model, the stand-in selects deferred tools
   * with ToolSearch before it calls them; rules never see that round trip.
   */
  async #replyTo(req: RecordedRequest): Promise<Reply> {
    for (const result of toolResults(req)) {
      const held = this.#afterSearch.get(result.toolUseId);
      if (held) {
        req.rule = `${held.rule} (after ${TOOL_SEARCH})`;
        return held.reply;
      }
    }
    const picked = this.#pickRule(req);
    req.rule = picked.name;
    const reply = typeof picked.reply === "function" ? await picked.reply(req) : picked.reply;
    if (isErrorReply(reply)) return reply;
    const deferred = toolsToSearch(req, toolUsesOf(reply).map((use) => use.name));
    if (deferred.length === 0) return reply;
    const id = `toolu_standin_${++this.#idCounter}`;
    this.#afterSearch.set(id, { rule: picked.name, reply });
    return { toolUse: { id, name: TOOL_SEARCH, input: { query: `select:${deferred.join(",")}` } } };
  }

  async #answerMessages(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const reply = await this.#replyTo(req);
    if (isErrorReply(reply)) {
      if (reply.delayMs) await sleep(reply.delayMs);
      this.#sendError(res, reply.error.status, reply.error.type, reply.error.message, reply);
      return;
    }
    const content = this.#content(reply);
    const model = req.body.model ?? "claude-stand-in";
    const outputText = content.map((b) => (b.type === "text" ? b.text : JSON.stringify(b.input))).join("");
    const usage: Usage = {
      input_tokens: this.#inputTokens(req.body),
      output_tokens: estimateTokens(outputText),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...reply.usage,
    };
    const stopReason = reply.stopReason ?? (content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
    const id = `msg_standin_${++this.#idCounter}`;
    const requestId = `req_standin_${req.index}`;
    if (req.body.stream === true) {
      await this.#stream(res, { id, model, content, usage, stopReason, requestId, delayMs: reply.delayMs ?? 0 });
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    this.#sendJson(
      res,
      200,
      { id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage },
      { "request-id": requestId },
    );
  }

  #content(reply: MessageReply): ContentOut[] {
    const toolUses = toolUsesOf(reply);
    const content: ContentOut[] = [];
    if (reply.text !== undefined || toolUses.length === 0) content.push({ type: "text", text: reply.text ?? "OK" });
    for (const use of toolUses) {
      content.push({ type: "tool_use", id: use.id ?? `toolu_standin_${++this.#idCounter}`, name: use.name, input: use.input });
    }
    return content;
  }

  async #stream(
    res: ServerResponse,
    m: { id: string; model: string; content: ContentOut[]; usage: Usage; stopReason: string; requestId: string; delayMs: number },
  ): Promise<void> {
    const events: Array<[string, Record<string, unknown>]> = [];
    m.content.forEach((block, index) => {
      if (block.type === "text") {
        events.push(["content_block_start", { index, content_block: { type: "text", text: "" } }]);
        for (const text of chunkText(block.text)) events.push(["content_block_delta", { index, delta: { type: "text_delta", text } }]);
      } else {
        events.push(["content_block_start", { index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } }]);
        for (const partial_json of chunkJson(JSON.stringify(block.input))) {
          events.push(["content_block_delta", { index, delta: { type: "input_json_delta", partial_json } }]);
        }
      }
      events.push(["content_block_stop", { index }]);
    });
    events.push(["message_delta", { delta: { stop_reason: m.stopReason, stop_sequence: null }, usage: { output_tokens: m.usage.output_tokens } }]);
    events.push(["message_stop", {}]);

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "request-id": m.requestId,
    });
    const write = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    write("message_start", {
      message: {
        id: m.id,
        type: "message",
        role: "assistant",
        model: m.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...m.usage, output_tokens: 1 },
      },
    });
    write("ping", {});
    const gap = m.delayMs > 0 ? m.delayMs / events.length : 0;
    for (const [type, data] of events) {
      if (gap > 0) await sleep(gap);
      // The client hung up (e.g. Esc interrupt) or the model closed: stop talking.
      if (res.destroyed || res.writableEnded) return;
      write(type, data);
    }
    res.end();
  }

  #inputTokens(body: MessagesRequestBody): number {
    return estimateTokens(JSON.stringify([body.system ?? "", body.messages, body.tools ?? []]));
  }

  #sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  }

  #sendError(
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    options: { shouldRetry?: boolean; retryAfterSeconds?: number; headers?: Record<string, string> } = {},
  ): void {
    const headers: Record<string, string> = { ...options.headers };
    if (options.shouldRetry !== undefined) headers["x-should-retry"] = String(options.shouldRetry);
    if (options.retryAfterSeconds !== undefined) headers["retry-after"] = String(options.retryAfterSeconds);
    this.#sendJson(res, status, { type: "error", error: { type, message } }, headers);
  }
}
