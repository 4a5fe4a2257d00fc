/**
 * The real Claude Code binary, run in print mode against the stand-in model.
 * The first run installs Claude Code from npm into node_modules/.cache.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claudeReleases,
  claudeEnv,
  findClaudeBinary,
  lastUserText,
  match,
  prepareClaudeHome,
  StandInModel,
  toolNames,
  toolResults,
  type ClaudeBinary,
  type ClaudeHome,
} from "../src/index.js";

interface PrintResult {
  type: string;
  subtype: string;
  is_error: boolean;
  result: string;
  session_id: string;
  usage: { input_tokens: number; output_tokens: number };
  api_error_status?: number | null;
}

interface RunOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { ...options, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    // `claude -p` reads piped stdin as extra prompt and waits for it to end.
    child.stdin?.end();
  });
}

function parseResult(outcome: RunOutcome): PrintResult {
  try {
    return JSON.parse(outcome.stdout) as PrintResult;
  } catch {
    throw new Error(`claude -p printed no JSON result (exit ${outcome.code}). stdout: ${outcome.stdout.slice(0, 500)} stderr: ${outcome.stderr.slice(0, 500)}`);
  }
}

describe("real Claude Code against the stand-in model", () => {
  let claude: ClaudeBinary;
  let model: StandInModel;
  let home: ClaudeHome;
  let root: string;
  let workdir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    claude = await findClaudeBinary({ install: true });
    root = await mkdtemp(join(tmpdir(), "testkit-real-"));
    workdir = join(root, "work");
    model = await StandInModel.start();
    home = await prepareClaudeHome({ dir: join(root, "home"), apiKey: "sk-ant-testkit-0123456789abcdefghijklmnopqrstuvwxyz", trustedDirs: [workdir] });
    env = claudeEnv({ home, model });
    await mkdir(workdir, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await model?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("finds a runnable binary", () => {
    expect(claude.path).toMatch(/claude(\.exe)?$/);
    expect(claude.version).toMatch(/^2\.\d+\.\d+/);
  });

  it("answers `claude -p` with the scripted text", async () => {
    const since = model.requests.length;
    model.rule({ name: "hi", when: match.lastUserTextIncludes("say hi"), reply: { text: "Hi from the stand-in!" }, times: 1 });
    const outcome = await run(claude.path, ["-p", "say hi", "--output-format", "json"], { cwd: workdir, env });
    const result = parseResult(outcome);
    expect(result).toMatchObject({ type: "result", subtype: "success", is_error: false, result: "Hi from the stand-in!" });
    expect(result.usage.output_tokens).toBeGreaterThan(0);
    const turn = await model.waitForRequest(match.all(match.mainTurn, match.lastUserTextIncludes("say hi")), 1_000, { since });
    expect(turn.rule).toBe("hi");
    expect(turn.headers["x-api-key"]).toBe(home.apiKey);
    expect(turn.body.stream).toBe(true);
    expect(lastUserText(turn)).toBe("say hi");
  });

  it("runs a scripted Bash tool call and sends its result back", async () => {
    const since = model.requests.length;
    model.rule({
      name: "write-file",
      when: match.lastUserTextIncludes("make the file"),
      reply: { text: "Writing it.", toolUse: { name: "Bash", input: { command: "echo hi > out.txt", description: "Write out.txt" } } },
      times: 1,
    });
    model.rule({ name: "after-tool", when: match.hasToolResult(), reply: { text: "Wrote out.txt." }, times: 1 });
    const outcome = await run(claude.path, ["-p", "make the file", "--output-format", "json", "--allowedTools", "Bash"], { cwd: workdir, env });
    const result = parseResult(outcome);
    expect(result).toMatchObject({ subtype: "success", is_error: false, result: "Wrote out.txt." });
    expect(await readFile(join(workdir, "out.txt"), "utf8")).toBe("hi\n");
    const followUp = await model.waitForRequest(match.hasToolResult(), 1_000, { since });
    expect(followUp.rule).toBe("after-tool");
    const [toolResult] = toolResults(followUp);
    expect(toolResult?.isError).toBe(false);
    expect(toolResult?.toolUseId).toMatch(/^toolu_standin_/);
  });

  it("surfaces a scripted API error without retrying", async () => {
    const since = model.requests.length;
    model.rule({
      name: "overloaded",
      when: match.lastUserTextIncludes("fail please"),
      reply: { error: { status: 529, type: "overloaded_error", message: "Overloaded (scripted)" } },
      times: 1,
    });
    const started = Date.now();
    const outcome = await run(claude.path, ["-p", "fail please", "--output-format", "json"], { cwd: workdir, env });
    const result = parseResult(outcome);
    expect(result.is_error).toBe(true);
    expect(result.api_error_status).toBe(529);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(model.requests.slice(since).filter((r) => r.rule === "overloaded")).toHaveLength(1);
  });
});

const ECHO_MCP_SERVER = fileURLToPath(new URL("./fixtures/echo-mcp-server.mjs", import.meta.url));

// Claude Code defers MCP tools behind ToolSearch (2.1.329 in print mode, 2.1.332 everywhere): the stand-in must do
// what a real model does, on the pinned release and on the newest one.
for (const release of await claudeReleases()) {
  describe.skipIf(release.skip !== undefined)(`deferred MCP tools on Claude Code ${release.label}`, () => {
    let claude: ClaudeBinary;
    let model: StandInModel;
    let root: string;
    let workdir: string;
    let env: Record<string, string>;

    beforeAll(async () => {
      claude = await release.binary();
      root = await mkdtemp(join(tmpdir(), "testkit-deferred-"));
      workdir = join(root, "work");
      await mkdir(workdir, { recursive: true });
      model = await StandInModel.start();
      const home = await prepareClaudeHome({ dir: join(root, "home"), apiKey: "sk-ant-testkit-0123456789abcdefghijklmnopqrstuvwxyz", trustedDirs: [workdir] });
      env = claudeEnv({ home, model });
    }, 300_000);
    afterAll(async () => {
      await model?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it("the stand-in selects a deferred MCP tool with ToolSearch, then calls it", async () => {
      const since = model.requests.length;
      model.rule({ name: "echo", when: match.lastUserTextIncludes("echo please"), reply: { toolUse: { name: "mcp__fake__echo", input: { text: "hi" } } }, times: 1 });
      model.rule({ name: "echoed", when: match.hasToolResult({ contentIncludes: "ECHO: hi" }), reply: { text: "The server said ECHO: hi." }, times: 1 });
      const config = JSON.stringify({ mcpServers: { fake: { type: "stdio", command: process.execPath, args: [ECHO_MCP_SERVER] } } });
      const outcome = await run(claude.path, ["-p", "echo please", "--output-format", "json", "--mcp-config", config, "--strict-mcp-config", "--allowedTools", "mcp__fake"], { cwd: workdir, env });
      expect(parseResult(outcome)).toMatchObject({ subtype: "success", is_error: false, result: "The server said ECHO: hi." });
      const turns = model.requests.slice(since).filter((r) => r.kind === "messages" && r.rule !== "side-default");
      // Deferred: the first turn offers ToolSearch, not the tool; the stand-in's first answer was the selection.
      expect(toolNames(turns[0]!)).toContain("ToolSearch");
      expect(toolNames(turns[0]!)).not.toContain("mcp__fake__echo");
      expect(turns.map((r) => r.rule)).toEqual(["echo", "echo (after ToolSearch)", "echoed"]);
      expect(toolNames(turns[1]!)).toContain("mcp__fake__echo");
    });
  });
}
