/**
 * The claude adapter with the real Claude Code binary in tmux, against the
 * scripted stand-in model: readiness from SessionStart, replies from Stop,
 * receipts from UserPromptSubmit, queueing behind a running turn, exact
 * delivery of a large prompt, a tool call, an API error, an Esc interrupt and
 * a permission question.
 */
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { eventually, lastUserText, match, type RecordedRequest } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ClaudeAgentState, HookEvent } from "../src/index.js";
import type { InstanceRecord, TurnEnded } from "@tmux-claude/core";
import { createClaudeHarness, hookEvents, statusLog, type ClaudeHarness, type StatusLog } from "./helpers.js";

let h: ClaudeHarness;
let log: StatusLog;
/** Every turnEnded event, in order. */
const turns: TurnEnded[] = [];
/** The reasons of the turns of one instance that ended so far (awaits the event that follows a status). */
async function turnReasons(id: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  while (turns.filter((t) => t.instanceId === id).length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return turns.filter((t) => t.instanceId === id).map((t) => t.reason);
}
/**
 * The reason of the turn of an instance that ended in a record `accept` picks (its status, its reason).
 * Turn events are fired once the change is written, so a read may see the status before the previous
 * turn's event arrived: counting events would take that one for this one.
 */
async function turnEndingIn(id: string, accept: (record: InstanceRecord) => boolean): Promise<string | undefined> {
  const deadline = Date.now() + 5_000;
  const find = () => turns.find((t) => t.instanceId === id && accept(t.instance));
  while (!find() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return find()?.reason;
}
/** The hook events already in an instance's file when it became ready, read in the status change itself. */
const eventsAtReady = new Map<string, string[]>();
beforeAll(async () => {
  h = await createClaudeHarness({
    // Bash runs without asking: the tool-call test is about the turn, not about permissions.
    agent: { args: ["--allowedTools", "Bash"] },
    agents: { "claude-ask": { permissionMode: "default" } },
  });
  log = statusLog(h.kernel);
  h.kernel.hooks.turnEnded.tap("test-turns", (turn) => void turns.push(turn));
  h.kernel.hooks.statusChange.tap("test-events-at-ready", ({ instance, from, to }) => {
    if (from !== "starting" || to !== "idle") return;
    const text = readFileSync(path.join(h.stateDir, "agents", instance.id, "events.jsonl"), "utf8");
    eventsAtReady.set(instance.id, text.split("\n").filter(Boolean).map((line) => (JSON.parse(line) as HookEvent).event));
  });
}, 300_000);
afterAll(async () => {
  await h?.close();
});

const mainTurnsAbout = (text: string, since = 0): RecordedRequest[] =>
  h.model.requests.slice(since).filter((r) => (r.body.tools?.length ?? 0) > 0 && lastUserText(r).includes(text));

describe("one instance through its turns", () => {
  let id: string;

  test("spawn with a prompt: ready from SessionStart, the scripted reply from Stop", async () => {
    h.model.rule({ name: "hello", when: match.lastUserTextIncludes("say hello"), reply: { text: "Hello from the stand-in model." } });
    const started = Date.now();
    const { instance, receipt } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "say hello" });
    const spawnMs = Date.now() - started;
    id = instance.id;
    expect(receipt?.state).toBe("delivered");

    const result = await h.kernel.read(id, { wait: true, timeoutMs: 15_000 });
    expect(result).toMatchObject({ status: "idle", lastReply: "Hello from the stand-in model." });
    // The Stop hook ended the turn: turnEnded says so, with the reply and the tokens so far.
    expect(await turnReasons(id, 1)).toEqual(["stop"]);
    expect(turns.find((t) => t.instanceId === id)).toMatchObject({ lastReply: "Hello from the stand-in model.", usage: { outputTokens: expect.any(Number) } });
    // Usage comes from the transcript, which Claude Code may still be writing when its Stop hook runs.
    const usage = await eventually(async () => {
      const read = (await h.kernel.read(id)).usage;
      return read && read.outputTokens > 0 && read.inputTokens > 0 ? read : undefined;
    }, 10_000, "the turn's usage in the transcript");
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.inputTokens).toBeGreaterThan(0);

    // Ready came from the SessionStart hook of this very process, with the session id it was launched with.
    const record = await h.kernel.get(id);
    const state = record.agentState as unknown as ClaudeAgentState;
    expect(record.launch.args.slice(0, 2)).toEqual(["--session-id", state.sessionId]);
    const events = await hookEvents(h, id);
    expect(events.map((e) => e.event)).toEqual(["SessionStart", "UserPromptSubmit", "Stop"]);
    expect(events[0]).toMatchObject({ launch: state.launchId, payload: { session_id: state.sessionId, source: "startup" } });
    expect(events[2]?.payload.last_assistant_message).toBe("Hello from the stand-in model.");
    const ready = log.changes.find((c) => c.id === id && c.from === "starting");
    expect(ready?.to).toBe("idle");
    expect(eventsAtReady.get(id)).toEqual(["SessionStart"]);
    console.info(`[claude] spawn with prompt: ${spawnMs} ms to the receipt of the first prompt`);
  });

  test("send a follow-up: the receipt is the UserPromptSubmit hook", async () => {
    h.model.rule({ name: "follow-up", when: match.lastUserTextIncludes("and now?"), reply: { text: "Now this." } });
    const before = (await hookEvents(h, id)).length;
    const started = Date.now();
    const receipt = await h.kernel.send(id, "and now?");
    const sendMs = Date.now() - started;
    expect(receipt.state).toBe("delivered");
    const events = (await hookEvents(h, id)).slice(before);
    expect(events[0]).toMatchObject({ event: "UserPromptSubmit", payload: { prompt: "and now?" } });
    expect(await h.kernel.read(id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Now this." });
    console.info(`[claude] send: ${sendMs} ms to the receipt`);
  });

  test("send while busy: queued, delivered after Stop, in its own turn", async () => {
    h.model.rule({ name: "slow", when: match.lastUserTextIncludes("take your time"), reply: { text: "Done taking my time.", delayMs: 1_500 } });
    h.model.rule({ name: "after-slow", when: match.lastUserTextIncludes("queued behind"), reply: { text: "Got the queued one." } });
    const since = h.model.requests.length;
    const first = await h.kernel.send(id, "take your time");
    expect(first.state).toBe("delivered");
    const second = await h.kernel.send(id, "queued behind the slow turn");
    expect(second).toMatchObject({ state: "queued", position: 1 });
    await h.kernel.waitDelivered(second, 15_000);
    expect(await h.kernel.read(id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Got the queued one." });

    // The model saw two turns, in order; the queued text never reached the running turn.
    const [slow] = mainTurnsAbout("take your time", since);
    const [queued] = mainTurnsAbout("queued behind", since);
    expect(slow && queued).toBeTruthy();
    expect(slow!.index).toBeLessThan(queued!.index);
    expect(JSON.stringify(slow!.body.messages)).not.toContain("queued behind");
    const turns = queued!.body.messages.map((m) => `${m.role}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`);
    const at = (text: string) => turns.findIndex((t) => t.includes(text));
    expect(at("user: ")).toBeGreaterThanOrEqual(0);
    expect(at("take your time")).toBeLessThan(at("Done taking my time."));
    expect(at("Done taking my time.")).toBeLessThan(at("queued behind"));
    // And the hooks say the same: the second prompt was submitted after the first turn's Stop.
    const names = (await hookEvents(h, id)).map((e) => `${e.event}:${e.payload.prompt ?? e.payload.last_assistant_message ?? ""}`);
    expect(names.indexOf("Stop:Done taking my time.")).toBeLessThan(names.indexOf("UserPromptSubmit:queued behind the slow turn"));
  });

  test("a multi-line 50 KB prompt with shell metacharacters reaches the model byte-exact", async () => {
    const unit = "line $(touch PWNED) `id` ; rm -rf ~ # { } %1 'single' \"double\" \\ \\n $HOME ${HOME} | & > < * ? ! é 日本 🚀 ❯ ✻\n";
    let text = "BIG-PROMPT-START\n";
    while (text.length < 50 * 1024) text += unit;
    text += "BIG-PROMPT-END";
    h.model.rule({ name: "big", when: match.lastUserTextIncludes("BIG-PROMPT-START"), reply: { text: "Read it all." } });
    const since = h.model.requests.length;
    const started = Date.now();
    expect((await h.kernel.send(id, text)).state).toBe("delivered");
    const sendMs = Date.now() - started;
    expect(await h.kernel.read(id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Read it all." });
    const [request] = mainTurnsAbout("BIG-PROMPT-START", since);
    // Claude Code hands a long paste to the model as its own block, wrapped in <pasted_content> tags.
    const block = /<pasted_content id="([^"]+)">\n([\s\S]*)\n<\/pasted_content id="\1">/u.exec(lastUserText(request!))?.[2];
    expect(block?.length).toBe(text.length);
    expect(block === text).toBe(true);
    expect((await stat(h.workDir).then(() => readFile(path.join(h.workDir, "PWNED")).then(() => "exists", () => "absent")))).toBe("absent");
    console.info(`[claude] 50 KB send: ${sendMs} ms to the receipt`);
  });

  test("a scripted Bash tool call runs and the turn ends idle", async () => {
    h.model.rule({
      name: "bash",
      when: match.lastUserTextIncludes("make the file"),
      reply: { text: "Writing it.", toolUse: { name: "Bash", input: { command: "printf 'made by bash' > bash-output.txt", description: "Write bash-output.txt" } } },
      times: 1,
    });
    h.model.rule({ name: "bash-done", when: match.hasToolResult(), reply: { text: "The file is written." }, times: 1 });
    await h.kernel.send(id, "make the file");
    expect(await h.kernel.read(id, { wait: true, timeoutMs: 15_000 })).toMatchObject({ status: "idle", lastReply: "The file is written." });
    expect(await readFile(path.join(h.workDir, "bash-output.txt"), "utf8")).toBe("made by bash");
  });

  test("an API error ends the turn in error, with the reason; the next message goes through", async () => {
    h.model.rule({
      name: "overloaded",
      when: match.lastUserTextIncludes("fail now"),
      reply: { error: { status: 529, type: "overloaded_error", message: "Overloaded (scripted)" } },
      times: 1,
    });
    await h.kernel.send(id, "fail now");
    const failed = await h.kernel.read(id, { wait: true, timeoutMs: 15_000 });
    expect(failed.status).toBe("error");
    expect(failed.statusReason).toContain("Overloaded (scripted)");
    expect(await turnEndingIn(id, (record) => record.status === "error" && (record.statusReason ?? "").includes("Overloaded (scripted)"))).toBe("failure");
    h.model.rule({ name: "recovered", when: match.lastUserTextIncludes("try again"), reply: { text: "Back again." } });
    expect((await h.kernel.send(id, "try again")).state).toBe("delivered");
    expect(await h.kernel.read(id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Back again." });
  });

  test("an Esc interrupt (no hook) is seen on the screen: idle within two seconds", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    h.model.rule({
      name: "held",
      when: match.lastUserTextIncludes("think forever"),
      reply: async () => {
        await held;
        return { text: "Too late." };
      },
      times: 1,
    });
    try {
      const since = h.model.requests.length;
      await h.kernel.send(id, "think forever");
      await h.model.waitForRequest(match.all(match.mainTurn, match.lastUserTextIncludes("think forever")), 10_000, { since });
      expect((await h.kernel.get(id)).status).toBe("busy");
      const record = await h.kernel.get(id);
      const pressed = Date.now();
      await h.tmux("send-keys", "-t", record.tmux.paneId, "Escape");
      const idle = await log.waitFor(id, (s) => s === "idle", 5_000);
      const tookMs = Date.now() - pressed;
      expect(idle.statusReason).toMatch(/interrupted/u);
      // An Esc fires no hook: the interrupt is a turn of its own kind, not a "stop".
      expect(await turnEndingIn(id, (record) => /interrupted/u.test(record.statusReason ?? ""))).toBe("interrupt");
      expect(tookMs).toBeLessThan(2_500);
      console.info(`[claude] Esc interrupt seen as idle after ${tookMs} ms`);
      // Claude Code put the interrupted prompt back in the input box; the next message replaces it.
      h.model.rule({ name: "after-esc", when: match.lastUserTextIncludes("after the interrupt"), reply: { text: "Fresh start." } });
      const next = h.model.requests.length;
      expect((await h.kernel.send(id, "after the interrupt")).state).toBe("delivered");
      expect(await h.kernel.read(id, { wait: true })).toMatchObject({ status: "idle", lastReply: "Fresh start." });
      expect(lastUserText(mainTurnsAbout("after the interrupt", next)[0]!)).toBe("after the interrupt");
    } finally {
      release();
    }
  });
});

describe("a permission question", () => {
  test("waiting while Claude Code asks; busy, then idle once a person answers", async () => {
    h.model.rule({
      name: "ask",
      when: match.lastUserTextIncludes("please write ask.txt"),
      reply: { text: "Writing ask.txt.", toolUse: { name: "Bash", input: { command: "printf asked > ask.txt", description: "Write ask.txt" } } },
      times: 1,
    });
    h.model.rule({ name: "ask-done", when: match.hasToolResult(), reply: { text: "Wrote ask.txt." }, times: 1 });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "claude-ask", prompt: "please write ask.txt" });
    const waiting = await log.waitFor(instance.id, (s) => s === "waiting", 10_000);
    expect(waiting.statusReason).toMatch(/Do you want to proceed\?|permission/iu);
    expect((await h.kernel.read(instance.id, { wait: true })).status).toBe("waiting");
    // A person answers in the pane: the first option ("Yes") is selected.
    const since = log.changes.length;
    // Claude Code ignores keys that come right after a dialog appears (no approval by typing ahead); a person presses again.
    let idle: InstanceRecord | undefined;
    for (let attempt = 0; attempt < 10 && !idle; attempt++) {
      await h.tmux("send-keys", "-t", waiting.tmux.paneId, "Enter");
      idle = await log.waitFor(instance.id, (s) => s === "idle", 1_000, since).catch(() => undefined);
    }
    if (!idle) throw new Error(`still ${(await h.kernel.get(instance.id)).status}:\n${(await h.kernel.read(instance.id)).screen}`);
    expect(idle.lastReply).toBe("Wrote ask.txt.");
    // Busy again while the tool runs, if the screen is looked at before the turn is over.
    expect(log.changes.slice(since).filter((c) => c.id === instance.id).map((c) => c.to)).toEqual(expect.arrayContaining(["idle"]));
    expect(log.changes.slice(since).filter((c) => c.id === instance.id).every((c) => c.to === "busy" || c.to === "idle")).toBe(true);
    expect(await readFile(path.join(h.workDir, "ask.txt"), "utf8")).toBe("asked");
    await h.kernel.terminate(instance.id);
  });
});
