import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import { Kernel } from "@tmux-claude/core";
import { serveStdio } from "@tmux-claude/mcp";
import type { ActionFactory, Cli } from "../context.js";

export function registerMcp(program: Command, action: ActionFactory): void {
  program
    .command("mcp")
    .description("Serve the tmux-claude MCP tools over stdio, as the root caller (for your own Claude Code session).")
    .addHelpText(
      "after",
      [
        "",
        "Add it to Claude Code:  claude mcp add tmux-claude -- npx tmux-claude mcp",
        "Only protocol goes to stdout; logs go to stderr. Instances it spawns keep running after the client exits;",
        "their own MCP tools are served by `tmux-claude serve`, which should be running.",
      ].join("\n"),
    )
    .action(action(mcp));
}

async function mcp(cli: Cli): Promise<number> {
  const { config, filepath } = await cli.loadConfig("mcp");
  const kernel = await Kernel.start({ config, configPath: filepath, watch: "on-demand", logger: cli.logger(config, true) });
  try {
    await serveStdio(kernel, { stdin: cli.io.stdin as Readable, stdout: cli.io.stdout as Writable, signal: cli.io.signal, env: cli.io.env });
    return 0;
  } finally {
    await kernel.close();
  }
}
