// Scratch worktrees (a verify's, a resolution's) carry their process's pid in
// their directory name, so whoever comes next can tell an abandoned one (its
// process was killed) from one a live process still works in.

/** True when no process `pid` exists on this machine (only then is its scratch ours to remove). */
export function processGone(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
