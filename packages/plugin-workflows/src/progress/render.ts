/**
 * Progress of a run as it goes, fed journal events:
 * - `tty`: a task list redrawn in place (ANSI cursor moves), at most every
 *   `throttleMs` however fast events come; between events only the elapsed
 *   clock moves, redrawn once a second while a step runs, and no timer runs
 *   when nothing does;
 * - `plain`: one line per event that says something (logs, CI, pipes);
 * - `json`: every event as one JSON line (tools).
 */
import { formatDuration } from "../dsl/duration.js";
import { shortCount } from "../replay/format.js";
import { actorOf, clip, describeEvent } from "../replay/describe.js";
import type { JournalEvent } from "../types.js";
import { RunModel, type StepRow } from "./model.js";

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** The terminal's width: lines are cut to it, since a wrapped line would break the cursor moves. */
  columns?: number;
}

export type ProgressMode = "tty" | "plain" | "json";

export interface Progress {
  event(event: JournalEvent): void;
  /**
   * What the run's journal held before (a resumed run's): the live list
   * starts from it (steps that succeeded show so), drawing nothing yet; the
   * line and JSON modes print only what happens now.
   */
  earlier(events: readonly JournalEvent[]): void;
  /** A log line (the kernel's, a plugin's): printed above the live list, which is drawn again below it, so neither breaks the other. */
  log(text: string): void;
  /** Draw the final state and stop every timer. */
  close(): void;
}

export interface ProgressOptions {
  /** Least time between two redraws of the list (default 100 ms). */
  readonly throttleMs?: number;
  readonly now?: () => number;
}

export function progressMode(stream: ProgressStream, json: boolean): ProgressMode {
  return json ? "json" : stream.isTTY === true ? "tty" : "plain";
}

export function createProgress(stream: ProgressStream, mode: ProgressMode, options: ProgressOptions = {}): Progress {
  // JSON lines are for tools: a log line there would break them (the CLI leaves logs on stderr then).
  if (mode === "json") return { event: (event) => void stream.write(`${JSON.stringify(event)}\n`), earlier: () => undefined, log: () => undefined, close: () => undefined };
  if (mode === "plain") return plainProgress(stream);
  return new LiveList(stream, options.throttleMs ?? 100, options.now ?? Date.now);
}

/** Too frequent to be worth a line while a run goes (replay shows status changes). */
const QUIET: ReadonlySet<JournalEvent["type"]> = new Set(["usage", "status"]);

/** An instance of the run hit its usage limit: the run waits for the reset and must not look hung. */
function isLimit(event: JournalEvent): boolean {
  return event.type === "status" && event.to === "limited";
}

function plainProgress(stream: ProgressStream): Progress {
  let t0: number | undefined;
  return {
    event(event) {
      const at = Date.parse(event.at);
      t0 ??= at;
      // A usage limit is said, though: the run waits for its reset and must not look hung.
      const text = QUIET.has(event.type) && !isLimit(event) ? undefined : describeEvent(event);
      if (text !== undefined) stream.write(`[+${formatDuration(at - t0)}] ${actorOf(event)}: ${text}\n`);
      // The id at once, not only in the result line: another terminal can follow, replay or resume the run while this one runs.
      if (event.type === "run-started") stream.write(`run id ${event.run} (tmux-claude replay ${event.run}; after a crash: tmux-claude run --resume ${event.run})\n`);
    },
    earlier: () => undefined,
    log: (text) => void stream.write(`${text}\n`),
    close: () => undefined,
  };
}

const MARK: Record<StepRow["state"], string> = { pending: "·", running: "▶", succeeded: "✔", failed: "✖", skipped: "-", stopped: "■" };

/** A pty that does not know its size reports 0 columns (or none): draw for the usual 80. */
const DEFAULT_COLUMNS = 80;

