// Scratch worktrees (a verify's, a resolution's) carry their process's pid in
// their directory name, so whoever comes next can tell an abandoned one (its
// process was killed) from one a live process still works in.
import { isProcessAlive } from "@tmux-claude/core";

/** True when no process `pid` exists on this machine (only then is its scratch ours to remove). */
export function processGone(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && !isProcessAlive(pid);
}
