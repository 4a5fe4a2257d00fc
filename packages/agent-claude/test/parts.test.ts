/**
 * The claude adapter's parts without the Claude binary: the hook command, the
 * launch (arguments, generated settings, options), the event log follower,
 * transcript usage and the screen classifier (on screens captured from
 * Claude Code 2.1.x).
 */
import { execFile } from "node:child_process";
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EventLog, type HookEvent } from "../src/events.js";
import { HOOK_EVENTS, hookCommand } from "../src/hook.js";
import { claudeLaunch, generatedSettings, PROGRESS_REQUEST, taskToolsEnv } from "../src/launch.js";
import { boxShows, classifyScreen, draftText, inputBox } from "../src/screen.js";
import { submittedText, typedText } from "../src/driver.js";
import { TranscriptUsage } from "../src/transcript.js";
import { LONG_CONTEXT_INPUT_TOKENS, modelUsd, priceOf, PRICES, PRICES_AS_OF } from "../src/prices.js";
import { createLogger, ErrorCodes, parseConfig, type LaunchContext } from "@tmux-claude/core";

const execFileAsync = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "tc-claude-parts-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run a hook command the way Claude Code does: through `/bin/sh -c`, the hook's JSON on stdin. */
function runHook(command: string, input: string, env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = execFile("/bin/sh", ["-c", command], { env: { PATH: process.env.PATH, ...env } }, (error, stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr, ms });
    });
    // A hook may exit without reading its input (as one of a gone instance does): Claude Code ignores that, and so do we.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input);
  });
}

/** The lines of an events file, each parsed (a line that is not JSON fails the test, naming it). */
async function eventLines(file: string): Promise<HookEvent[]> {
  const text = await readFile(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      try {
        return JSON.parse(line) as HookEvent;
      } catch {
        throw new Error(`not one JSON event per line: ${line.length} bytes starting ${JSON.stringify(line.slice(0, 80))}`);
      }
    });
}

