// Whether the tmux server a runtime works on is there: asked without ever
// starting one, so a killed server stays reported as gone until an operation
// that needs tmux (a spawn) starts a new one.
import { ErrorCodes, isTmuxClaudeError } from "../errors.js";
import { runTmux } from "./control.js";

/** A tmux server runs on `socket` (a plain tmux command, which never starts one). */
export async function serverRunning(binary: string, socket: string): Promise<boolean> {
  try {
    await runTmux(binary, ["-L", socket, "list-sessions", "-F", "#{pid}"]);
    return true;
  } catch (error) {
    if (isTmuxClaudeError(error, ErrorCodes.TMUX_NOT_FOUND)) throw error;
    return false;
  }
}

/** What the health check needs of a runtime. */
export interface HealthTarget {
  socket: string;
  closed: boolean;
  /** A control client is connected or connecting. */
  connected: boolean;
  serverRunning(): Promise<boolean>;
  /** A command on the server the runtime was connected to (never starting a new one). */
  onServer(...args: string[]): Promise<string[]>;
}

/**
 * Whether a runtime's tmux server answers now: a command through the
 * control client. Without a client (the server was killed or died), a plain
 * tmux command, which never starts a server, tells whether one runs again
 * (another process started it); then the runtime reconnects to it. No
 * server at all is not ok: the instances that ran there are gone, and the
 * next operation that needs tmux (a spawn) starts a new one.
 */
export async function tmuxHealth(target: HealthTarget): Promise<{ ok: boolean; detail: string }> {
  const { socket } = target;
  if (target.closed) return { ok: false, detail: "the tmux runtime is closed" };
  const gone = { ok: false, detail: `no tmux server runs on socket "${socket}" (it was killed or died); the next spawn starts one` };
  if (!target.connected && !(await target.serverRunning())) return gone;
  try {
    const [pid] = await target.onServer("display-message", "-p", "#{pid}");
    return { ok: true, detail: `the tmux server on socket "${socket}" (pid ${pid}) answers` };
  } catch (error) {
    // The server died under the command: say so, not the client's last words.
    if (!(await target.serverRunning())) return gone;
    throw error;
  }
}
