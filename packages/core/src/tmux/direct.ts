import { spawn } from "node:child_process";
import { constants } from "node:os";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { runTmux } from "./control.js";

/*
 * The tmux calls made without a TmuxRuntime: ones that must not start a
 * server or a control client (doctor's probes) and attaching a person's
 * terminal. They live here, beside the runtime, so that only core runs tmux.
 */

/** A tmux error that only says there is no server (or no session) on the socket. */
export function isServerGone(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /no server running|error connecting|can't find session|no sessions|server exited/iu.test(message);
}

/** `tmux -V`, e.g. "tmux 3.3a". Throws TMUX_NOT_FOUND when the binary is missing. */
export async function tmuxVersion(binary: string): Promise<string> {
  return (await runTmux(binary, ["-V"])).trim();
}

/**
 * The session names on `socket`, or undefined when no server runs there.
 * `list-sessions` asks a running server and never starts one.
 */
export async function listSessionNames(options: { binary: string; socket: string }): Promise<string[] | undefined> {
  try {
    const output = await runTmux(options.binary, ["-L", options.socket, "list-sessions", "-F", "#{session_name}"]);
    return output.split("\n").filter((name) => name !== "");
  } catch (error) {
    if (isServerGone(error)) return undefined;
    throw error;
  }
}

export interface AttachOptions {
  binary: string;
  socket: string;
  session: string;
  /** The environment of the person's shell; TMUX and TMUX_PANE are removed (tmux refuses to attach from inside a client otherwise). */
  env: NodeJS.ProcessEnv;
  /** Aborted with reason "SIGTERM": tmux gets SIGTERM. (Ctrl-C reaches tmux through the terminal itself.) */
  signal?: AbortSignal;
}

/** Attach this process's terminal to a session (inherited stdio, no shell); resolves with tmux's exit code once the person detaches. */
export function attachTerminal(options: AttachOptions): Promise<number> {
  const { binary, signal } = options;
  const env = { ...options.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["-L", options.socket, "attach-session", "-t", `=${options.session}`], { stdio: "inherit", env });
    const onAbort = () => {
      if (signal?.reason === "SIGTERM") child.kill("SIGTERM");
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", (error: NodeJS.ErrnoException) => {
      signal?.removeEventListener("abort", onAbort);
      reject(
        error.code === "ENOENT"
          ? new TmuxClaudeError(ErrorCodes.TMUX_NOT_FOUND, `tmux was not found: "${binary}" is not on PATH. Install tmux or set tmux.binary in your config.`, { binary })
          : error,
      );
    });
    child.once("close", (code, exitSignal) => {
      signal?.removeEventListener("abort", onAbort);
      resolve(code ?? 128 + (exitSignal ? (constants.signals[exitSignal] ?? 0) : 0));
    });
  });
}