describe("the hook command", () => {
  test("appends one JSON line per event, prints nothing, exits 0", async () => {
    const events = path.join(dir, "events.jsonl");
    const payload = { session_id: "s-1", hook_event_name: "UserPromptSubmit", prompt: "line 1\nline 2 $(x) `y` 'q' \"d\" \\ é 🚀 %s %n \u2028" };
    const result = await runHook(hookCommand("UserPromptSubmit"), JSON.stringify(payload), { TMUX_CLAUDE_EVENTS: events, TMUX_CLAUDE_LAUNCH: "launch-1" });
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(await eventLines(events)).toEqual([{ event: "UserPromptSubmit", launch: "launch-1", payload }]);
    // JSON spread over lines (whitespace between tokens) still becomes one line.
    const pretty = { hook_event_name: "Stop", session_id: "s-1", last_assistant_message: "a\nb" };
    await runHook(hookCommand("Stop"), `${JSON.stringify(pretty, null, 2)}\n`, { TMUX_CLAUDE_EVENTS: events, TMUX_CLAUDE_LAUNCH: "launch-1" });
    expect((await eventLines(events)).map((e) => [e.event, e.payload])).toEqual([["UserPromptSubmit", payload], ["Stop", pretty]]);
  });

  test("concurrent hooks with large payloads never interleave their lines", async () => {
    const events = path.join(dir, "concurrent.jsonl");
    // Far above every buffer between the hook and the file (a pipe's 64 KiB, cat's 128 KiB, the shell's 8 KiB),
    // so a line written in pieces would interleave with the others.
    const sizes = Array.from({ length: 24 }, (_, i) => 100_000 + i * 40_000);
    const results = await Promise.all(
      sizes.map((size, i) =>
        runHook(hookCommand("Stop"), JSON.stringify({ hook_event_name: "Stop", session_id: "s", last_assistant_message: `${i}:${String(i % 10).repeat(size)}` }), {
          TMUX_CLAUDE_EVENTS: events,
          TMUX_CLAUDE_LAUNCH: "launch-1",
        }),
      ),
    );
    expect(results.every((r) => r.code === 0 && r.stdout === "" && r.stderr === "")).toBe(true);
    const lines = await eventLines(events);
    expect(lines).toHaveLength(sizes.length);
    const seen = lines.map((line) => {
      const [i, text] = line.payload.last_assistant_message!.split(":") as [string, string];
      expect(text).toBe(String(Number(i) % 10).repeat(sizes[Number(i)]!));
      return Number(i);
    });
    expect(seen.sort((a, b) => a - b)).toEqual([...sizes.keys()]);
  });

  test("without an instance (no variable, or its directory gone) it does nothing and still exits 0", async () => {
    const input = JSON.stringify({ hook_event_name: "Stop", session_id: "s" });
    expect(await runHook(hookCommand("Stop"), input, {})).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const gone = path.join(dir, "removed-instance", "events.jsonl");
    expect(await runHook(hookCommand("Stop"), input, { TMUX_CLAUDE_EVENTS: gone })).toMatchObject({ code: 0, stdout: "", stderr: "" });
    await expect(readFile(gone)).rejects.toThrow();
    expect(await runHook(hookCommand("Stop"), input, { TMUX_CLAUDE_EVENTS: "relative/events.jsonl" })).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });

  test("input that is not JSON, or an odd launch id, gives a line the event log skips; the next event still arrives", async () => {
    const file = path.join(dir, "garbage.jsonl");
    for (const [input, launch] of [["not json", "l"], ["", "l"], [JSON.stringify({ session_id: "s" }), 'x","launch":"forged']] as const) {
      expect(await runHook(hookCommand("Stop"), input, { TMUX_CLAUDE_EVENTS: file, TMUX_CLAUDE_LAUNCH: launch })).toMatchObject({ code: 0, stdout: "", stderr: "" });
    }
    await runHook(hookCommand("Stop"), JSON.stringify({ session_id: "s", hook_event_name: "Stop" }), { TMUX_CLAUDE_EVENTS: file, TMUX_CLAUDE_LAUNCH: "l" });
    const delivered: HookEvent[] = [];
    const log = new EventLog(file, 0, (events) => delivered.push(...events), createLogger("silent"));
    await log.start();
    log.close();
    // The forged launch id is dropped, not spliced into the line.
    expect(delivered).toEqual([
      { event: "Stop", launch: "", payload: { session_id: "s" } },
      { event: "Stop", launch: "l", payload: { session_id: "s", hook_event_name: "Stop" } },
    ]);
  });

  test("an events path with spaces, quotes and shell syntax is used as it is, nothing interpolated", async () => {
    const odd = path.join(dir, "it's a $(touch pwned) `x` \"d\"");
    await mkdir(odd);
    const events = path.join(odd, "events.jsonl");
    const result = await runHook(hookCommand("Stop"), JSON.stringify({ hook_event_name: "Stop", session_id: "s" }), { TMUX_CLAUDE_EVENTS: events });
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(await eventLines(events)).toEqual([{ event: "Stop", launch: "", payload: { hook_event_name: "Stop", session_id: "s" } }]);
    await expect(stat(path.join(process.cwd(), "pwned"))).rejects.toThrow();
  });

  test("wall time per call, through the shell as Claude Code runs it, next to a shell builtin's", async () => {
    const events = path.join(dir, "timing.jsonl");
    const input = JSON.stringify({ hook_event_name: "Stop", session_id: "s", last_assistant_message: "x".repeat(2_000) });
    const floor = `echo Stop >> '${path.join(dir, "timing-floor.log")}'`;
    const times = { hook: [] as number[], floor: [] as number[] };
    for (let i = 0; i < 10; i++) {
      times.hook.push((await runHook(hookCommand("Stop"), input, { TMUX_CLAUDE_EVENTS: events })).ms);
      times.floor.push((await runHook(floor, input, {})).ms);
    }
    const median = (list: number[]) => [...list].sort((a, b) => a - b)[5]!;
    console.info(`[claude] hook command wall time: median ${median(times.hook).toFixed(1)} ms; a shell builtin hook: ${median(times.floor).toFixed(1)} ms`);
    expect(await eventLines(events)).toHaveLength(10);
  });
});

