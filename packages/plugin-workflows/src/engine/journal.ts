// A run's journal: one JSON line per event (JournalEvent), appended as the run
// goes, in the order the runner saw them; `replay` and `run --from` read it.
import { appendFile, mkdir, open, readFile } from "node:fs/promises";
import path from "node:path";
import type { JournalEvent, RunId, Workflow } from "../types.js";
import { reparseWorkflow } from "../dsl/index.js";
import { RunErrors } from "./errors.js";
import { TmuxClaudeError } from "@tmux-claude/core";

/** The default directory of journals: `<stateDir>/runs`. */
export function journalDir(stateDir: string): string {
  return path.join(stateDir, "runs");
}

/** The journal of a run: `<dir>/<run id>.jsonl`. */
export function journalPath(dir: string, run: RunId): string {
  return path.join(dir, `${run}.jsonl`);
}

/** Distributive Omit, so each event keeps its own fields. */
export type JournalEntry = JournalEvent extends infer E ? (E extends JournalEvent ? Omit<E, "at" | "run"> & { at?: string } : never) : never;

/** Appends events in order (each append waits for the one before), and hands each to `onEvent`. */
export class JournalWriter {
  private tail: Promise<void> = Promise.resolve();
  private made = false;

  constructor(
    readonly file: string,
    private readonly run: RunId,
    private readonly onEvent?: (event: JournalEvent) => void,
  ) {}

  write(entry: JournalEntry): JournalEvent {
    const event = { at: new Date().toISOString(), ...entry, run: this.run } as JournalEvent;
    const line = `${JSON.stringify(event)}\n`;
    this.tail = this.tail.then(async () => {
      if (!this.made) await this.open();
      this.made = true;
      await appendFile(this.file, line);
    });
    try {
      this.onEvent?.(event);
    } catch {
      // A progress view that throws must not stop the run; its own output shows the problem.
    }
    return event;
  }

  /**
   * Journals hold prompts, replies and command output: only their owner may
   * read them (a directory made here 0700, the file 0600). A runner killed
   * mid-append may have left a cut last line: the next event starts on a line of its own.
   */
  private async open(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const handle = await open(this.file, "a+", 0o600);
    try {
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      if (size > 0 && (await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a) await handle.appendFile("\n");
    } finally {
      await handle.close();
    }
  }

  /** Resolves once every event written so far is on disk (rejects with the first write's failure). */
  flush(): Promise<void> {
    return this.tail;
  }
}

/** Reads a journal: every event in it, in order. */
export class JournalReader {
  constructor(readonly file: string) {}

  static forRun(dir: string, run: RunId): JournalReader {
    return new JournalReader(journalPath(dir, run));
  }

  async events(): Promise<JournalEvent[]> {
    const text = await readFile(this.file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        throw new TmuxClaudeError(RunErrors.NOT_FOUND, `No journal at ${this.file}: the run never started here, or its journal was removed. \`tmux-claude runs\` lists the runs.`, { file: this.file });
      }
      throw error;
    });
    const events: JournalEvent[] = [];
    const lines = text.split("\n");
    for (const [i, line] of lines.entries()) {
      if (line.trim() === "") continue;
      try {
        events.push(JSON.parse(line) as JournalEvent);
      } catch {
        // A runner killed mid-write cuts its last line: at the end, or just before the resumed run's start. Anywhere else it is damage worth naming.
        const next = lines.slice(i + 1).find((l) => l.trim() !== "");
        if (next !== undefined && !next.includes('"type":"run-started"')) {
          throw new TmuxClaudeError(RunErrors.INVALID, `${this.file}:${i + 1}: not a JSON line (${JSON.stringify(line.slice(0, 80))}). The journal is damaged; the lines before it are intact.`, { file: this.file, line: i + 1 });
        }
      }
    }
    return events;
  }
}

/**
 * What a run started from, as its journal's first event holds it: the
 * workflow and the variables. `run --from <run>` starts a new run with them.
 */
export function runInputs(events: readonly JournalEvent[], file: string): { workflow: Workflow; vars: Record<string, string> } {
  const first = events.find((e) => e.type === "run-started");
  if (!first || first.type !== "run-started") {
    throw new TmuxClaudeError(RunErrors.INVALID, `${file} has no run-started event, so the run's workflow and variables are unknown. Start the workflow from its file instead.`, { file });
  }
  const vars: unknown = first.vars;
  const bad = typeof vars === "object" && vars !== null && !Array.isArray(vars) ? Object.entries(vars).find(([, value]) => typeof value !== "string") : ["", vars];
  if (bad) {
    const what = bad[0] === "" ? `its variables are ${JSON.stringify(bad[1])}` : `variable "${bad[0]}" is ${JSON.stringify(bad[1])}`;
    throw new TmuxClaudeError(RunErrors.INVALID, `${file}: ${what}, not text (the journal was changed or damaged since it ran). Start the workflow from its file instead, with --var.`, { file });
  }
  const values = vars as Record<string, string>;
  // JSON drops a variable declared without a default (`goal: ~`, undefined in the Workflow); the run's values name every declared one.
  const recorded: unknown = first.workflow;
  const declared = isRecord(recorded) && (recorded.vars === undefined || isRecord(recorded.vars))
    ? { ...recorded, vars: { ...Object.fromEntries(Object.keys(values).map((name) => [name, null])), ...(recorded.vars as Record<string, unknown> | undefined) } }
    : recorded;
  // Only JSON on disk: checked again as a file would be before anything runs it.
  return { workflow: reparseWorkflow(declared, file), vars: { ...values } };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
