// The live, read-only terminal of one instance: xterm.js (loaded by the page
// as the UMD global `Terminal` from /assets/vendor/xterm.js), fed the pane's
// recent scrollback and screen when it opens, then the live bytes. It takes the
// pane's size (a narrower terminal would wrap and misplace what the agent
// draws); the panel scrolls sideways when the pane is wider.
import type { ITerminalInitOnlyOptions, ITerminalOptions, Terminal as XTerm } from "@xterm/xterm";
import { el, setText } from "./format.js";

declare global {
  interface Window {
    Terminal?: new (options?: ITerminalOptions & ITerminalInitOnlyOptions) => XTerm;
  }
}

const SCROLLBACK_LINES = 5_000;
/** The terminal's font size when the pane fits; it shrinks to MIN_FONT_SIZE for a pane larger than the panel. */
const FONT_SIZE = 13;
const MIN_FONT_SIZE = 8;

export interface TerminalStreams {
  open(id: string): void;
  close(id: string): void;
}

export class TerminalView {
  #term: XTerm | undefined;
  #openId: string | undefined;
  readonly #host: HTMLElement;
  readonly #caption: HTMLElement;

  constructor(
    private readonly container: HTMLElement,
    private readonly streams: TerminalStreams,
  ) {
    this.#caption = el("p", { className: "terminal-caption", testid: "terminal-caption", text: "Select an instance to see its terminal." });
    this.#host = el("div", { className: "terminal-host", testid: "terminal" });
    container.replaceChildren(this.#caption, this.#host);
  }

  get openId(): string | undefined {
    return this.#openId;
  }

  /** Starts streaming `id`'s pane (closing the previous one). */
  show(id: string | undefined): void {
    if (id === this.#openId) return;
    if (this.#openId) this.streams.close(this.#openId);
    this.#openId = id;
    this.#host.dataset.id = id ?? "";
    delete this.#host.dataset.ended;
    if (!id) {
      setText(this.#caption, "Select an instance to see its terminal.");
      this.#term?.reset();
      return;
    }
    setText(this.#caption, `Terminal of ${id} (read-only)`);
    this.#ensureTerminal().reset();
    this.streams.open(id);
  }

  /** After a reconnect the server streams nothing until asked again. */
  reopen(): void {
    if (this.#openId) this.streams.open(this.#openId);
  }

  /** The pane's scrollback and screen, at the pane's size: its live bytes position the cursor for exactly that size. */
  screen(id: string, data: string, cols: number, rows: number): void {
    if (id !== this.#openId) return;
    const term = this.#ensureTerminal();
    term.reset();
    if (term.cols !== cols || term.rows !== rows) term.resize(cols, rows);
    this.#host.dataset.cols = String(cols);
    this.#host.dataset.rows = String(rows);
    this.#fitFont(term);
    // The screen comes as lines; a bare \n would only move down, not to column 0.
    term.write(data.replace(/\r?\n/gu, "\r\n"));
  }

  /**
   * A smaller font when the pane's size does not fit the panel at the normal
   * one, down to a still readable size; beyond that the panel scrolls.
   */
  #fitFont(term: XTerm): void {
    const screen = this.#host.querySelector(".xterm-screen")?.getBoundingClientRect();
    const width = this.#host.clientWidth;
    const height = this.#host.clientHeight;
    if (!screen || screen.width === 0 || width === 0 || height === 0) return;
    const current = term.options.fontSize ?? FONT_SIZE;
    const fit = Math.min(width / screen.width, height / screen.height) * current;
    const size = Math.max(MIN_FONT_SIZE, Math.min(FONT_SIZE, Math.floor(fit * 2) / 2));
    if (size !== current) term.options.fontSize = size;
  }

  output(id: string, base64: string): void {
    if (id !== this.#openId) return;
    this.#ensureTerminal().write(decodeBase64(base64));
  }

  ended(id: string): void {
    if (id !== this.#openId) return;
    this.#host.dataset.ended = "true";
    setText(this.#caption, `Terminal of ${id}: the pane has ended.`);
  }

  /** A restarted instance has a new pane: stream it again (the server ended the old stream). */
  resumeIfRestarted(id: string, status: string): void {
    if (id !== this.#openId || this.#host.dataset.ended !== "true" || status === "exited") return;
    delete this.#host.dataset.ended;
    setText(this.#caption, `Terminal of ${id} (read-only)`);
    this.#ensureTerminal().reset();
    this.streams.open(id);
  }

  /** The terminal's buffer as text (scrollback included), for tests and the bench. */
  text(): string {
    const term = this.#term;
    if (!term) return "";
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? "");
    return lines.join("\n").replace(/\n+$/u, "");
  }

  /** The `lines` lines up to the cursor's: what was written last, without reading the whole scrollback. */
  tail(lines: number): string {
    const term = this.#term;
    if (!term) return "";
    const buffer = term.buffer.active;
    const end = buffer.baseY + buffer.cursorY;
    const out: string[] = [];
    for (let i = Math.max(0, end - lines + 1); i <= end; i++) out.push(buffer.getLine(i)?.translateToString(true) ?? "");
    return out.join("\n");
  }

  #ensureTerminal(): XTerm {
    if (this.#term) return this.#term;
    const Terminal = window.Terminal;
    if (!Terminal) {
      setText(this.#caption, "The terminal could not load (/assets/vendor/xterm.js is missing).");
      throw new Error("xterm.js did not load: window.Terminal is undefined");
    }
    const term = new Terminal({
      disableStdin: true,
      scrollback: SCROLLBACK_LINES,
      convertEol: false,
      // Until the first screen frame says the pane's size.
      cols: 120,
      rows: 32,
      cursorBlink: false,
      fontSize: FONT_SIZE,
    });
    term.open(this.#host);
    // The bench times output byte -> parsed by xterm with this event.
    term.onWriteParsed(() => {
      this.#host.dispatchEvent(new CustomEvent("terminal-parsed", { detail: { id: this.#openId } }));
    });
    this.#term = term;
    return term;
  }
}

function decodeBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
