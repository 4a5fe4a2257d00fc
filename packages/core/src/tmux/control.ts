import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EventEmitter } from "node:events";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { commandLine, decodeOutput } from "./quote.js";

export interface ControlClientOptions {
  binary: string;
  socket: string;
  /** Passed as `-f` when set; tmux reads it only when this starts the server. */
  configFile?: string;
  /** argv after `-C`: the command that attaches the client (e.g. a new monitor session). */
  attach: string[];
  /** The client's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface ControlClientEvents {
  output: [paneId: string, data: Buffer];
  /** A window closed (`%window-close` or `%unlinked-window-close`). */
  windowClose: [windowId: string];
  sessionsChanged: [];
  /** The client is gone: tmux exited, the server died, or close() was called. */
  exit: [reason: string];
}

interface Pending {
  line: string;
  resolve(lines: string[]): void;
  reject(error: Error): void;
}

/**
 * Run one plain tmux command (not through a control client): for the few
 * things that must happen before a control client exists, such as starting the
 * server. Resolves with stdout; tmux's stderr becomes the error message.
 */
export function runTmux(binary: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { encoding: "utf8", env: process.env }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return reject(notFound(binary));
      const message = stderr.trim() || error.message;
      reject(new TmuxClaudeError(ErrorCodes.TMUX_COMMAND_FAILED, `tmux failed: ${message}`, { command: args.join(" "), tmuxError: message }));
    });
  });
}

function notFound(binary: string): TmuxClaudeError {
  return new TmuxClaudeError(
    ErrorCodes.TMUX_NOT_FOUND,
    `tmux was not found (tried "${binary}"). Install tmux 3.2 or later (apt-get install tmux, brew install tmux) or set tmux.binary in your config.`,
    { binary },
  );
}

/**
 * One persistent tmux control-mode client (`tmux -C`). Commands go in on stdin,
 * replies come back between `%begin`/`%end` in the order sent; notifications
 * (`%output`, `%window-close`, ...) arrive between them. This is the only place
 * that parses the control protocol.
 */
export class ControlClient extends EventEmitter<ControlClientEvents> {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  /** The reply being collected: the `%begin` triple and its lines. */
  private block: { guard: string; lines: string[] } | undefined;
  private exited = false;
  private exitReason = "";
  readonly ready: Promise<void>;

  constructor(options: ControlClientOptions) {
    super();
    const args = ["-L", options.socket];
    if (options.configFile) args.push("-f", options.configFile);
    args.push("-C", ...options.attach);
    // Its own process group: a terminal's Ctrl-C or hang-up (sent to our whole group) reaches only us, so we
    // can remove our monitor session through it before it goes. If we die, its stdin closes and it exits.
    this.child = spawn(options.binary, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env, detached: true });
    let stderr = "";
    this.ready = new Promise<void>((resolve, reject) => {
      // The attach command produces the first reply block (flags 0); it tells us the client is live.
      this.pending.push({ line: `(attach) ${options.attach.join(" ")}`, resolve: () => resolve(), reject });
      this.child.once("error", (error: NodeJS.ErrnoException) => {
        const failure =
          error.code === "ENOENT"
            ? notFound(options.binary)
            : new TmuxClaudeError(ErrorCodes.TMUX_DISCONNECTED, `Could not start tmux ("${options.binary}"): ${error.message}`);
        this.shutdown(failure.message, failure);
      });
    });
    this.child.stdout.on("data", (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    this.child.once("exit", (code, signal) => {
      const detail = stderr.trim() || this.exitReason || `tmux exited (${signal ?? `code ${code}`})`;
      this.shutdown(detail);
    });
    this.child.stdin.on("error", () => {
      // EPIPE when tmux died; the exit handler reports it.
    });
  }

  get closed(): boolean {
    return this.exited;
  }

  /** Run one tmux command; resolves with its output lines or rejects with tmux's error. */
  command(args: readonly string[]): Promise<string[]> {
    if (this.exited) {
      return Promise.reject(
        new TmuxClaudeError(ErrorCodes.TMUX_DISCONNECTED, `The tmux control client is closed (${this.exitReason}).`),
      );
    }
    const line = commandLine(args);
    return new Promise<string[]>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** Detach the client and wait for it to exit. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.exitReason = "closed";
    // Closing stdin makes tmux detach this client; a client that never exits keeps a killed server half alive.
    this.child.stdin.end();
    await gone;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const newline = this.buffered.indexOf(0x0a, start);
      if (newline === -1) break;
      let end = newline;
      if (end > start && this.buffered[end - 1] === 0x0d) end--;
      this.onLine(this.buffered.subarray(start, end));
      start = newline + 1;
    }
    this.buffered = start === this.buffered.length ? Buffer.alloc(0) : Buffer.from(this.buffered.subarray(start));
  }

  private onLine(raw: Buffer): void {
    if (this.block) {
      // Command output is not escaped, so only the exact matching %end/%error closes the block.
      const text = raw.toString("utf8");
      if (text === `%end ${this.block.guard}` || text === `%error ${this.block.guard}`) {
        const { lines } = this.block;
        this.block = undefined;
        const pending = this.pending.shift();
        if (!pending) return;
        if (text.startsWith("%end")) pending.resolve(lines);
        else
          pending.reject(
            new TmuxClaudeError(ErrorCodes.TMUX_COMMAND_FAILED, `tmux refused a command: ${lines.join(" ") || "(no message)"}`, {
              command: pending.line,
              tmuxError: lines.join("\n"),
            }),
          );
      } else {
        this.block.lines.push(text);
      }
      return;
    }
    if (raw[0] !== 0x25 /* % */) return;
    const space = raw.indexOf(0x20);
    const kind = raw.subarray(0, space === -1 ? raw.length : space).toString("latin1");
    switch (kind) {
      case "%begin": {
        this.block = { guard: raw.subarray(space + 1).toString("latin1"), lines: [] };
        return;
      }
      case "%output": {
        const second = raw.indexOf(0x20, space + 1);
        if (second === -1) return;
        const paneId = raw.subarray(space + 1, second).toString("latin1");
        this.emit("output", paneId, decodeOutput(raw.subarray(second + 1)));
        return;
      }
      case "%window-close":
      case "%unlinked-window-close": {
        this.emit("windowClose", raw.subarray(space + 1).toString("latin1").split(" ")[0]!);
        return;
      }
      case "%sessions-changed":
        this.emit("sessionsChanged");
        return;
      case "%exit":
        this.exitReason = raw.subarray(space + 1).toString("utf8") || "tmux ended the control client";
        return;
      default:
        return;
    }
  }

  private shutdown(reason: string, error?: Error): void {
    if (this.exited) return;
    this.exited = true;
    this.exitReason = reason;
    const failure = error ?? new TmuxClaudeError(ErrorCodes.TMUX_DISCONNECTED, `The tmux control client ended: ${reason}`);
    for (const pending of this.pending.splice(0)) pending.reject(failure);
    this.emit("exit", reason);
  }
}
