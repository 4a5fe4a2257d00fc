import type { Command } from "commander";
import { attachTerminal, ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
import { usageError, type ActionFactory, type Cli } from "../context.js";

export function registerAttach(program: Command, action: ActionFactory): void {
  program
    .command("attach")
    .description("Open an instance's tmux session in this terminal (detach with the tmux prefix, then d).")
    .argument("<id>", "instance id (see tmux-claude list)")
    .action(action(attach));
}

async function attach(cli: Cli, id: string): Promise<number> {
  const { record, binary, node } = await cli.withKernel("attach", async (kernel) => ({ record: await kernel.get(id), binary: kernel.config.tmux.binary, node: kernel.node }));
  if (record.tmux.node !== node) {
    throw new TmuxClaudeError(
      ErrorCodes.WRONG_NODE,
      `Instance "${id}" lives on node "${record.tmux.node}", not on this node "${node}"; its session is in that node's tmux. Attach on that machine: tmux -L ${record.tmux.socket} attach-session -t =${record.tmux.session}`,
      { id, node: record.tmux.node, thisNode: node },
    );
  }
  if (record.status === "exited") {
    throw new TmuxClaudeError(
      ErrorCodes.INSTANCE_EXITED,
      `Instance "${id}" has exited${record.statusReason ? ` (${record.statusReason})` : ""}; there is no session to attach to. Restart it first: tmux-claude restart ${id}`,
      { id },
    );
  }
  if (!cli.io.stdin.isTTY) {
    throw usageError(`tmux-claude attach needs a terminal, but stdin is not one. Run it from an interactive terminal, or look at the screen with: tmux-claude read ${id}`, { id });
  }

  if (cli.io.env.TMUX) {
    cli.err(`Attaching to ${id} inside your current tmux. Detach with the prefix key twice, then d (Ctrl-b Ctrl-b d with the default prefix).`);
  } else {
    cli.err(`Attaching to ${id}. Detach with the prefix key, then d (Ctrl-b d with the default prefix).`);
  }
  return attachTerminal({ binary, socket: record.tmux.socket, session: record.tmux.session, env: cli.io.env, signal: cli.io.signal });
}
