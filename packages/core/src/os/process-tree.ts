import { execFile } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** A process and the time it started, so a recycled pid is never mistaken for it. */
export interface ProcessId {
  pid: number;
  start: string;
}

interface ProcessRow extends ProcessId {
  ppid: number;
}

/**
 * Every process in the tree rooted at `rootPid`, the root first. With
 * `marker`, also every process whose environment carries all of those
 * variables: daemons that double-forked away from the tree still inherit the
 * instance's environment (Linux only).
 */
export async function processTree(rootPid: number, marker?: Record<string, string>): Promise<ProcessId[]> {
  const rows = await processTable();
  const children = new Map<number, ProcessRow[]>();
  for (const row of rows) {
    const list = children.get(row.ppid);
    if (list) list.push(row);
    else children.set(row.ppid, [row]);
  }
  const root = rows.find((row) => row.pid === rootPid);
  if (!root) return [];
  const tree: ProcessId[] = [];
  const stack: ProcessRow[] = [root];
  while (stack.length) {
    const row = stack.pop()!;
    tree.push({ pid: row.pid, start: row.start });
    stack.push(...(children.get(row.pid) ?? []));
  }
  if (marker && process.platform === "linux") {
    const seen = new Set(tree.map((p) => p.pid));
    const needles = Object.entries(marker).map(([key, value]) => Buffer.from(`\u0000${key}=${value}\u0000`));
    // Only processes started after the agent can have inherited its environment.
    const candidates = rows.filter((row) => !seen.has(row.pid) && row.pid !== process.pid && Number(row.start) >= Number(root.start));
    const matches = await Promise.all(
      candidates.map(async (row) => {
        const environ = await readFile(`/proc/${row.pid}/environ`).catch(() => undefined);
        if (!environ) return false;
        const padded = Buffer.concat([Buffer.from([0]), environ]);
        return needles.every((needle) => padded.includes(needle));
      }),
    );
    candidates.forEach((row, i) => {
      if (matches[i]) tree.push({ pid: row.pid, start: row.start });
    });
  }
  return tree;
}

/** Signal each process that is still the one we listed. Returns how many were signalled. */
export async function signalProcesses(processes: ProcessId[], signal: NodeJS.Signals): Promise<number> {
  let signalled = 0;
  for (const proc of processes) {
    if (!(await isSameProcess(proc))) continue;
    try {
      process.kill(proc.pid, signal);
      signalled++;
    } catch {
      // ESRCH: it exited between the check and the signal, which is what we want.
    }
  }
  return signalled;
}

/**
 * Wait until none of `processes` runs any more, or `timeoutMs` passed. Node
 * cannot wait on a process it did not start, so this checks with a short,
 * growing interval; it runs only while an instance is being terminated.
 * Resolves with the processes still running.
 */
export async function waitForExit(processes: ProcessId[], timeoutMs: number): Promise<ProcessId[]> {
  const deadline = Date.now() + timeoutMs;
  let interval = 2;
  for (;;) {
    const running: ProcessId[] = [];
    for (const proc of processes) if (await isSameProcess(proc)) running.push(proc);
    if (running.length === 0 || Date.now() >= deadline) return running;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(deadline - Date.now(), 1))));
    interval = Math.min(interval * 2, 50);
  }
}

/** This process's identity never changes while it runs: read once (every spawn records it). */
let self: Promise<ProcessId> | undefined;

/** This process, as another process would identify it. */
export function currentProcess(): Promise<ProcessId> {
  const reading = (self ??= readCurrentProcess());
  return reading.then((me) => {
    // A failed read is not remembered: the next call tries again.
    if (process.platform === "linux" && me.start === "" && self === reading) self = undefined;
    return { ...me };
  });
}

async function readCurrentProcess(): Promise<ProcessId> {
  return processId(process.pid);
}

/** A process as another process would identify it later (`start` empty where it cannot be read: then only the pid counts). */
export async function processId(pid: number): Promise<ProcessId> {
  if (process.platform === "linux") return { pid, start: (await linuxStartTime(pid)) ?? "" };
  return { pid, start: "" };
}

export async function isSameProcess(proc: ProcessId): Promise<boolean> {
  if (process.platform === "linux" && proc.start) {
    const start = await linuxStartTime(proc.pid);
    return start !== undefined && start === proc.start;
  }
  return isProcessAlive(proc.pid);
}

/** Does a process `pid` exist on this machine (also one of another user's)? A zombie still counts. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function processTable(): Promise<ProcessRow[]> {
  if (process.platform === "linux") {
    const pids = (await readdir("/proc")).filter((entry) => /^\d+$/u.test(entry));
    const rows = await Promise.all(pids.map((pid) => readStat(Number(pid))));
    return rows.filter((row): row is ProcessRow => row !== undefined);
  }
  const { stdout } = await execFileAsync("ps", ["-A", "-o", "pid=,ppid=,lstart="]);
  return stdout
    .split("\n")
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/u))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), start: m[3]! }));
}

async function readStat(pid: number): Promise<ProcessRow | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses; fields after the last ")" are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // A zombie has exited; only its parent's wait() is missing.
    if (fields[0] === "Z") return undefined;
    return { pid, ppid: Number(fields[1]), start: fields[19] ?? "" };
  } catch {
    return undefined;
  }
}

async function linuxStartTime(pid: number): Promise<string | undefined> {
  return (await readStat(pid))?.start;
}
