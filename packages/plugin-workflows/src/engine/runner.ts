// Who runs a run: the process recorded in its document (`runner`). One
// answer to "does that process still run it" for the engine (`--resume` is
// refused while it does) and the CLI (`runs` shows a run whose runner is
// gone as stopped).
import os from "node:os";
import { isProcessAlive, isSameProcess } from "@tmux-claude/core";
import type { PersistedRun, RunId } from "../types.js";

/** Runs this process runs now: a runner here is alive exactly while its run is in this set (the pid alone is this process for all of them). */
const runningHere = new Set<RunId>();

/**
 * Does the run's recorded runner still run it? Another host's process cannot
 * be checked from here: assumed alive. On this host a pid is compared with
 * its start time, so a reused pid does not count.
 */
export async function runnerAlive(run: Pick<PersistedRun, "id" | "runner">): Promise<boolean> {
  const { runner } = run;
  if (runner.host !== os.hostname()) return true;
  if (runner.pid === process.pid) return runningHere.has(run.id);
  return runner.start ? isSameProcess({ pid: runner.pid, start: runner.start }) : isProcessAlive(runner.pid);
}

/** The same runner (node, host, process and its start)? */
export function sameRunner(a: PersistedRun["runner"], b: PersistedRun["runner"]): boolean {
  return a.node === b.node && a.host === b.host && a.pid === b.pid && a.start === b.start;
}

/**
 * Mark the run as run by this process until `release`; false when it already
 * is (a second resume here). Synchronous, so two resumes in one process
 * cannot both pass it.
 */
export function claimHere(id: RunId): boolean {
  if (runningHere.has(id)) return false;
  runningHere.add(id);
  return true;
}

export function releaseHere(id: RunId): void {
  runningHere.delete(id);
}
