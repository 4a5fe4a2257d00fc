/** The stand-in model's HTTP side: reading requests off the wire and writing Messages API responses (JSON, SSE streams, errors). */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { MessagesRequestBody, RecordedRequest, RequestKind } from "./messages.js";
import type { Usage } from "./stand-in-replies.js";

export type ContentOut =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** About four characters per token, as for English text; enough for usage to look real. */
export function estimateTokens(text: string): number {
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

/** A request as recorded, but for its index (given once it is recorded, in arrival order). */
export async function readRequest(req: IncomingMessage): Promise<Omit<RecordedRequest, "index">> {
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
  return {
    kind: kindOf(method, path),
    method,
    path,
    url,
    headers,
    body,
    rawBody,
    receivedAt: Date.now(),
  };
}

export function inputTokens(body: MessagesRequestBody): number {
  return estimateTokens(JSON.stringify([body.system ?? "", body.messages, body.tools ?? []]));
}

export async function streamMessage(
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  options: { shouldRetry?: boolean; retryAfterSeconds?: number; headers?: Record<string, string> } = {},
): void {
  const headers: Record<string, string> = { ...options.headers };
  if (options.shouldRetry !== undefined) headers["x-should-retry"] = String(options.shouldRetry);
  if (options.retryAfterSeconds !== undefined) headers["retry-after"] = String(options.retryAfterSeconds);
  sendJson(res, status, { type: "error", error: { type, message } }, headers);
}
