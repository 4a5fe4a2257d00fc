/**
 * Deferred tools, as Claude Code offers them: newer releases leave MCP tools
 * (and some of their own) out of `tools`, list their names in a message, and
 * offer `ToolSearch`; the model must call `ToolSearch` with
 * `{"query": "select:<name>"}` before it can call one. Once selected, the tool
 * is in `tools` with `defer_loading: true`, loaded by the `tool_reference` in
 * the ToolSearch result. A real model does that round trip; so does the stand-in.
 */
import type { ContentBlock, Message, RecordedRequest } from "./messages.js";

export const TOOL_SEARCH = "ToolSearch";

function blocksOf(content: Message["content"] | undefined): ContentBlock[] {
  if (content === undefined) return [];
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** Every text the client showed the model: the system prompt and all non-assistant messages. */
function texts(req: RecordedRequest): string[] {
  const out = blocksOf(req.body.system).map((b) => b.text ?? "");
  for (const message of req.body.messages) {
    if (message.role === "assistant") continue;
    for (const block of blocksOf(message.content)) if (typeof block.text === "string") out.push(block.text);
  }
  return out;
}

/** Is `name` listed as a deferred tool (a line of its own in a text about deferred tools)? */
function listedAsDeferred(req: RecordedRequest, name: string): boolean {
  return texts(req).some((text) => /deferred/iu.test(text) && text.split("\n").some((line) => line.trim() === name));
}

/** Did a ToolSearch result of this conversation load `name` (a `tool_reference` block)? */
function referenced(req: RecordedRequest, name: string): boolean {
  const hit = (blocks: ContentBlock[]): boolean =>
    blocks.some((b) => (b.type === "tool_reference" && b.tool_name === name) || (Array.isArray(b.content) && hit(b.content)));
  return req.body.messages.some((m) => m.role === "user" && hit(blocksOf(m.content)));
}

/** Can the model call `name` in this request as it stands? */
export function callable(req: RecordedRequest, name: string): boolean {
  const tool = req.body.tools?.find((t) => t.name === name);
  if (!tool) return false;
  return tool.defer_loading !== true || referenced(req, name);
}

/** Does the request offer the model `name`, loaded (in `tools`) or deferred (to select with ToolSearch first)? */
export function offersTool(req: RecordedRequest, name: string): boolean {
  return req.body.tools?.some((t) => t.name === name) === true || listedAsDeferred(req, name);
}

/**
 * The tools among `names` that must be selected with ToolSearch first: not
 * callable yet, deferred (listed as such, or offered with `defer_loading`),
 * and ToolSearch is offered. A tool the client does not know at all is left
 * alone: calling it shows the client's own error, as a real model's mistake would.
 */
export function toolsToSearch(req: RecordedRequest, names: readonly string[]): string[] {
  if (!callable(req, TOOL_SEARCH)) return [];
  const deferred = (name: string) => listedAsDeferred(req, name) || req.body.tools?.some((t) => t.name === name && t.defer_loading === true) === true;
  return [...new Set(names)].filter((name) => name !== TOOL_SEARCH && !callable(req, name) && deferred(name));
}
