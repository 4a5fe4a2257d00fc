// A deliberately tiny tmux control-mode client: the "floor" every benchmark
// compares against. It shares no code with @tmux-claude/core, so the floor is
// what tmux itself costs, measured with the cheapest client we can write.
import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";

/** Quote one argument for tmux's command parser (control mode reads lines like a config file). */
export function quote(value) {
  let out = '"';
  for (const char of String(value)) {
    switch (char) {
      case "\\": out += "\\\\"; break;
      case '"': out += '\\"'; break;
      case "$": out += "\\$"; break;
      case "~": out += "\\~"; break;
      case "\n": out += "\\n"; break;
      case "\r": out += "\\r"; break;
      case "\t": out += "\\t"; break;
      default: out += char;
    }
  }
  return `${out}"`;
}

/** `%output` escapes bytes < 0x20 and `\` as three octal digits. */
function decode(raw) {
  if (!raw.includes(0x5c)) return raw;
  const out = Buffer.allocUnsafe(raw.length);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === 0x5c && i + 3 < raw.length) {
      out[o++] = ((raw[i + 1] - 48) << 6) | ((raw[i + 2] - 48) << 3) | (raw[i + 3] - 48);
      i += 3;
    } else out[o++] = b;
  }
  return out.subarray(0, o);
}

const KEEP = 64 * 1024;

/**
 * One persistent `tmux -C` client. Commands are pipelined; replies are matched
 * in order by their %begin/%end numbers. Pane output is kept per pane (last
 * 64 KB) so a waiter registered after the bytes arrived still sees them.
 */
export class Control extends EventEmitter {
  constructor({ socket, binary = "tmux", configFile = "/dev/null", attach }) {
    super();
    this.setMaxListeners(0);
    this.pending = [];
    this.block = undefined;
    this.buffered = Buffer.alloc(0);
    this.panes = new Map(); // paneId -> accumulated text
    this.closed = false;
    this.child = spawn(binary, ["-L", socket, "-f", configFile, "-C", ...attach], { stdio: ["pipe", "pipe", "pipe"] });
    this.pid = this.child.pid;
    let stderr = "";
    this.child.stderr.on("data", (d) => (stderr += d));
    this.child.stdout.on("data", (chunk) => this.onData(chunk));
    this.child.stdin.on("error", () => {});
    this.ready = new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, line: "(attach)" });
      this.child.once("error", reject);
    });
    this.child.once("exit", (code, signal) => {
      this.closed = true;
      const error = new Error(`tmux control client exited (${signal ?? code}) ${stderr.trim()}`);
      for (const p of this.pending.splice(0)) p.reject(error);
      this.emit("exit");
    });
  }

  /** Run one command; resolves with its output lines. */
  command(...args) {
    if (this.closed) return Promise.reject(new Error("control client closed"));
    const line = args.map(quote).join(" ");
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject, line });
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** Several commands written in one go (one write, replies in order). */
  commands(list) {
    if (this.closed) return Promise.reject(new Error("control client closed"));
    const promises = [];
    let text = "";
    for (const args of list) {
      const line = args.map(quote).join(" ");
      text += `${line}\n`;
      promises.push(new Promise((resolve, reject) => this.pending.push({ resolve, reject, line })));
    }
    this.child.stdin.write(text);
    return Promise.all(promises);
  }

  /** Output of a pane seen so far (text, last 64 KB). */
  seen(paneId) {
    return this.panes.get(paneId) ?? "";
  }

  forget(paneId) {
    this.panes.delete(paneId);
  }

  /**
   * Resolve when `test(textSinceOffset)` holds for the pane's output after
   * `offset` characters (offset = seen(paneId).length taken before acting).
   */
  waitOutput(paneId, test, { offset = 0, timeoutMs = 30_000 } = {}) {
    const check = () => {
      const text = this.seen(paneId);
      return test(text.slice(Math.max(0, offset - (this.trimmed?.get(paneId) ?? 0))));
    };
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onOutput = (id) => {
        if (id !== paneId || !check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for output of ${paneId}; last output: ${JSON.stringify(this.seen(paneId).slice(-300))}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.off("output", onOutput);
      };
      this.on("output", onOutput);
    });
  }

  async close() {
    if (this.closed) return;
    const gone = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 2_000);
    await gone;
    clearTimeout(timer);
  }

  onData(chunk) {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = this.buffered.indexOf(0x0a, start);
      if (nl === -1) break;
      this.onLine(this.buffered.subarray(start, nl));
      start = nl + 1;
    }
    this.buffered = start === this.buffered.length ? Buffer.alloc(0) : Buffer.from(this.buffered.subarray(start));
  }

  onLine(raw) {
    if (this.block) {
      const text = raw.toString("utf8");
      if (text === `%end ${this.block.guard}` || text === `%error ${this.block.guard}`) {
        const { lines } = this.block;
        this.block = undefined;
        const p = this.pending.shift();
        if (!p) return;
        if (text.startsWith("%end")) p.resolve(lines);
        else p.reject(new Error(`tmux: ${lines.join(" ")} (command: ${p.line})`));
      } else this.block.lines.push(text);
      return;
    }
    if (raw[0] !== 0x25) return;
    const space = raw.indexOf(0x20);
    const kind = raw.subarray(0, space === -1 ? raw.length : space).toString("latin1");
    if (kind === "%begin") {
      this.block = { guard: raw.subarray(space + 1).toString("latin1"), lines: [] };
    } else if (kind === "%output") {
      const second = raw.indexOf(0x20, space + 1);
      const paneId = raw.subarray(space + 1, second).toString("latin1");
      const text = decode(raw.subarray(second + 1)).toString("utf8");
      let acc = (this.panes.get(paneId) ?? "") + text;
      if (acc.length > KEEP * 2) {
        this.trimmed ??= new Map();
        const cut = acc.length - KEEP;
        this.trimmed.set(paneId, (this.trimmed.get(paneId) ?? 0) + cut);
        acc = acc.slice(cut);
      }
      this.panes.set(paneId, acc);
      this.emit("output", paneId);
    }
  }

  /** Total characters ever seen for a pane (stable offsets across trimming). */
  offset(paneId) {
    return (this.trimmed?.get(paneId) ?? 0) + this.seen(paneId).length;
  }
}
