/**
 * A scripted stand-in for the Anthropic Messages API on loopback, so the real
 * Claude Code binary can run fully offline. Replies are chosen by ordered
 * rules over the conversation; every request is recorded.
 */
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TestkitError, TestkitErrorCodes } from "./errors.js";
import { isMainTurn, isSideRequest, lastUserText, type RecordedRequest, type RequestPredicate, toolResults } from "./messages.js";
import {
  isErrorReply,
  toolUsesOf,
  type MessageReply,
  type Reply,
  type ReplySource,
  type RuleHandle,
  type RuleScope,
  type RuleSpec,
  type Usage,
} from "./stand-in-replies.js";
import { estimateTokens, inputTokens, readRequest, sendError, sendJson, sleep, streamMessage, type ContentOut } from "./stand-in-wire.js";
import { TOOL_SEARCH, toolsToSearch } from "./tool-search.js";

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

function describe(req: RecordedRequest): string {
  const base = `${req.method} ${req.url}`;
  if (req.kind !== "messages") return base;
  const tools = isMainTurn(req) ? `${req.body.tools?.length} tools` : "no tools";
  return `${base} (${tools}, last user text ${JSON.stringify(lastUserText(req).slice(0, 60))})`;
}

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
      const read = await readRequest(req);
      recorded = { index: this.#requests.length, ...read };
      this.#requests.push(recorded);
    } catch (error) {
      sendError(res, 413, "request_too_large", (error as Error).message);
      return;
    }
    this.#events.emit("request", recorded);
    try {
      if (recorded.kind === "messages") await this.#answerMessages(recorded, res);
      else if (recorded.kind === "count_tokens") sendJson(res, 200, { input_tokens: inputTokens(recorded.body) });
      else sendError(res, 404, "not_found_error", `The stand-in model does not serve ${recorded.method} ${recorded.path}.`);
    } catch (error) {
      // A rule's `when` or `reply` threw: answer like an API failure so the client shows it.
      if (!res.headersSent) {
        sendError(res, 500, "api_error", `stand-in rule ${recorded.rule ?? "?"} threw: ${(error as Error).message}`, { shouldRetry: false });
      } else {
        res.destroy();
      }
    }
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
      sendError(res, reply.error.status, reply.error.type, reply.error.message, reply);
      return;
    }
    const content = this.#content(reply);
    const model = req.body.model ?? "claude-stand-in";
    const outputText = content.map((b) => (b.type === "text" ? b.text : JSON.stringify(b.input))).join("");
    const usage: Usage = {
      input_tokens: inputTokens(req.body),
      output_tokens: estimateTokens(outputText),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...reply.usage,
    };
    const stopReason = reply.stopReason ?? (content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
    const id = `msg_standin_${++this.#idCounter}`;
    const requestId = `req_standin_${req.index}`;
    if (req.body.stream === true) {
      await streamMessage(res, { id, model, content, usage, stopReason, requestId, delayMs: reply.delayMs ?? 0 });
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    sendJson(
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
}
