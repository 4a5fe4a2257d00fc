/**
 * The audit log on disk: `audit.jsonl` in its directory, one JSON object a
 * line, appended by every process of the node (serve, each CLI command).
 * When a line would take it past `maxBytes` it is rotated: `audit.jsonl.1`
 * is the newest rotated file, `.<keep>` the oldest kept, older ones removed.
 * Files are 0600 and the directory 0700: the log says who did what.
 */
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { acquireLock } from "@tmux-claude/core";

export const LOG_NAME = "audit.jsonl";

export interface LogFileOptions {
  /** Rotate before the current file would pass this size. */
  maxBytes: number;
  /** Rotated files kept besides the current one. */
  keep: number;
}

/** Each directory's appends run one after another in this process, so a rotation never races its own appends. */
const chains = new Map<string, Promise<void>>();

export async function appendLine(dir: string, line: string, options: LogFileOptions): Promise<void> {
  const previous = chains.get(dir) ?? Promise.resolve();
  const next = previous.then(() => appendNow(dir, `${line}\n`, options));
  const settled = next.catch(() => undefined);
  chains.set(dir, settled);
  void settled.then(() => {
    if (chains.get(dir) === settled) chains.delete(dir);
  });
  return next;
}

async function appendNow(dir: string, line: string, options: LogFileOptions): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, LOG_NAME);
  const bytes = Buffer.byteLength(line);
  if (needsRotation(await sizeOf(file), bytes, options.maxBytes)) await rotate(dir, bytes, options);
  // O_APPEND: lines of several processes never overwrite each other; one write per line keeps lines whole.
  const handle = await open(file, "a", 0o600);
  try {
    const { mode } = await handle.stat();
    // A file made by an older version or by hand with wider permissions is narrowed.
    if ((mode & 0o777) !== 0o600) await handle.chmod(0o600);
    await handle.write(line);
  } finally {
    await handle.close();
  }
}

function needsRotation(size: number, adding: number, maxBytes: number): boolean {
  return size > 0 && size + adding > maxBytes;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

/** Under a lock shared by the node's processes; the size is checked again inside, so two processes that saw a full file rotate it once. */
async function rotate(dir: string, adding: number, options: LogFileOptions): Promise<void> {
  const { release } = await acquireLock(dir, "audit-rotate", { timeoutMs: 10_000 });
  try {
    const file = path.join(dir, LOG_NAME);
    if (!needsRotation(await sizeOf(file), adding, options.maxBytes)) return;
    await rm(`${file}.${options.keep}`, { force: true });
    for (let i = options.keep - 1; i >= 1; i--) await renameIfThere(`${file}.${i}`, `${file}.${i + 1}`);
    await rename(file, `${file}.1`);
  } finally {
    await release();
  }
}

async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/** The log files, oldest first (the highest rotated number first, the current file last), those that exist. */
export async function logFiles(dir: string, keep: number): Promise<string[]> {
  const file = path.join(dir, LOG_NAME);
  const candidates = [...Array.from({ length: keep }, (_, i) => `${file}.${keep - i}`), file];
  const found: string[] = [];
  for (const candidate of candidates) if (await exists(candidate)) found.push(candidate);
  return found;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Every line of the log, oldest first, parsed; a line that is not JSON (a torn write of a killed process) is counted, not fatal. */
export async function readLines(dir: string, keep: number): Promise<{ lines: unknown[]; unreadable: { file: string; line: number }[] }> {
  const lines: unknown[] = [];
  const unreadable: { file: string; line: number }[] = [];
  for (const file of await logFiles(dir, keep)) {
    // A rotation between listing and reading moves a file: read what is there now.
    const text = await readFile(file, "utf8").catch(() => "");
    text.split("\n").forEach((raw, index) => {
      if (raw.trim() === "") return;
      try {
        lines.push(JSON.parse(raw));
      } catch {
        unreadable.push({ file, line: index + 1 });
      }
    });
  }
  return { lines, unreadable };
}
