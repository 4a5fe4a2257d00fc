/**
 * `tmux-claude complete <summary>`: a workflow task reports itself done from
 * its instance's shell, for agents that cannot call MCP tools (a shell, a
 * script, another CLI). It calls the MCP tool `complete` over HTTP as the
 * instance, with the TMUX_CLAUDE_MCP_URL and TMUX_CLAUDE_MCP_TOKEN every
 * instance gets, so the endpoint knows which task it is (served by `serve`).
 */
import type { Command } from "commander";
import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
import { RunErrors } from "@tmux-claude/plugin-workflows";
import { usageError, VERSION, type ActionFactory, type Cli } from "../context.js";

interface CompleteOptions {
  failed?: boolean;
  artifact?: string[];
}

export function registerComplete(program: Command, action: ActionFactory): void {
  program
    .command("complete")
    .description("Report this instance's workflow task done (the MCP tool complete over HTTP), from the agent's own shell.")
    .argument("<summary>", "what was done (the step's reply); with --failed, why it could not be done")
    .option("--failed", "the task failed (status failed): its step and the run fail with the summary")
    .option("--artifact <path>", "a file the task produced (repeatable)", (value: string, all: string[] = []) => [...all, value])
    .addHelpText(
      "after",
      [
        "",
        "Run it inside an instance a workflow spawned (it reads TMUX_CLAUDE_MCP_URL and TMUX_CLAUDE_MCP_TOKEN,",
        "which every instance has), with `tmux-claude serve` running. For a task of a command agent:",
        '  tasks: ["make build && tmux-claude complete \\"built\\" || tmux-claude complete \\"build failed\\" --failed"]',
      ].join("\n"),
    )
    .action(action(complete));
}

async function complete(cli: Cli, summary: string, options: CompleteOptions): Promise<number> {
  const url = cli.io.env.TMUX_CLAUDE_MCP_URL;
  const token = cli.io.env.TMUX_CLAUDE_MCP_TOKEN;
  if (!url || !token) {
    throw usageError(
      "tmux-claude complete reports the task of the instance it runs in, and this shell has no TMUX_CLAUDE_MCP_URL and TMUX_CLAUDE_MCP_TOKEN: run it inside an instance a workflow spawned (its agent's shell), where both are set.",
    );
  }
  const session = new McpSession(url, token);
  const args = { summary, status: options.failed ? "failed" : "ok", ...(options.artifact ? { artifacts: options.artifact } : {}) };
  try {
    await session.request("initialize", { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "tmux-claude complete", version: VERSION } });
    await session.notify("notifications/initialized");
    const result = (await session.request("tools/call", { name: "complete", arguments: args })) as { isError?: boolean; content?: { text?: string }[] };
    const text = (result.content ?? []).map((part) => part.text ?? "").join("\n");
    // The tool's own refusal (no task here, the run ended): its text says why and what to do.
    if (result.isError) throw new TmuxClaudeError(RunErrors.NOT_A_TASK, text || "The complete tool refused the call.");
    cli.out(text);
    return 0;
  } finally {
    await session.close();
  }
}

/** Just enough of MCP's streamable HTTP for one tool call: a session, JSON or an event stream back. */
class McpSession {
  private id: string | undefined;
  private next = 1;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async request(method: string, params: unknown): Promise<unknown> {
    const response = await this.post({ jsonrpc: "2.0", id: this.next++, method, params });
    this.id ??= response.headers.get("mcp-session-id") ?? undefined;
    const body = await response.text();
    // A reply as an event stream: the JSON-RPC message is a data: line.
    const json = (response.headers.get("content-type") ?? "").includes("text/event-stream")
      ? body.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).find((line) => line !== "")
      : body;
    const message = JSON.parse(json ?? "{}") as { result?: unknown; error?: { message?: string } };
    if (message.error) throw new TmuxClaudeError(ErrorCodes.NODE_UNREACHABLE, `The MCP server at ${this.url} refused ${method}: ${message.error.message ?? "no reason given"}`);
    return message.result;
  }

  async notify(method: string): Promise<void> {
    await (await this.post({ jsonrpc: "2.0", method })).text();
  }

  /** Ends the session on the server (it would time out otherwise); a failure here changes nothing for the task. */
  async close(): Promise<void> {
    if (this.id === undefined) return;
    await fetch(this.url, { method: "DELETE", headers: this.headers() }).catch(() => undefined);
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, "content-type": "application/json", accept: "application/json, text/event-stream", ...(this.id ? { "mcp-session-id": this.id } : {}) };
  }

  private async post(message: unknown): Promise<Response> {
    const response = await fetch(this.url, { method: "POST", headers: this.headers(), body: JSON.stringify(message) }).catch((error: unknown) => {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error));
      throw new TmuxClaudeError(ErrorCodes.NODE_UNREACHABLE, `Cannot reach the tmux-claude MCP server at ${this.url} (${cause}): is tmux-claude serve running for this setup? Start it (tmux-claude serve), then run this again.`);
    });
    if (!response.ok) {
      const body = await response.text();
      throw new TmuxClaudeError(ErrorCodes.NODE_UNREACHABLE, `The MCP server at ${this.url} answered ${response.status}: ${body.slice(0, 300)}`);
    }
    return response;
  }
}
