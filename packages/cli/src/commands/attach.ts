import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "commander";
import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
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

  const env = { ...cli.io.env };
  const nested = Boolean(env.TMUX);
  if (nested) {
    // tmux refuses to attach from inside another tmux client unless TMUX is unset.
    delete env.TMUX;
    delete env.TMUX_PANE;
    cli.err(`Attaching to ${id} inside your current tmux. Detach with the prefix key twice, then d (Ctrl-b Ctrl-b d with the default prefix).`);
  } else {
    cli.err(`Attaching to ${id}. Detach with the prefix key, then d (Ctrl-b d with the default prefix).`);
  }
  const args = ["-L", record.tmux.socket, "attach-session", "-t", `=${record.tmux.session}`];
  return runInTerminal(cli, binary, args, env);
}

/** Run tmux on this terminal (inherited stdio, no shell) and return its exit code. */
function runInTerminal(cli: Cli, binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: "inherit", env });
    // Ctrl-C reaches tmux through the terminal; a SIGTERM sent to us is passed on.
    const onAbort = () => {
      if (cli.io.signal.reason === "SIGTERM") child.kill("SIGTERM");
    };
    cli.io.signal.addEventListener("abort", onAbort, { once: true });
    child.once("error", (error: NodeJS.ErrnoException) => {
      cli.io.signal.removeEventListener("abort", onAbort);
      reject(
        error.code === "ENOENT"
          ? new TmuxClaudeError(ErrorCodes.TMUX_NOT_FOUND, `tmux was not found: "${binary}" is not on PATH. Install tmux or set tmux.binary in your config.`, { binary })
          : error,
      );
    });
    child.once("close", (code, signal) => {
      cli.io.signal.removeEventListener("abort", onAbort);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