function launchContext(overrides: Partial<LaunchContext> & { instanceDir: string }): LaunchContext {
  const config = parseConfig({ roles: { worker: { prefix: "w", instructions: "Do the work.\nReport back." } } });
  return {
    instanceId: "exec-1.w-2",
    parentId: "exec-1",
    role: "worker",
    roleConfig: config.roles.worker!,
    agentName: "claude",
    agent: { adapter: "claude", command: "claude", args: ["--verbose"], env: {} },
    workDir: dir,
    config,
    env: {},
    ...overrides,
  };
}

describe("launch", () => {
  test("a fresh session: arguments, environment, generated settings, state", async () => {
    const instanceDir = path.join(dir, "launch-fresh");
    await mkdir(instanceDir);
    const spec = await claudeLaunch(launchContext({ instanceDir, agent: { adapter: "claude", command: "claude", args: ["--verbose"], env: {}, permissionMode: "plan", model: "sonnet" } }));
    const state = spec.agentState as Record<string, unknown>;
    expect(state.sessionId).toMatch(/^[0-9a-f-]{36}$/u);
    expect(spec.args).toEqual([
      "--session-id", state.sessionId,
      "--settings", path.join(instanceDir, "settings.json"),
      "--append-system-prompt", `Do the work.\nReport back.\n\nYou are the tmux-claude instance "exec-1.w-2" with the role "worker", spawned by the instance "exec-1".\n\n${PROGRESS_REQUEST}`,
      "--permission-mode", "plan",
      "--model", "sonnet",
      "--verbose",
    ]);
    expect(spec.env).toEqual({ TMUX_CLAUDE_EVENTS: path.join(instanceDir, "events.jsonl"), TMUX_CLAUDE_LAUNCH: state.launchId, ...(process.env.CLAUDE_CODE_ENABLE_TODO_TOOLS === undefined ? { CLAUDE_CODE_ENABLE_TODO_TOOLS: "1" } : {}) });
    expect(spec.promptDelivered).toBeUndefined();
    expect(state).toMatchObject({ eventsOffset: 0, resumed: false, transcripts: [] });
    const settings = JSON.parse(await readFile(path.join(instanceDir, "settings.json"), "utf8")) as { hooks: Record<string, unknown> };
    expect(settings).toEqual(generatedSettings({ bypass: false }));
    expect(Object.keys(settings.hooks)).toEqual([...HOOK_EVENTS]);
    expect(settings).not.toHaveProperty("skipDangerousModePermissionPrompt");
  });

  test("a restart resumes the stored session when its transcript exists; otherwise reuses the id afresh", async () => {
    const instanceDir = path.join(dir, "launch-restart");
    await mkdir(instanceDir);
    await writeFile(path.join(instanceDir, "events.jsonl"), '{"event":"Stop"}\n');
    const transcript = path.join(dir, "transcript.jsonl");
    await writeFile(transcript, "{}\n");
    const previous = {
      id: "exec-1.w-2", role: "worker", parentId: "exec-1", depth: 2, agent: "claude", workDir: dir, status: "exited" as const,
      createdAt: "", updatedAt: "", tmux: { socket: "s", session: "x", paneId: "%1", windowId: "@1", pid: 1 }, launch: { command: "claude", args: [], env: {} },
      agentState: { sessionId: "11111111-2222-3333-4444-555555555555", launchId: "old", eventsOffset: 3, transcriptPath: transcript, transcripts: [transcript] },
    };
    const resumed = await claudeLaunch(launchContext({ instanceDir, previous }));
    expect(resumed.args.slice(0, 2)).toEqual(["--resume", "11111111-2222-3333-4444-555555555555"]);
    expect(resumed.agentState).toMatchObject({ resumed: true, eventsOffset: 17, transcripts: [transcript] });
    expect(resumed.agentState?.launchId).not.toBe("old");

    const never = await claudeLaunch(launchContext({ instanceDir, previous: { ...previous, agentState: { ...previous.agentState, transcriptPath: path.join(dir, "none.jsonl") } } }));
    expect(never.args.slice(0, 2)).toEqual(["--session-id", "11111111-2222-3333-4444-555555555555"]);
  });

  test("the kernel's MCP endpoint becomes this instance's own tmux-claude server, its tools allowed", async () => {
    const instanceDir = path.join(dir, "launch-mcp");
    await mkdir(instanceDir);
    const spec = await claudeLaunch(launchContext({ instanceDir, env: { TMUX_CLAUDE_MCP_URL: "http://127.0.0.1:41234/mcp", TMUX_CLAUDE_MCP_TOKEN: "secret-token" } }));
    const file = path.join(instanceDir, "mcp.json");
    expect(spec.args.slice(4, 6)).toEqual(["--mcp-config", file]);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({
      mcpServers: { "tmux-claude": { type: "http", url: "http://127.0.0.1:41234/mcp", headers: { Authorization: "Bearer secret-token" }, alwaysLoad: true } },
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path.join(instanceDir, "settings.json"), "utf8"))).toMatchObject({ permissions: { allow: ["mcp__tmux-claude"] } });
    // The secret is in no argument (arguments are visible to every user in ps).
    expect(spec.args.join(" ")).not.toContain("secret-token");
  });

  test("skipPermissions: the flag, IS_SANDBOX for root, no bypass dialog through the settings", async () => {
    const instanceDir = path.join(dir, "launch-skip");
    await mkdir(instanceDir);
    const spec = await claudeLaunch(launchContext({ instanceDir, agent: { adapter: "claude", command: "claude", args: [], env: {}, skipPermissions: true } }));
    expect(spec.args).toContain("--dangerously-skip-permissions");
    expect(spec.env?.IS_SANDBOX).toBe(process.getuid?.() === 0 ? "1" : undefined);
    expect(JSON.parse(await readFile(path.join(instanceDir, "settings.json"), "utf8"))).toMatchObject({ skipDangerousModePermissionPrompt: true });
  });

  test("task tools: CLAUDE_CODE_ENABLE_TODO_TOOLS=1 unless the agent's env or the inherited one sets it, or taskTools: false; the prompt asks for a task list", async () => {
    const instanceDir = path.join(dir, "launch-tasks");
    await mkdir(instanceDir);
    const launch = (agent: Record<string, unknown>, env: Record<string, string> = {}) =>
      claudeLaunch(launchContext({ instanceDir, env, agent: { adapter: "claude", command: "claude", args: [], env, ...agent } }));
    const prompt = (spec: { args: string[] }) => spec.args[spec.args.indexOf("--append-system-prompt") + 1];
    expect(taskToolsEnv({ env: {} }, true, {})).toEqual({ CLAUDE_CODE_ENABLE_TODO_TOOLS: "1" });
    // The user's value wins: the spawner applies the adapter's env over the agent's, so the adapter leaves it out.
    expect(taskToolsEnv({ env: { CLAUDE_CODE_ENABLE_TODO_TOOLS: "0" } }, true, {})).toEqual({});
    expect(taskToolsEnv({ env: {} }, true, { CLAUDE_CODE_ENABLE_TODO_TOOLS: "0" })).toEqual({});
    expect(taskToolsEnv({ env: {} }, false, {})).toEqual({});
    const user = await launch({}, { CLAUDE_CODE_ENABLE_TODO_TOOLS: "0" });
    expect(user.env).not.toHaveProperty("CLAUDE_CODE_ENABLE_TODO_TOOLS");
    expect(prompt(user)).toContain(PROGRESS_REQUEST);
    const off = await launch({ taskTools: false });
    expect(off.env).not.toHaveProperty("CLAUDE_CODE_ENABLE_TODO_TOOLS");
    expect(prompt(off)).not.toContain(PROGRESS_REQUEST);
    await expect(launch({ taskTools: "no" })).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining("agents.claude.taskTools") });
  });

  test("options are validated: an unknown key or a bad value is named", async () => {
    const instanceDir = path.join(dir, "launch-bad");
    await mkdir(instanceDir);
    const bad = (extra: Record<string, unknown>) => claudeLaunch(launchContext({ instanceDir, agent: { adapter: "claude", command: "claude", args: [], env: {}, ...extra } }));
    await expect(bad({ trustWorkdir: true })).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining('"trustWorkdir"') });
    await expect(bad({ permissionMode: "yolo" })).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining("agents.claude.permissionMode") });
    await expect(bad({ skipPermissions: "yes" })).rejects.toMatchObject({ code: ErrorCodes.CONFIG_INVALID, message: expect.stringContaining("agents.claude.skipPermissions") });
  });
});