class LiveList implements Progress {
  private readonly model = new RunModel();
  private drawn = 0;
  private lastDraw = 0;
  private pending: NodeJS.Timeout | undefined;
  private clock: NodeJS.Timeout | undefined;
  private closed = false;
  /** Something happened in this run (not only `earlier`): close draws then. */
  private live = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly throttleMs: number,
    private readonly now: () => number,
  ) {}

  event(event: JournalEvent): void {
    if (this.closed) return;
    this.live = true;
    this.model.apply(event);
    // The list has no place for an instance's status; a usage limit the run waits for is said above it.
    if (isLimit(event)) this.log(`${actorOf(event)}: ${describeEvent(event)}`);
    this.schedule();
  }

  earlier(events: readonly JournalEvent[]): void {
    if (this.closed) return;
    for (const event of events) this.model.apply(event);
  }

  log(text: string): void {
    if (this.closed || this.drawn === 0) return void this.stream.write(`${text}\n`);
    // Over the list: clear it, the line, the list again below it (one write). The line may wrap: only the list's lines are counted.
    const lines = this.lines();
    this.stream.write(`\u001b[${this.drawn}F\u001b[J${text}\n${lines.map((line) => `${line}\n`).join("")}`);
    this.drawn = lines.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pending);
    clearInterval(this.clock);
    // A run refused before it started (an unknown --resume) has nothing to show: its error says it all.
    if (this.live && this.model.run !== undefined) this.draw();
  }

  private schedule(): void {
    if (this.pending) return;
    const wait = Math.max(0, this.lastDraw + this.throttleMs - this.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.draw();
    }, wait);
    this.pending.unref();
  }

  private draw(): void {
    this.lastDraw = this.now();
    const lines = this.lines();
    // Back to the first line drawn, clear from there down, draw again: one write, so the terminal never shows half a frame.
    const up = this.drawn > 0 ? `\u001b[${this.drawn}F` : "";
    this.stream.write(`${up}\u001b[J${lines.map((line) => `${line}\n`).join("")}`);
    this.drawn = lines.length;
    this.tick();
  }

  /** The once-a-second clock, only while a step runs. */
  private tick(): void {
    const want = !this.closed && this.model.ticking;
    if (want && !this.clock) {
      this.clock = setInterval(() => this.draw(), 1000);
      this.clock.unref();
    } else if (!want && this.clock) {
      clearInterval(this.clock);
      this.clock = undefined;
    }
  }

  private lines(): string[] {
    const { model } = this;
    const now = this.now();
    // A few columns to spare: terminals may draw the marks and "…" two columns wide, and a wrapped line would break the cursor moves.
    const columns = this.stream.columns !== undefined && this.stream.columns > 0 ? this.stream.columns : DEFAULT_COLUMNS;
    const width = Math.max(20, columns - 4);
    const cut = (line: string) => (line.length > width ? `${line.slice(0, width - 1)}…` : line);
    const elapsed = model.startedAt === undefined ? "" : formatDuration((model.endedAt ?? now) - model.startedAt);
    const tokens = model.tokens();
    const header = `${model.workflow ?? "workflow"} ${model.run ?? ""}  ${model.state}  ${elapsed}${tokens > 0 ? `  ${shortCount(tokens)} tokens` : ""}`;
    const idWidth = Math.max(...model.rows.map((row) => row.id.length), 4);
    // A long run: command would push every row's state off the screen: labels get at most 36 columns.
    const labelWidth = Math.min(36, Math.max(...model.rows.map((row) => row.label.length), 4));
    const rows = model.rows.map((row) => {
      const time = row.startedAt === undefined ? "" : formatDuration((row.endedAt ?? now) - row.startedAt);
      const instances = row.wanted > 0 && row.state !== "pending" ? `${row.spawned}/${row.wanted} up, ${row.completed} done${row.failed > 0 ? `, ${row.failed} failed` : ""}` : "";
      const stepTokens = model.tokens(row.id);
      const cells = [instances, time, stepTokens > 0 ? `${shortCount(stepTokens)} tok` : "", row.reason ?? ""].filter((cell) => cell !== "");
      return cut(` ${MARK[row.state]} ${row.id.padEnd(idWidth)}  ${clip(row.label, labelWidth).padEnd(labelWidth)}  ${row.state.padEnd(9)} ${cells.join("  ")}`.trimEnd());
    });
    return [cut(header.trimEnd()), ...rows];
  }
}
