import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastUserText, match, StandInModel, TestkitErrorCodes, toolResults, usageLimitReply, type RecordedRequest } from "../src/index.js";

interface SseEvent {
  event: string;
  data: Record<string, any>;
  at: number;
}

async function readSse(response: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "";
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? "{}";
      events.push({ event, data: JSON.parse(data), at: Date.now() });
    }
  }
  return events;
}

const TOOLS = [{ name: "Bash", description: "run", input_schema: { type: "object" } }];

function userTurn(text: string, extra: Record<string, unknown> = {}) {
  return {
    model: "claude-test-1",
    max_tokens: 1000,
    tools: TOOLS,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "<system-reminder>\ncontext\n</system-reminder>" },
          { type: "text", text },
        ],
      },
    ],
    ...extra,
  };
}

describe("StandInModel over real HTTP", () => {
  let model: StandInModel;

  const post = (path: string, body: unknown) =>
    fetch(`${model.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "sk-test", "anthropic-version": "2023-06-01" },
      body: JSON.stringify(body),
    });

  beforeEach(async () => {
    model = await StandInModel.start();
  });
  afterEach(async () => {
    await model.close();
  });

  it("listens on loopback and answers a non-streaming turn with usage", async () => {
    expect(model.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    model.rule({ when: match.lastUserTextIncludes("say hi"), reply: { text: "hi there" } });
    const res = await post("/v1/messages?beta=true", userTurn("say hi"));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-test-1",
      content: [{ type: "text", text: "hi there" }],
      stop_reason: "end_turn",
    });
    expect(body.usage.input_tokens).toBeGreaterThan(0);
    expect(body.usage.output_tokens).toBeGreaterThan(0);
    expect(model.requests).toHaveLength(1);
    const req = model.requests[0] as RecordedRequest;
    expect(req).toMatchObject({ kind: "messages", path: "/v1/messages", url: "/v1/messages?beta=true", rule: "rule#1" });
    expect(req.headers["x-api-key"]).toBe("sk-test");
    expect(lastUserText(req)).toBe("say hi");
    expect(model.mainTurns()).toHaveLength(1);
  });

  it("streams text as SSE events in the Messages API order", async () => {
    const text = "Hello from the scripted stand-in model, in several words.";
    model.rule({ reply: { text } });
    const res = await post("/v1/messages", userTurn("go", { stream: true }));
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await readSse(res);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("message_start");
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    const deltas = events.filter((e) => e.event === "content_block_delta");
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.every((d) => d.data.delta.type === "text_delta")).toBe(true);
    expect(deltas.map((d) => d.data.delta.text).join("")).toBe(text);
    expect(events[0]?.data.message.usage.input_tokens).toBeGreaterThan(0);
    const messageDelta = events.find((e) => e.event === "message_delta");
    expect(messageDelta?.data).toMatchObject({ delta: { stop_reason: "end_turn" }, usage: { output_tokens: expect.any(Number) } });
  });

  it("streams a tool_use whose input_json_delta pieces assemble to the input", async () => {
    const input = { command: "echo hi > out.txt", description: "write a file with a rather long description" };
    model.rule({ reply: { text: "Running it.", toolUse: { name: "Bash", input } } });
    const events = await readSse(await post("/v1/messages", userTurn("go", { stream: true })));
    const starts = events.filter((e) => e.event === "content_block_start").map((e) => e.data);
    expect(starts[0]).toMatchObject({ index: 0, content_block: { type: "text" } });
    expect(starts[1]).toMatchObject({ index: 1, content_block: { type: "tool_use", name: "Bash", id: expect.stringMatching(/^toolu_/) } });
    const json = events
      .filter((e) => e.event === "content_block_delta" && e.data.index === 1)
      .map((e) => {
        expect(e.data.delta.type).toBe("input_json_delta");
        return e.data.delta.partial_json as string;
      });
    expect(json.length).toBeGreaterThan(1);
    expect(JSON.parse(json.join(""))).toEqual(input);
    expect(events.find((e) => e.event === "message_delta")?.data.delta.stop_reason).toBe("tool_use");
  });

  it("uses a rule only `times` times, then the next matching rule, then the fallback", async () => {
    const once = model.rule({ name: "once", when: match.lastUserTextIncludes("ping"), reply: { text: "first" }, times: 1 });
    model.rule({ name: "echo", when: match.lastUserTextIncludes("ping"), reply: (req) => ({ text: `echo ${lastUserText(req)}` }), times: 2 });
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const body = (await (await post("/v1/messages", userTurn(`ping ${i}`))).json()) as Record<string, any>;
      texts.push(body.content[0].text);
    }
    expect(texts.slice(0, 3)).toEqual(["first", "echo ping 1", "echo ping 2"]);
    expect(texts[3]).toMatch(/no rule matched/);
    expect(model.requests.map((r) => r.rule)).toEqual(["once", "echo", "echo", "fallback"]);
    expect(once.hits).toBe(1);
    expect(once.remaining).toBe(0);
  });

  it("answers side requests (no tools) with the default side reply, not with main-turn rules", async () => {
    model.rule({ when: match.lastUserTextIncludes("hello"), reply: { text: "main" } });
    const side = (await (await post("/v1/messages", { model: "claude-haiku", max_tokens: 50, messages: [{ role: "user", content: "Title for: hello" }] })).json()) as Record<string, any>;
    expect(side.content[0].text).toBe("Stand-in session");
    expect(model.sideRequests()).toHaveLength(1);
    expect(model.mainTurns()).toHaveLength(0);
    model.rule({ scope: "side", reply: { text: "custom title" } });
    const custom = (await (await post("/v1/messages", { max_tokens: 50, messages: [{ role: "user", content: "again" }] })).json()) as Record<string, any>;
    expect(custom.content[0].text).toBe("custom title");
  });

  it("matches tool results in the next turn", async () => {
    model.rule({ when: match.hasToolResult({ contentIncludes: "done" }), reply: { text: "saw it" } });
    const turn = userTurn("x");
    turn.messages.push(
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: {} } as any] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "done" }] } as any] },
    );
    const body = (await (await post("/v1/messages", turn)).json()) as Record<string, any>;
    expect(body.content[0].text).toBe("saw it");
    expect(toolResults(model.requests[0] as RecordedRequest)).toEqual([{ toolUseId: "toolu_1", content: "done", isError: false }]);
    expect(lastUserText(model.requests[0] as RecordedRequest)).toBe("");
  });

  it("replies with scripted API errors", async () => {
    model.rule({ reply: { error: { status: 529, type: "overloaded_error", message: "Overloaded" }, shouldRetry: false }, times: 1 });
    const res = await post("/v1/messages", userTurn("x", { stream: true }));
    expect(res.status).toBe(529);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(await res.json()).toEqual({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    const next = await post("/v1/messages", userTurn("x"));
    expect(next.status).toBe(200);
  });

  it("answers a usage limit: 429 rate_limit_error with the reset in the message, retry-after and the unified rate-limit headers", async () => {
    const resetAt = new Date(Math.ceil((Date.now() + 30_000) / 1000) * 1000);
    const epoch = String(resetAt.getTime() / 1000);
    model.rule({ reply: usageLimitReply(resetAt), times: 1 });
    const res = await post("/v1/messages", userTurn("x", { stream: true }));
    expect(res.status).toBe(429);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
    expect(res.headers.get("anthropic-ratelimit-unified-status")).toBe("rejected");
    expect(res.headers.get("anthropic-ratelimit-unified-reset")).toBe(epoch);
    expect(await res.json()).toEqual({ type: "error", error: { type: "rate_limit_error", message: `Claude AI usage limit reached|${epoch}` } });
  });

  it("answers count_tokens and 404s anything else", async () => {
    const count = await post("/v1/messages/count_tokens", userTurn("count me"));
    expect(count.status).toBe(200);
    expect(((await count.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    const other = await fetch(`${model.url}/v1/models`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    expect(model.requests.map((r) => r.kind)).toEqual(["count_tokens", "other"]);
  });

  it("spreads a delayed turn over delayMs so the client sees a stream in progress", async () => {
    model.rule({ reply: { text: "slow reply in a few words here", delayMs: 400 } });
    const started = Date.now();
    const events = await readSse(await post("/v1/messages", userTurn("x", { stream: true })));
    const first = events[0] as SseEvent;
    const last = events.at(-1) as SseEvent;
    expect(first.at - started).toBeLessThan(200);
    expect(last.at - started).toBeGreaterThanOrEqual(350);
  });

  it("waitForRequest resolves on the event, sees past requests, and times out with what it saw", async () => {
    const waiting = model.waitForRequest(match.lastUserTextIncludes("later"), 5_000);
    await post("/v1/messages", userTurn("first"));
    await post("/v1/messages", userTurn("later on"));
    expect((await waiting).index).toBe(1);
    // Already recorded: resolves at once; `since` hides older ones.
    expect((await model.waitForRequest(match.lastUserTextIncludes("first"), 100)).index).toBe(0);
    const error = await model
      .waitForRequest(match.lastUserTextIncludes("first"), 50, { since: 1 })
      .catch((e: unknown) => e as { code: string; message: string });
    expect(error).toMatchObject({ code: TestkitErrorCodes.REQUEST_TIMEOUT });
    expect((error as { message: string }).message).toContain("later on");
  });

  it("close() ends a stream in flight and rejects waiters", async () => {
    model.rule({ reply: { text: "a b c d e f g h i j k l", delayMs: 5_000 } });
    const res = await post("/v1/messages", userTurn("x", { stream: true }));
    const waiting = model.waitForRequest(() => false, 5_000);
    const reading = readSse(res).catch((e: unknown) => e);
    await model.close();
    await expect(waiting).rejects.toMatchObject({ code: TestkitErrorCodes.MODEL_CLOSED });
    const outcome = await reading;
    // Either the body errors or it ends early; it must not run for 5 s and must not finish the message.
    if (Array.isArray(outcome)) expect(outcome.map((e: SseEvent) => e.event)).not.toContain("message_stop");
    await model.close(); // idempotent
  });
});

describe("deferred tools and turns of several user messages, as Claude Code sends them", () => {
  let model: StandInModel;
  beforeEach(async () => {
    model = await StandInModel.start();
  });
  afterEach(async () => {
    await model.close();
  });
  const post = async (body: unknown) =>
    (await (await fetch(`${model.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json()) as {
      content: { type: string; id?: string; name?: string; input?: unknown; text?: string }[];
    };
  const SEARCH = { name: "ToolSearch", description: "Fetches deferred tools.", input_schema: { type: "object" } };
  // As 2.1.332 sends it: the deferred names in a system message after the prompt, ToolSearch and a placeholder in the tools.
  const deferredList = { role: "system", content: [{ type: "text", text: "The following deferred tools are now available via ToolSearch.\nWebFetch\nmcp__fake__echo\n" }] };
  const firstTurn = {
    tools: [...TOOLS, SEARCH, { name: "DeferredToolPlaceholder", input_schema: { type: "object" }, defer_loading: true }],
    messages: [{ role: "user", content: [{ type: "text", text: "echo it" }] }, deferredList],
  };

  it("selects a deferred tool with ToolSearch first, then calls it; the rule answers once", async () => {
    const rule = model.rule({ name: "echo", when: match.lastUserTextIncludes("echo it"), reply: { text: "Echoing.", toolUse: { name: "mcp__fake__echo", input: { text: "hi" } } } });
    const search = (await post(firstTurn)).content;
    expect(search).toEqual([{ type: "tool_use", id: expect.stringMatching(/^toolu_standin_/u), name: "ToolSearch", input: { query: "select:mcp__fake__echo" } }]);
    // The client answers with a tool_reference and now offers the tool (deferred, loaded by that reference).
    const loaded = await post({
      tools: [...firstTurn.tools, { name: "mcp__fake__echo", input_schema: { type: "object" }, defer_loading: true }],
      messages: [
        ...firstTurn.messages,
        { role: "assistant", content: search },
        { role: "user", content: [{ type: "tool_result", tool_use_id: search[0]!.id, content: [{ type: "tool_reference", tool_name: "mcp__fake__echo" }] }, { type: "text", text: "Tool loaded." }] },
      ],
    });
    expect(loaded.content).toMatchObject([{ type: "text", text: "Echoing." }, { type: "tool_use", name: "mcp__fake__echo", input: { text: "hi" } }]);
    expect(rule.hits).toBe(1);
    expect(model.requests.map((r) => r.rule)).toEqual(["echo", "echo (after ToolSearch)"]);
  });

  it("calls a tool that is offered, or unknown to the client, directly", async () => {
    model.rule({ reply: { toolUse: [{ name: "Bash", input: { command: "true" } }, { name: "NoSuchTool", input: {} }] } });
    expect((await post(firstTurn)).content.map((b) => b.name)).toEqual(["Bash", "NoSuchTool"]);
  });

  it("without ToolSearch on offer, a deferred tool is called as the script says", async () => {
    model.rule({ reply: { toolUse: { name: "mcp__fake__echo", input: { text: "hi" } } } });
    expect((await post({ ...firstTurn, tools: TOOLS })).content.map((b) => b.name)).toEqual(["mcp__fake__echo"]);
  });

  it("reads every user message since the last assistant message", async () => {
    model.rule({ when: match.all(match.lastUserTextIncludes("the prompt"), match.hasToolResult({ contentIncludes: "result text" })), reply: { text: "both seen" } });
    const body = {
      tools: TOOLS,
      messages: [
        { role: "user", content: "earlier prompt" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Bash", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "result text" }] },
        { role: "user", content: [{ type: "text", text: "the prompt" }] },
        { role: "user", content: [{ type: "text", text: "<system-reminder>\nagent types\n</system-reminder>" }] },
      ],
    };
    expect((await post(body)).content).toEqual([{ type: "text", text: "both seen" }]);
    const [req] = model.requests;
    expect(lastUserText(req!)).toBe("the prompt");
    expect(toolResults(req!)).toEqual([{ toolUseId: "toolu_1", content: "result text", isError: false }]);
  });
});

describe("StandInModel lifetime", () => {
  it("closes at the end of an `await using` block", async () => {
    let url: string;
    {
      await using model = await StandInModel.start();
      url = model.url;
      expect((await fetch(`${url}/v1/messages/count_tokens`, { method: "POST", body: "{}" })).status).toBe(200);
    }
    await expect(fetch(`${url}/v1/messages/count_tokens`, { method: "POST", body: "{}" })).rejects.toThrow();
  });
});