describe("the event log", () => {
  test("delivers complete lines once, from the offset, as the file grows", async () => {
    const file = path.join(dir, "log.jsonl");
    const old = '{"event":"Old","launch":null,"at":"","payload":{}}\n';
    await writeFile(file, old);
    const batches: { events: string[]; offset: number }[] = [];
    let notify = () => {};
    const log = new EventLog(file, Buffer.byteLength(old), (events, offset) => {
      batches.push({ events: events.map((e) => e.event), offset });
      notify();
    }, createLogger("silent"));
    const next = () => new Promise<void>((resolve) => (notify = resolve));
    await log.start();
    expect(batches).toEqual([]);
    let arrived = next();
    await appendFile(file, '{"event":"A","launch":null,"at":"","payload":{}}\n{"event":"B","launch":null,"at":"","pay');
    await arrived;
    expect(batches.at(-1)?.events).toEqual(["A"]);
    arrived = next();
    await appendFile(file, 'load":{}}\nnot json\n');
    await arrived;
    expect(batches.map((b) => b.events)).toEqual([["A"], ["B"]]);
    expect(batches.at(-1)?.offset).toBe((await readFile(file)).length);
    log.close();
  });
});

describe("transcript usage", () => {
  test("sums assistant messages once each (one line per content block), reading only new bytes", async () => {
    const file = path.join(dir, "usage.jsonl");
    const assistant = (id: string, output: number, text?: string) =>
      `${JSON.stringify({ type: "assistant", message: { id, content: text ? [{ type: "text", text }] : [{ type: "tool_use" }], usage: { input_tokens: 100, output_tokens: output, cache_creation_input_tokens: 10, cache_read_input_tokens: 1 } } })}\n`;
    await writeFile(file, `{"type":"user","message":{"content":"hi"}}\n${assistant("m1", 5, "Running.")}${assistant("m1", 7)}`);
    const usage = new TranscriptUsage();
    // Messages that name no model are counted under "unknown" in the breakdown.
    expect(await usage.total([file])).toEqual({ inputTokens: 100, outputTokens: 7, cacheCreationInputTokens: 10, cacheReadInputTokens: 1, models: [{ model: "unknown", input: 100, output: 7, cacheWrite: 10, cacheRead: 1 }] });
    const waited = usage.waitForReply(file, "All done.", 5_000);
    await appendFile(file, assistant("m2", 3, "All done."));
    await waited;
    expect(await usage.total([file, path.join(dir, "missing.jsonl")])).toMatchObject({ inputTokens: 200, outputTokens: 10, cacheCreationInputTokens: 20, cacheReadInputTokens: 2 });
  });
});

