import { EventEmitter } from "node:events";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { currentProcess } from "../os/process-tree.js";
import { ControlClient, runTmux } from "./control.js";
import { serverRunning, tmuxHealth } from "./health.js";
import { isStaleMonitor, MONITOR_PREFIX, monitorSessionName, withSocketLock } from "./leftovers.js";
import { PaneInput } from "./pane-input.js";
import type { NewPane, PaneInfo, PaneSnapshot, TmuxRuntimeEvents, TmuxRuntimeOptions } from "./types.js";
import { controlClientEnv, execArgv, ignoreGone, literalFormat, PANE_LIST_FORMAT, parsePaneLine, parsePaneList } from "./wire.js";

export type { NewPane, PaneInfo, PaneSnapshot, TmuxRuntimeEvents, TmuxRuntimeOptions } from "./types.js";
export { MONITOR_PREFIX, connectLockDir } from "./leftovers.js";

/**
 * The one module that talks to tmux (with its parts beside it: pane-input,
 * health, wire). It keeps a persistent control-mode client
 * attached to a private monitor session; instance windows are linked into that
 * session so their output streams to us as `%output` notifications (tmux only
 * streams panes of the client's own session). close() kills the monitor session;
 * one left by a process killed with -9 is removed by the next runtime on the
 * socket (or `doctor --clean`). Unlinking never touches the instance sessions.
 */
export class TmuxRuntime extends EventEmitter<TmuxRuntimeEvents> {
  private client: ControlClient | undefined;
  private connecting: Promise<ControlClient> | undefined;
  /** The connect under way may start a server (see ensureClient). */
  private connectingMayStart = false;
  /** Named after this process (pid and start time), so a later runtime can tell it is stale. */
  private monitorSession = "";
  /** Monitor sessions of this runtime's earlier connections (removed on reconnect). */
  private readonly previousMonitors = new Set<string>();
  private readonly linked = new Set<string>();
  private readonly input = new PaneInput({ command: (...args) => this.command(...args), exclusive: (fn) => this.exclusive(fn) });
  private closed = false;
  /** The pid of the server this runtime last connected to (0 before the first connect). */
  private serverPid = 0;
  private refreshing = false;
  private refreshAgain = false;
  private terminalType = "tmux-256color";

  constructor(readonly options: TmuxRuntimeOptions) {
    super();
    // Every attached instance and every pending terminate listens here.
    this.setMaxListeners(0);
  }

  get socket(): string {
    return this.options.socket;
  }

  /** The TERM tmux gives its panes (from `default-terminal`). */
  get term(): string {
    return this.terminalType;
  }

  /** Connect (starting the tmux server if needed). Safe to call repeatedly. */
  async connect(): Promise<void> {
    await this.ensureClient({ startServer: true });
  }

  /** Run one tmux command through the control client, reconnecting if tmux went away. */
  async command(...args: string[]): Promise<string[]> {
    const client = await this.ensureClient();
    return client.command(args);
  }

  /** A command that needs the server this runtime was connected to: after losing it, it fails rather than start a new one. */
  private async onServer(...args: string[]): Promise<string[]> {
    const client = await this.ensureClient({ startServer: false });
    return client.command(args);
  }

