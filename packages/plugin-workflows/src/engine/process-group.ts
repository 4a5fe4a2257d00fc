// The process groups of `run:` steps: each command runs as the leader of its
// own group (its test runner's children end with it). A group must not
// outlive its runner: ended when the process exits at once (a second Ctrl-C),
// and, after a kill -9 that nothing can catch, by `--resume` before the step
// runs again, so two copies of a command never run at the same time.
import os from "node:os";
import { isProcessAlive, isSameProcess } from "@tmux-claude/core";
import type { CommandProcess } from "../types.js";

/** Groups of this process's commands still running. */
const running = new Set<number>();
let hooked = false;

/** Send `signal` to a whole group (its id is its leader's pid). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/** Track a command's group until `release`: an exit of this process (process.exit skips every finally) takes it along. */
export function holdGroup(pgid: number): () => void {
  if (!hooked) {
    hooked = true;
    // Only synchronous work runs in "exit": a kill, not a grace period.
    process.on("exit", () => {
      for (const group of running) signalGroup(group, "SIGKILL");
    });
  }
  running.add(pgid);
  return () => running.delete(pgid);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * End a group a dead runner left (SIGTERM, then SIGKILL after `graceMs`):
 * only while it is still that group: its leader is the recorded process, or
 * the leader is gone and no process has its pid (a pid is not reused while
 * its group lives). Resolves with what it found; throws when it cannot be
 * stopped from here (another host, or it survived SIGKILL).
 */
export async function endLeftoverGroup(proc: CommandProcess, what: string, graceMs: number): Promise<"ended" | "gone"> {
  if (proc.host !== os.hostname()) {
    throw new Error(`${what} may still run as process group ${proc.pid} on host ${proc.host}, which cannot be stopped from here: resume on ${proc.host}, or stop it there first`);
  }
  const ours = (await isSameProcess({ pid: proc.pid, start: proc.start })) || (!isProcessAlive(proc.pid) && groupAlive(proc.pid));
  if (!ours || !groupAlive(proc.pid)) return "gone";
  signalGroup(proc.pid, "SIGTERM");
  if (await gone(proc.pid, graceMs)) return "ended";
  signalGroup(proc.pid, "SIGKILL");
  if (await gone(proc.pid, graceMs)) return "ended";
  throw new Error(`${what} (process group ${proc.pid}) still runs after SIGKILL: stop it, then resume again`);
}

/**
 * Whether the group ended within `timeoutMs`. Node cannot wait on processes
 * it did not start, so this looks at a short, growing interval (as core's
 * waitForExit); it runs only while a resume ends a leftover.
 */
async function gone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let interval = 2; groupAlive(pgid); interval = Math.min(interval * 2, 50)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  return true;
}