describe("prices", () => {
  test("each API message is priced by its own model; the last model is the usage's; an unknown model gives no cost", async () => {
    const file = path.join(dir, "priced.jsonl");
    const line = (id: string, model: string, usage: Record<string, number>) => `${JSON.stringify({ type: "assistant", message: { id, model, content: [{ type: "text", text: id }], usage } })}\n`;
    const tokens = { input_tokens: 1_000, output_tokens: 2_000, cache_creation_input_tokens: 3_000, cache_read_input_tokens: 4_000 };
    await writeFile(file, line("m1", "claude-opus-4-5-20251101", tokens) + line("m2", "claude-haiku-4-5-20251001", tokens) + line("m3", "<synthetic>", { input_tokens: 0, output_tokens: 0 }));
    const usage = new TranscriptUsage();
    // Opus 4.5: 1000*5 + 2000*25 + 3000*6.25 + 4000*0.5 = 75,750 per million; Haiku 4.5: 1000*1 + 2000*5 + 3000*1.25 + 4000*0.1 = 15,150.
    const total = await usage.total([file]);
    expect(total).toMatchObject({ inputTokens: 2_000, outputTokens: 4_000, model: "claude-haiku-4-5-20251001" });
    expect(total.costUsd).toBeCloseTo((75_750 + 15_150) / 1_000_000, 10);
    // A session that switched models: each model's tokens apart (the <synthetic> notice has none).
    const each = { input: 1_000, output: 2_000, cacheWrite: 3_000, cacheRead: 4_000 };
    expect(total.models).toEqual([
      { model: "claude-opus-4-5-20251101", ...each },
      { model: "claude-haiku-4-5-20251001", ...each },
    ]);
    await appendFile(file, line("m4", "claude-opus-4-9", tokens) + line("m5", "claude-opus-4-5-20251101", tokens));
    const unknown = await usage.total([file]);
    expect(unknown).toMatchObject({ inputTokens: 4_000, model: "claude-opus-4-5-20251101" });
    expect(unknown.costUsd).toBeUndefined();
    expect(unknown.models).toEqual([
      { model: "claude-opus-4-5-20251101", input: 2_000, output: 4_000, cacheWrite: 6_000, cacheRead: 8_000 },
      { model: "claude-haiku-4-5-20251001", ...each },
      { model: "claude-opus-4-9", ...each },
    ]);
  });

  test("model ids: a date or a context tag after a known id is that model; a newer minor version is not the older one", () => {
    expect(priceOf("claude-sonnet-4-5-20250929")).toEqual({ input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 });
    expect(priceOf("claude-sonnet-4-5[1m]")).toBe(PRICES["claude-sonnet-4-5"]);
    expect(priceOf("claude-opus-4-20250514")).toBe(PRICES["claude-opus-4"]);
    expect(priceOf("claude-opus-4-9")).toBeUndefined();
    expect(priceOf("gpt-5")).toBeUndefined();
    expect(modelUsd({ model: "claude-opus-4-1", input: 100_000, output: 0, cacheWrite: 0, cacheRead: 0 })).toBeCloseTo(1.5, 10);
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/u);
  });

  test("Bedrock and Vertex ids are the API's model: region prefix, anthropic. and -v1:0 dropped, @date read as -date", () => {
    const sonnet = PRICES["claude-sonnet-4-5"];
    expect(priceOf("anthropic.claude-sonnet-4-5-20250929-v1:0")).toBe(sonnet);
    expect(priceOf("us.anthropic.claude-sonnet-4-5-20250929-v1:0")).toBe(sonnet);
    expect(priceOf("global.anthropic.claude-haiku-4-5-20251001-v1:0")).toBe(PRICES["claude-haiku-4-5"]);
    expect(priceOf("anthropic.claude-3-5-haiku-20241022-v1:0")).toBe(PRICES["claude-3-5-haiku"]);
    expect(priceOf("claude-sonnet-4-5@20250929")).toBe(sonnet);
    expect(priceOf("claude-opus-4-1@20250805")).toBe(PRICES["claude-opus-4-1"]);
    // Still no guess for a newer version under a provider's id.
    expect(priceOf("anthropic.claude-opus-4-9-20270101-v1:0")).toBeUndefined();
    expect(priceOf("claude-opus-4-9@20270101")).toBeUndefined();
  });

  test("Claude 3.x models have their published prices, with a date or -latest", () => {
    // A tenth of a million of each: a tenth of the per-million prices.
    const tenth = (model: string) => modelUsd({ model, input: 100_000, output: 100_000, cacheWrite: 0, cacheRead: 0 });
    expect(tenth("claude-3-haiku-20240307")).toBeCloseTo((0.25 + 1.25) / 10, 10);
    expect(tenth("claude-3-5-haiku-20241022")).toBeCloseTo((0.8 + 4) / 10, 10);
    expect(tenth("claude-3-5-haiku-latest")).toBeCloseTo((0.8 + 4) / 10, 10);
    expect(tenth("claude-3-7-sonnet-20250219")).toBeCloseTo((3 + 15) / 10, 10);
    expect(tenth("claude-3-opus-20240229")).toBeCloseTo((15 + 75) / 10, 10);
    expect(priceOf("claude-3-haiku-20240307")).toEqual({ input: 0.25, output: 1.25, cacheWrite: 0.3, cacheRead: 0.03 });
  });

  test("a request over 200K input tokens (1M context) is priced with long-context rates, none in the shipped table; at 200K it is a base-rate one", async () => {
    const tokens = { model: "claude-sonnet-4-5[1m]", input: 10_000, output: 1_000, cacheWrite: 40_000, cacheRead: 150_000 };
    expect(modelUsd(tokens)).toBeCloseTo((10_000 * 3 + 1_000 * 15 + 40_000 * 3.75 + 150_000 * 0.3) / 1_000_000, 10);
    expect(modelUsd({ ...tokens, longContext: true })).toBeUndefined();
    // A price with long-context rates (a config's) prices them.
    const table = { "claude-sonnet-4-5": { ...PRICES["claude-sonnet-4-5"]!, longContext: { input: 6, output: 22.5, cacheWrite: 7.5, cacheRead: 0.6 } } };
    expect(modelUsd({ ...tokens, longContext: true }, table)).toBeCloseTo((10_000 * 6 + 1_000 * 22.5 + 40_000 * 7.5 + 150_000 * 0.6) / 1_000_000, 10);
    // In a transcript: one long-context message makes the session's cost unknown, its tokens still counted.
    const file = path.join(dir, "long-context.jsonl");
    const line = (id: string, usage: Record<string, number>) => `${JSON.stringify({ type: "assistant", message: { id, model: "claude-sonnet-4-5-20250929", content: [{ type: "text", text: id }], usage } })}\n`;
    await writeFile(file, line("short", { input_tokens: 1_000, output_tokens: 10 }) + line("edge", { input_tokens: 50_000, cache_read_input_tokens: LONG_CONTEXT_INPUT_TOKENS - 50_000 }) + line("long", { input_tokens: 5_000, output_tokens: 10, cache_read_input_tokens: 300_000 }));
    const total = await new TranscriptUsage().total([file]);
    expect(total).toMatchObject({ inputTokens: 56_000, cacheReadInputTokens: 450_000 });
    expect(total.costUsd).toBeUndefined();
    // The breakdown keeps the long-context request apart, so the rest stays priceable.
    expect(total.models).toEqual([
      { model: "claude-sonnet-4-5-20250929", input: 51_000, output: 10, cacheWrite: 0, cacheRead: LONG_CONTEXT_INPUT_TOKENS - 50_000 },
      { model: "claude-sonnet-4-5-20250929", input: 5_000, output: 10, cacheWrite: 0, cacheRead: 300_000, longContext: true },
    ]);
  });
});

