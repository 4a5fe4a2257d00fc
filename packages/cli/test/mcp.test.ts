import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { BIN, createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

test("tmux-claude mcp serves the tools over stdio to a person's own client; spawned agents get their own MCP credentials", async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "--config", env.configFile, "mcp"],
    cwd: env.workDir,
    stderr: "pipe",
  });
  const client = new Client({ name: "cli-test", version: "1.0.0" });
  await client.connect(transport);
  const { tools } = await client.listTools();
  // The kernel's tools and those of the plugins on by default (workflows, budget, knowledge).
  expect(tools.map((t) => t.name).sort()).toEqual(["budget", "claim_files", "complete", "get_progress", "knowledge_forget", "knowledge_query", "knowledge_record", "list", "list_runs", "progress", "read", "release_files", "restart", "resume", "run_status", "run_workflow", "send", "spawn", "terminate"]);
  const spawned = await client.callTool({ name: "spawn", arguments: { role: "executive", workDir: env.workDir, prompt: "hello over mcp" } });
  expect(spawned.isError).toBeFalsy();
  const listed = await client.callTool({ name: "list", arguments: {} });
  expect(JSON.stringify(listed.structuredContent)).toContain("exec-1");
  await client.close();

  // The instance outlives the client, and its record carries its MCP endpoint and a token (redacted in output).
  const list = parseJson<{ id: string; status: string; launch: { env: Record<string, string> } }[]>(await env.run(["list", "--json"]));
  expect(list.map((r) => [r.id, r.status])).toEqual([["exec-1", "idle"]]);
  expect(list[0]!.launch.env.TMUX_CLAUDE_MCP_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/u);
  expect(list[0]!.launch.env.TMUX_CLAUDE_MCP_TOKEN).toBe("[redacted]");
  expect((await env.received()).map((m) => m.text)).toContain("hello over mcp");
  expect((await env.run(["terminate", "exec-1"])).code).toBe(0);
});
