// The resolution log: one JSON line per AI conflict resolution, appended and
// never rewritten, so the acceptance rate is counted from what happened.
import { appendFile, mkdir, readFile } from "node:fs/promises";
import path from "node:path";

/** Why a resolution was rejected. */
export type RejectionReason =
  /** Conflict markers remain in a file. */
  | "markers"
  /** The merged result failed `verify`. */
  | "verify"
  /** The resolver did not end its turn within resolver.timeoutMs. */
  | "timeout"
  /** The resolver could not be spawned, stopped on a question or failed its turn. */
  | "resolver"
  /** The plugin could not finish the attempt (git or the store failed); the merge got the error. */
  | "error";

export interface ResolutionRecord {
  /** ISO time the resolution ended. */
  readonly at: string;
  readonly repo: string;
  readonly source: string;
  readonly target: string;
  readonly sourceCommit: string;
  readonly targetCommit: string;
  readonly files: readonly string[];
  /** Conflict hunks (`<<<<<<<` blocks) the resolver was given. */
  readonly hunks: number;
  readonly accepted: boolean;
  readonly reason?: RejectionReason;
  /** What was wrong, in words: the files with markers, the verify output's end. */
  readonly detail?: string;
  /** The merge commit an accepted resolution made. */
  readonly commit?: string;
  readonly verify?: { readonly argv: readonly string[]; readonly passed: boolean; readonly code: number | null; readonly durationMs: number };
  /** The resolver instance and the agent it ran. */
  readonly resolver: { readonly id?: string; readonly agent: string };
  /** Milliseconds from the scratch worktree to the verdict. */
  readonly durationMs: number;
}

export interface ResolutionStats {
  readonly attempts: number;
  readonly accepted: number;
  readonly rejected: number;
  /** accepted / attempts, 0..1; null before any attempt. */
  readonly acceptanceRate: number | null;
  readonly byReason: Readonly<Partial<Record<RejectionReason, number>>>;
}

export function resolutionLogPath(stateDir: string): string {
  return path.join(stateDir, "git", "resolutions.jsonl");
}

/**
 * Append one record as one line with a single O_APPEND write, so lines from
 * several processes never interleave and a crash leaves at most a torn last line.
 */
export async function appendResolution(stateDir: string, record: ResolutionRecord): Promise<void> {
  const file = resolutionLogPath(stateDir);
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(record)}\n`, { flag: "a" });
}

/** Every logged resolution, oldest first; a torn line (a crash mid-write) is skipped. */
export async function readResolutions(stateDir: string): Promise<ResolutionRecord[]> {
  const text = await readFile(resolutionLogPath(stateDir), "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "";
    throw error;
  });
  const records: ResolutionRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as ResolutionRecord);
    } catch {
      // Only the last line can be torn, and it is not a resolution anyone saw end.
    }
  }
  return records;
}

export function resolutionStats(records: readonly ResolutionRecord[]): ResolutionStats {
  const accepted = records.filter((r) => r.accepted).length;
  const byReason: Partial<Record<RejectionReason, number>> = {};
  for (const record of records) if (!record.accepted && record.reason) byReason[record.reason] = (byReason[record.reason] ?? 0) + 1;
  return {
    attempts: records.length,
    accepted,
    rejected: records.length - accepted,
    acceptanceRate: records.length === 0 ? null : accepted / records.length,
    byReason,
  };
}

/** The stats of the log under a state dir (what `api.stats()` and `tmux-claude git stats` report). */
export async function loadResolutionStats(stateDir: string): Promise<ResolutionStats> {
  return resolutionStats(await readResolutions(stateDir));
}