  /**
   * The control client, connecting when there is none: an operation (spawn,
   * restart, list) starts a new server when the old one is gone. What only
   * looks at what runs there (a pane look, linking a window, the reconcile
   * after a lost connection, health) passes `startServer: false` and finds the
   * server gone instead: a killed server stays gone until an operation needs
   * one, and health says so meanwhile.
   */
  private ensureClient(options: { startServer?: boolean } = {}): Promise<ControlClient> {
    if (this.closed) {
      return Promise.reject(new TmuxClaudeError(ErrorCodes.TMUX_DISCONNECTED, "The tmux runtime is closed."));
    }
    if (this.client && !this.client.closed) return Promise.resolve(this.client);
    // A connect under way that may not start a server must not fail a spawn: try again, allowed to.
    const startServer = options.startServer ?? true;
    if (this.connecting && startServer && !this.connectingMayStart) return this.connecting.catch(() => this.ensureClient(options));
    const reconnecting = this.monitorSession !== "";
    if (!this.connecting) this.connectingMayStart = startServer || !reconnecting;
    this.connecting ??= (async () => {
      if (!this.connectingMayStart && !(await this.serverRunning())) {
        throw new TmuxClaudeError(ErrorCodes.TMUX_DISCONNECTED, `No tmux server runs on socket "${this.options.socket}" any more (it was killed or died); the next spawn starts one.`, {
          socket: this.options.socket,
        });
      }
      return this.open(this.connectingMayStart);
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(mayStart: boolean): Promise<ControlClient> {
    const { socket } = this.options;
    // A fresh name per connection: after losing only our client, the old monitor session may live on.
    const self = await currentProcess();
    if (this.monitorSession) this.previousMonitors.add(this.monitorSession);
    this.monitorSession = monitorSessionName(self);
    const client = await this.withSocketLock(() => this.attachMonitor());
    this.linked.clear();
    client.on("output", (paneId, data) => this.emit("output", paneId, data));
    // tmux reports a window "closed" whenever it is unlinked from any session, also
    // when it lives on elsewhere; so look at what exists instead of trusting the word.
    client.on("windowClose", () => this.scheduleRefresh());
    client.on("sessionsChanged", () => this.scheduleRefresh());

    client.once("exit", (reason) => {
      if (this.client === client) this.client = undefined;
      this.linked.clear();
      if (!this.closed) {
        this.options.logger.warn({ socket, reason }, "tmux control client lost; it reconnects on the next command");
        this.emit("disconnect", reason);
      }
    });
    this.client = client;
    await this.removeStaleMonitors(client);
    // Applies to panes created from now on; this is our private server.
    await client.command(["set-option", "-g", "history-limit", String(this.options.historyLimit)]);
    const [term] = await client.command(["show-options", "-gv", "default-terminal"]);
    if (term) this.terminalType = term;
    const [pid] = await client.command(["display-message", "-p", "#{pid}"]);
    const lost = this.serverPid;
    this.serverPid = Number(pid);
    if (!mayStart && lost !== 0 && this.serverPid !== lost && (await this.startedHere(client))) {
      // The old server was still exiting when asked whether it runs, and connecting started this one: undo it.
      await this.withSocketLock(() => client.command(["kill-session", "-t", `=${this.monitorSession}`])).catch(() => undefined);
      await client.close().catch(() => undefined);
      throw new TmuxClaudeError(ErrorCodes.TMUX_DISCONNECTED, `No tmux server runs on socket "${socket}" any more (it was killed or died); the next spawn starts one.`, { socket });
    }
    this.options.logger.debug({ socket, monitor: this.monitorSession }, "tmux control client connected");
    return client;
  }

  /** A server that holds nothing but monitor sessions was started by a connect (ours or another kernel's), not by anyone's work. */
  private async startedHere(client: ControlClient): Promise<boolean> {
    const sessions = await client.command(["list-sessions", "-F", "#{session_name}"]);
    return sessions.every((name) => name.startsWith(MONITOR_PREFIX));
  }

  /**
   * Run `fn` while no other process of ours on this machine connects a control
   * client to this socket or changes sessions, windows or buffers on it.
   *
   * tmux 3.3a sends control-mode notifications (%sessions-changed,
   * %client-detached, %paste-buffer-changed, ...) also to a control client that
   * is still identifying itself, whose control state does not exist yet, and
   * segfaults (newer tmux checks `control_state != NULL`). We reproduced it with
   * plain tmux: 20 control clients connecting at once crashed the server in 8 of
   * 8 trials; connected one after another, never. So a connect never overlaps a
   * command of ours that makes tmux notify. Commands that only type keys or read
   * (send-keys, capture-pane, list-*) run freely.
   */
  private async exclusive<T>(fn: (run: (...args: string[]) => Promise<string[]>) => Promise<T>): Promise<T> {
    // Connect (if needed) before taking the lock: connecting takes it itself, and it is not re-entrant.
    const client = await this.ensureClient();
    return this.withSocketLock(() => fn((...args) => client.command(args)));
  }

  private withSocketLock<T>(fn: () => Promise<T>): Promise<T> {
    return withSocketLock(this.options.socket, fn);
  }

  /**
   * Create this runtime's monitor session with a plain `tmux new-session -d`
   * (which starts the server if none runs, so the server's command line is
   * not a control client's), then attach a control client to it. A server whose
   * last session just closed exits, and a command that reached it in that
   * instant fails; the next attempt starts a new server.
   */
  private async attachMonitor(): Promise<ControlClient> {
    const { binary, socket, width, height } = this.options;
    const configFile = this.options.configFile === "none" ? "/dev/null" : this.options.configFile;
    for (let attempt = 1; ; attempt++) {
      let client: ControlClient | undefined;
      try {
        await runTmux(binary, [
          "-L", socket, ...(configFile ? ["-f", configFile] : []),
          // `cat` keeps the monitor's own window alive without doing anything.
          "new-session", "-d", "-s", this.monitorSession, "-x", String(width), "-y", String(height), "--", "cat",
        ]);
        client = new ControlClient({ binary, socket, env: controlClientEnv(), attach: ["attach-session", "-t", `=${this.monitorSession}`] });
        await client.ready;
        return client;
      } catch (error) {
        await client?.close().catch(() => undefined);
        const dying = /server exited unexpectedly|lost server|no server running|can't find session/iu.test(error instanceof Error ? error.message : "");
        if (!dying || attempt >= 3) throw error;
        this.options.logger.debug({ socket, attempt }, "the tmux server was exiting; connecting again");
      }
    }
  }

  /**
   * Monitor sessions of runtimes whose process is gone (killed with -9) would
   * keep instance windows alive after their own session is killed. tmux's
   * destroy-unattached would remove them for us, but tmux 3.3a segfaults when
   * it destroys such a session for a killed control client (reproduced in our
   * kill -9 test), so the next runtime removes them instead.
   */
  private async removeStaleMonitors(client: ControlClient): Promise<void> {
    const sessions = await client.command(["list-sessions", "-F", "#{session_name}"]);
    for (const name of sessions) {
      if (!name.startsWith(MONITOR_PREFIX) || name === this.monitorSession) continue;
      const ours = this.previousMonitors.has(name); // an earlier connection of this runtime
      if (!ours && !(await isStaleMonitor(name))) continue;
      this.options.logger.debug({ session: name }, "removing the monitor session of a runtime that is gone");
      await this.withSocketLock(() => client.command(["kill-session", "-t", `=${name}`])).catch(ignoreGone);
      this.previousMonitors.delete(name);
    }
  }

  /**
   * Create (replacing any leftover of that name) a detached session of fixed size whose pane waits (a placeholder
   * that reads nothing) until `exec` starts the real program. Output is
   * streamed from before the program's first byte, and a program that dies at
   * once still leaves its words and its exit for us to see.
   */
  async createSession(spec: { name: string; cwd: string }): Promise<NewPane> {
    const { width, height } = this.options;
    await this.ensureClient({ startServer: true });
    const window = `=${spec.name}:`;
    // One write, one round trip: tmux answers each command in order, and a failure
    // of one (there was no old session to kill) does not stop the next.
    const [, created, ...configured] = await this.exclusive((run) => Promise.allSettled([
      run("kill-session", "-t", `=${spec.name}`),
      run(
        "new-session", "-d", "-s", spec.name, "-x", String(width), "-y", String(height), "-c", literalFormat(spec.cwd),
        "-P", "-F", "#{pane_id} #{window_id} #{pane_pid}", "--", "/usr/bin/env", "cat",
      ),
      ...this.configureWindow(run, window),
      run("link-window", "-d", "-s", window, "-t", `${this.monitorSession}:`),
    ]));
    if (created!.status === "rejected") throw created!.reason;
    const pane = parsePaneLine((created as PromiseFulfilledResult<string[]>).value[0]);
    for (const result of configured) if (result.status === "rejected") throw result.reason;
    this.linked.add(pane.windowId);
    return pane;
  }

  /** Run `argv` (executed directly, never through a shell) in the pane, replacing what runs there. */
  async exec(spec: { paneId: string; cwd: string; argv: string[] }): Promise<{ pid: number }> {
    const [, [pid]] = await this.exclusive((run) => Promise.all([
      run("respawn-pane", "-k", "-t", spec.paneId, "-c", literalFormat(spec.cwd), "--", ...execArgv(spec.argv)),
      run("display-message", "-p", "-t", spec.paneId, "#{pane_pid}"),
    ]));
    // A program that already exited leaves no pid to report; its death is reported as an event.
    return { pid: Number(pid) || 0 };
  }

  /**
   * remain-on-exit is forced off (a user's tmux.conf may turn it on): with it
   * on, tmux 3.3a segfaulted reproducibly in our kill -9 crash test, and never
   * without it. The cost: an agent that exits in the same instant it prints may
   * lose its last words, which tmux drops when it frees the pane before
   * flushing them to control clients.
   */
  private configureWindow(run: (...args: string[]) => Promise<string[]>, window: string): Promise<string[]>[] {
    const { width, height } = this.options;
    return [
      // A linked window would otherwise follow the size of whichever client looked last.
      run("set-option", "-w", "-t", window, "window-size", "manual"),
      run("resize-window", "-t", window, "-x", String(width), "-y", String(height)),
      run("set-option", "-w", "-t", window, "remain-on-exit", "off"),
      // A rename is a notification to every control client (see exclusive); agents set titles often.
      run("set-option", "-w", "-t", window, "automatic-rename", "off"),
      run("set-option", "-w", "-t", window, "allow-rename", "off"),
    ];
  }

  /** Stream a window's output to this runtime (idempotent). */
  async watch(windowId: string): Promise<void> {
    // A window to stream exists only on a running server.
    await this.ensureClient({ startServer: false });
    if (this.linked.has(windowId)) return;
    await this.exclusive((run) => run("link-window", "-d", "-s", windowId, "-t", `${this.monitorSession}:`));
    this.linked.add(windowId);
  }

  /** Stop streaming a window's output; the instance's own session is not touched. */
  async unwatch(windowId: string): Promise<void> {
    if (!this.linked.delete(windowId) || !this.client) return;
    await this.exclusive((run) => run("unlink-window", "-t", `${this.monitorSession}:${windowId}`)).catch(ignoreGone);
  }

  /** Look at what exists now and tell listeners; a burst of notifications costs one look. */
  private scheduleRefresh(): void {
    // Without a client the disconnect is being handled; a look now would start a new server.
    if (!this.client || this.client.closed) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    this.refreshAgain = false;
    void this.snapshot()
      .then((snapshot) => this.emit("panes", snapshot))
      .catch((error: unknown) => this.options.logger.debug({ err: error }, "pane snapshot failed"))
      .finally(() => {
        this.refreshing = false;
        if (this.refreshAgain && !this.closed) this.scheduleRefresh();
      });
  }

  /** Every pane and window that exists now. */
  async snapshot(options: { startServer?: boolean } = {}): Promise<PaneSnapshot> {
    const lines = await (options.startServer === false ? this.onServer.bind(this) : this.command.bind(this))("list-panes", "-a", "-F", PANE_LIST_FORMAT);
    const { panes, windows, monitored } = parsePaneList(lines, this.monitorSession);
    for (const windowId of this.linked) if (!monitored.has(windowId)) this.linked.delete(windowId);
    return { panes, windows };
  }


  /** The visible screen, or the last `lines` lines including scrollback; trailing blank lines removed. */
  async capture(paneId: string, options: { lines?: number } = {}): Promise<string> {
    const args = ["capture-pane", "-p", "-J", "-t", paneId];
    if (options.lines !== undefined) args.push("-S", String(-Math.max(options.lines, 1)));
    const lines = await this.onServer(...args);
    while (lines.length && lines[lines.length - 1]!.trim() === "") lines.pop();
    if (options.lines !== undefined && lines.length > options.lines) return lines.slice(-options.lines).join("\n");
    return lines.join("\n");
  }

  /** The pane's size in cells, so a viewer can draw its bytes at the same width (cursor moves are absolute). */
  async paneSize(paneId: string): Promise<{ cols: number; rows: number }> {
    const [line = ""] = await this.onServer("display-message", "-p", "-t", paneId, "#{pane_width} #{pane_height}");
    const [cols, rows] = line.split(" ").map(Number);
    return { cols: cols || this.options.width, rows: rows || this.options.height };
  }

  /** Every pane of every instance session (the monitor sessions excluded). */
  async listPanes(options: { startServer?: boolean } = {}): Promise<PaneInfo[]> {
    return (await this.snapshot(options)).panes;
  }

  /** Type text into a pane, made harmless; see PaneInput.sendText. */
  sendText(paneId: string, text: string, options: { pipelined?: boolean } = {}): Promise<void> {
    return this.input.sendText(paneId, text, options);
  }

  /** Press one key by its tmux name (`Enter`, `Escape`, `C-c`, ...). */
  sendKey(paneId: string, key: string): Promise<void> {
    return this.input.sendKey(paneId, key);
  }

  async killSession(name: string): Promise<void> {
    await this.exclusive((run) => run("kill-session", "-t", `=${name}`)).catch(ignoreGone);
  }

  async killWindow(windowId: string): Promise<void> {
    await this.exclusive((run) => run("kill-window", "-t", windowId)).catch(ignoreGone);
  }


  /** Whether this runtime's tmux server answers now (see tmuxHealth). */
  health(): Promise<{ ok: boolean; detail: string }> {
    return tmuxHealth({
      socket: this.options.socket,
      closed: this.closed,
      connected: Boolean((this.client && !this.client.closed) || this.connecting),
      serverRunning: () => this.serverRunning(),
      onServer: (...args) => this.onServer(...args),
    });
  }

  /** A tmux server runs on this runtime's socket (asked without starting one). */
  serverRunning(): Promise<boolean> {
    return serverRunning(this.options.binary, this.options.socket);
  }

  /** Detach and remove the monitor session; instance sessions keep running. */
  async close(): Promise<void> {
    if (this.closed) return;
    const client = this.client;
    this.closed = true;
    this.client = undefined;
    if (!client || client.closed) {
      // Our client is gone (the server died, or a signal for the terminal's process group reached it): its monitor may not be.
      if (this.monitorSession) await this.removeMonitorWithoutClient();
      return;
    }
    // A client's exit notifies the others (%client-detached): never while one connects.
    await this.withSocketLock(async () => {
      // kill-session of the monitor closes only windows linked nowhere else: the instances stay.
      await client.command(["kill-session", "-t", this.monitorSession]).catch(() => undefined);
      await client.close();
    }).catch(async (error: unknown) => {
      this.options.logger.debug({ err: error }, "closing the tmux client without the lock");
      await client.close();
    });
  }

  /** Kill this runtime's monitor session with a plain tmux command (which never starts a server). */
  private async removeMonitorWithoutClient(): Promise<void> {
    const { binary, socket } = this.options;
    await this.withSocketLock(() => runTmux(binary, ["-L", socket, "kill-session", "-t", `=${this.monitorSession}`]))
      .catch((error: unknown) => this.options.logger.debug({ err: error }, "removing the monitor session after losing the client failed"));
  }
}
