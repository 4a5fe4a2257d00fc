// What the tmux runtime hands tmux and reads back: argv that no shell sees,
// formats tmux must not expand, the pane lines it reports, the environment of
// a control client, and which failures mean "already gone".
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import { MONITOR_PREFIX } from "./leftovers.js";
import type { NewPane, PaneInfo } from "./types.js";

/** `list-panes -F`: what snapshot reads of every pane. */
export const PANE_LIST_FORMAT = "#{pane_id} #{window_id} #{pane_pid} #{pane_dead}:#{pane_dead_status} #{session_name}";

/**
 * Lines of PANE_LIST_FORMAT: the panes of instance sessions (monitor sessions
 * excluded), every window, and the windows linked into `monitorSession`.
 */
export function parsePaneList(lines: string[], monitorSession: string): { panes: PaneInfo[]; windows: Set<string>; monitored: Set<string> } {
  const panes: PaneInfo[] = [];
  const windows = new Set<string>();
  const monitored = new Set<string>();
  for (const line of lines) {
    const [paneId, windowId, pid, dead, ...session] = line.split(" ");
    if (!paneId || !windowId) continue;
    const name = session.join(" ");
    windows.add(windowId);
    if (name === monitorSession) monitored.add(windowId);
    if (name.startsWith(MONITOR_PREFIX)) continue;
    const [isDead, status] = (dead ?? "").split(":");
    panes.push({
      paneId, windowId, pid: Number(pid), dead: isDead === "1", session: name,
      ...(isDead === "1" && status ? { deadStatus: Number(status) } : {}),
    });
  }
  return { panes, windows, monitored };
}

/**
 * tmux runs a single-string command through a shell but execs multiple
 * arguments directly. Always hand it several: `env` as a launcher costs
 * nothing and guarantees no shell sees the agent's arguments.
 */
export function execArgv(argv: string[]): string[] {
  if (argv.length === 0) throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, "Cannot start an empty command.");
  return argv[0] === "/usr/bin/env" || argv[0] === "env" ? argv : ["/usr/bin/env", "--", ...argv];
}

export function parsePaneLine(line: string | undefined): NewPane {
  const [paneId, windowId, pid] = (line ?? "").split(" ");
  if (!paneId?.startsWith("%") || !windowId?.startsWith("@")) {
    throw new TmuxClaudeError(ErrorCodes.TMUX_COMMAND_FAILED, `tmux did not report the new pane (got "${line ?? ""}").`);
  }
  return { paneId, windowId, pid: Number(pid) };
}

/**
 * tmux expands formats in a start directory (`-c`), and `#(...)` there would
 * run a shell command: a directory named `w#(rm -rf ~)` must stay a name.
 */
export function literalFormat(text: string): string {
  return text.replaceAll("#", "##");
}

/**
 * A connecting client sends tmux one message per environment variable; the
 * fewer, the shorter the instant in which tmux 3.3a is fragile (see exclusive).
 * Agents get their environment from the launcher, never from this client.
 */
export function controlClientEnv(): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "USER", "LOGNAME", "TMUX_TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TERM"];
  return Object.fromEntries(keep.filter((key) => process.env[key] !== undefined).map((key) => [key, process.env[key]]));
}

/** Killing something that is already gone is success. */
export function ignoreGone(error: unknown): void {
  if (isTmuxClaudeError(error, ErrorCodes.TMUX_COMMAND_FAILED)) {
    const message = String(error.details.tmuxError ?? "");
    if (/can't find|no such|not found|no server/iu.test(message)) return;
  }
  throw error;
}