describe("prompt text", () => {
  test("a long paste comes back wrapped; compared as Claude Code keeps typed text", () => {
    expect(submittedText('\n\n<pasted_content id="ab12">\nline 1\nline 2\n</pasted_content id="ab12">\n')).toBe("line 1\nline 2");
    expect(submittedText("plain")).toBe("plain");
    expect(typedText("a\tb\r\nc\n")).toBe("a    b\nc");
  });
});

const RULE = "─".repeat(120);

describe("the screen classifier", () => {
  test("folder-trust dialog, with its cursor", () => {
    const screen = (cursorOnYes: boolean) => `
${RULE}
 Accessing workspace:
 /tmp/work
 Quick safety check: Is this a project you created or one you trust? (Like your own code, a well-known open source
 project, or work from your team). If not, take a moment to review what's in this folder first.
 Claude Code'll be able to read, edit, and execute files here.
 Security guide
 ${cursorOnYes ? "  No, exit" : "❯ No, exit"}
 ${cursorOnYes ? "❯ Yes, I trust this folder" : "  Yes, I trust this folder"}
 Enter to confirm · Esc to cancel`;
    expect(classifyScreen(screen(false), { startup: true })).toEqual({ kind: "trust-dialog", selected: "no" });
    expect(classifyScreen(screen(true), { startup: true })).toEqual({ kind: "trust-dialog", selected: "yes" });
  });

  test("bypass-permissions warning", () => {
    const screen = `
${RULE}
  WARNING: Claude Code running in Bypass Permissions mode
  In Bypass Permissions mode, Claude Code will not ask for your approval before running potentially dangerous
  commands.
  https://code.claude.com/docs/en/security
  ❯ No, exit
    Yes, I accept
  Enter to confirm · Esc to cancel`;
    expect(classifyScreen(screen, { startup: true })).toEqual({ kind: "bypass-dialog", selected: "exit" });
  });

  test("a permission question while a turn runs", () => {
    const screen = `
❯ make the file
● Writing it.
${RULE}
 Bash command
 echo hi > out.txt
 Do you want to proceed?
 ❯ 1. Yes
   2. Yes, and always allow access to /tmp/work from this project
   3. No
 Esc to cancel · Tab to amend`;
    expect(classifyScreen(screen)).toEqual({ kind: "question", detail: "Do you want to proceed?" });
  });

  test("busy, idle, interrupted", () => {
    const box = (footer: string, content = "") => `
❯ say hi
● Hi from the stand-in!
✻ Worked for 0s · done 9:21 AM
❯ now a slow one
✽ Cogitating…
${RULE}
❯ ${content}
${RULE}
  ${footer}`;
    expect(classifyScreen(box("⏵⏵ auto mode on (shift+tab to cycle) · esc to interrupt · ← for agents"))).toEqual({ kind: "busy" });
    expect(classifyScreen(box("⏵⏵ auto mode on (shift+tab to cycle) · ← for agents"))).toEqual({ kind: "prompt", interrupted: false });
    expect(classifyScreen(box("⏸ manual mode on · ? for shortcuts").replace("✽ Cogitating…", "  ⎿  Interrupted · What should Claude do instead?"))).toEqual({ kind: "prompt", interrupted: true });
    expect(inputBox(box("x", "think forever"))).toBe("❯ think forever");
    expect(draftText(box("x", "think forever"))).toBe("think forever");
    expect(draftText(box("x"))).toBe("");
    expect(draftText(box("x", "Resend your message to try again"))).toBe("");
  });

  test("the input box shows typed and pasted text", () => {
    const screen = (content: string) => `● earlier reply\n${RULE}\n❯ ${content}\n${RULE}\n  ? for shortcuts`;
    const empty = inputBox(screen(""));
    expect(boxShows(screen(""), "hello there", empty)).toBe(false);
    expect(boxShows(screen("hello th"), "hello there", empty)).toBe(false);
    expect(boxShows(screen("hello there"), "hello there", empty)).toBe(true);
    // Wrapped by Claude Code, tabs shown as spaces.
    expect(boxShows(screen("a very long line that Claude Code wraps at the edge of the bo\n  x and\tends here"), "a very long line that Claude Code wraps at the edge of the box and\tends here", empty)).toBe(true);
    expect(boxShows(screen("[Pasted text #1 +116 lines]"), "many\nlines", empty)).toBe(true);
  });

  test("login and network failures at startup", () => {
    expect(classifyScreen("Select login method:\n ❯ 1. Claude account with subscription\n   2. Anthropic Console account", { startup: true }).kind).toBe("login");
    const unreachable = "Unable to connect to Anthropic services\nFailed to connect to api.anthropic.com: ECONNREFUSED";
    expect(classifyScreen(unreachable, { startup: true }).kind).toBe("unreachable");
    // Later the same words are only conversation.
    expect(classifyScreen(unreachable).kind).toBe("unknown");
  });
});
