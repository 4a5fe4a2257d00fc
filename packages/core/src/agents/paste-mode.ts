import type { PaneIO } from "./adapter.js";

/** DECSET/DECRST private modes (`ESC[?...h` / `ESC[?...l`); 2004 is bracketed paste. */
const PRIVATE_MODE = /\x1b\[\?([\d;]*)([hl])/gu;
/** An unfinished sequence at the end of a chunk is at most this long. */
const MAX_PARTIAL = 32;

/**
 * Follows a pane's output for its program switching bracketed paste on and
 * off. tmux wraps a paste in `ESC[200~`/`ESC[201~` only while the program has
 * it on; before that (measured: Claude Code turns it on about 50 ms after its
 * SessionStart hook), a paste arrives as typed keys and each line break in it
 * is an Enter, so a multi-line message becomes several submissions.
 */
export class PasteModeTracker {
  private enabled: boolean;
  private partial = "";
  private readonly waiters = new Set<() => void>();
  private readonly stop: () => void;

  /** `enabled`: what to assume until the program says otherwise (true for a program that ran before we watched). */
  constructor(pane: PaneIO, enabled: boolean) {
    this.enabled = enabled;
    this.stop = pane.onOutput((data) => this.scan(data));
  }

  get on(): boolean {
    return this.enabled;
  }

  /** Resolves once bracketed paste is on (at once if it is), or rejects with the signal's reason. */
  whenOn(signal: AbortSignal): Promise<void> {
    if (this.enabled) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiters.delete(done);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      this.waiters.add(done);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  dispose(): void {
    this.stop();
    this.waiters.clear();
  }

  private scan(data: Buffer): void {
    // latin1 keeps one character per byte; the sequences are ASCII.
    const text = this.partial + data.toString("latin1");
    let end = 0;
    for (const match of text.matchAll(PRIVATE_MODE)) {
      end = match.index + match[0].length;
      if (match[1]!.split(";").includes("2004")) this.enabled = match[2] === "h";
    }
    const lastEsc = text.lastIndexOf("\x1b");
    this.partial = lastEsc >= end && text.length - lastEsc < MAX_PARTIAL ? text.slice(lastEsc) : "";
    if (this.enabled) for (const waiter of [...this.waiters]) waiter();
  }
}
