// The shapes the tmux runtime works with (its options, panes, events), apart
// from the runtime itself so the modules it is made of can share them.
import type { Logger } from "pino";

export interface TmuxRuntimeOptions {
  socket: string;
  binary: string;
  /** Config file for a server this runtime starts; "none" = no config (`-f /dev/null`). */
  configFile?: string;
  width: number;
  height: number;
  historyLimit: number;
  logger: Logger;
}

export interface PaneInfo {
  paneId: string;
  windowId: string;
  session: string;
  pid: number;
  /** The program exited; the pane stays (remain-on-exit) so its last screen can be read. */
  dead: boolean;
  /** Exit status of a dead pane's program. */
  deadStatus?: number;
}

export interface NewPane {
  paneId: string;
  windowId: string;
  pid: number;
}

/** What exists now, after windows closed or sessions changed. */
export interface PaneSnapshot {
  /** Panes of instance sessions (monitor sessions excluded). */
  panes: PaneInfo[];
  /** Every window that still exists, in any session (including monitors). */
  windows: Set<string>;
}

export interface TmuxRuntimeEvents {
  output: [paneId: string, data: Buffer];
  /** Windows closed or sessions changed: here is what exists now. */
  panes: [snapshot: PaneSnapshot];
  /** The control client was lost (tmux server died or was killed). */
  disconnect: [reason: string];
}
