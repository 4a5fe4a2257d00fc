import type { Readable, Writable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { callingInstance, type KernelApi } from "@tmux-claude/core";
import { ROOT } from "./caller.js";
import { createToolServer } from "./tools.js";

export interface StdioOptions {
  /** Default: process.stdin. */
  stdin?: Readable;
  /** Default: process.stdout. Nothing but protocol is written to it. */
  stdout?: Writable;
  /** Stop serving when aborted (e.g. SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Default: process.env. Its TMUX_CLAUDE_INSTANCE_ID names the agent that runs this server, for the audit log (see callingInstance). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Serve the tools as the root caller over stdio (`tmux-claude mcp`, for a
 * person's own MCP client; run by an agent, its calls are logged as that agent's). Resolves when the client goes away (stdin ends or
 * the transport closes) or `signal` aborts; the caller then closes the kernel.
 * Instances spawned here keep running in tmux; their own MCP access goes
 * through the HTTP endpoint of `tmux-claude serve`.
 *
 * stdout carries only protocol: the kernel logs to stderr, tmux and other
 * child processes get pipes.
 */
export async function serveStdio(kernel: KernelApi, options: StdioOptions = {}): Promise<void> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const inInstance = callingInstance(options.env ?? process.env, kernel.stateDir);
  const server = createToolServer(kernel, inInstance !== undefined ? { ...ROOT, inInstance } : ROOT);
  const transport = new StdioServerTransport(stdin, stdout);
  const logger = kernel.logger.child({ component: "mcp-stdio" });
  transport.onerror = (error) => logger.warn({ err: error }, "stdio transport error");

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onEnd = () => finish();
  const onAbort = () => finish();
  transport.onclose = onEnd;
  stdin.once("end", onEnd);
  stdin.once("close", onEnd);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) finish();

  await server.connect(transport);
  try {
    await finished;
  } finally {
    stdin.off("end", onEnd);
    stdin.off("close", onEnd);
    options.signal?.removeEventListener("abort", onAbort);
    await server.close().catch(() => undefined);
  }
}
