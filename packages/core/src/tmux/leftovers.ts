import path from "node:path";
import { randomBytes } from "node:crypto";
import { acquireMachineMutex } from "../os/machine-mutex.js";
import { acquireLock } from "../store/lock.js";
import { isSameProcess, type ProcessId } from "../os/process-tree.js";
import { runTmux } from "./control.js";
import { isServerGone } from "./direct.js";

/** Sessions named like this are runtimes' monitor sessions, never instances. */
export const MONITOR_PREFIX = "_tc-monitor-";
/** Connecting or a session change waits at most this long for other processes' on the same socket. */
// Generous: under a burst of many processes on a loaded machine the line is long, and waiting is progress.
const SOCKET_LOCK_TIMEOUT_MS = 120_000;

/** A fresh monitor session name for `owner`: pid and start time say whose it is, the suffix makes each connection's unique. */
export function monitorSessionName(owner: ProcessId): string {
  return `${MONITOR_PREFIX}${owner.pid}-${owner.start || "0"}-${randomBytes(3).toString("hex")}`;
}

/** The process a monitor session belongs to, or undefined for a session that is not a monitor. */
export function monitorOwner(session: string): ProcessId | undefined {
  if (!session.startsWith(MONITOR_PREFIX)) return undefined;
  const [pid, start] = session.slice(MONITOR_PREFIX.length).split("-");
  if (!pid || !/^\d+$/u.test(pid)) return undefined;
  return { pid: Number(pid), start: start === "0" ? "" : (start ?? "") };
}

/** A monitor session whose process (same pid and start time) no longer runs. */
export async function isStaleMonitor(session: string): Promise<boolean> {
  const owner = monitorOwner(session);
  return owner !== undefined && !(await isSameProcess(owner));
}

/**
 * Run `fn` while no other tmux-claude process on this machine connects a
 * control client to `socket` or makes its server notify (see
 * TmuxRuntime.exclusive for the tmux 3.3a crash this avoids).
 */
export async function withSocketLock<T>(socket: string, fn: () => Promise<T>): Promise<T> {
  const release =
    (await acquireMachineMutex(`tmux-${socket}`, { timeoutMs: SOCKET_LOCK_TIMEOUT_MS })) ??
    (await acquireLock(connectLockDir(), `tmux-${socket}`, { timeoutMs: SOCKET_LOCK_TIMEOUT_MS })).release;
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Where the socket lock lives where there are no abstract sockets (see machine-mutex): beside tmux's own socket directory
 * (same TMUX_TMPDIR rule as tmux), so every process that reaches the same
 * socket finds the same lock, whatever its state dir or TMPDIR.
 */
export function connectLockDir(): string {
  return path.join(process.env.TMUX_TMPDIR || "/tmp", `tmux-claude-${process.getuid?.() ?? "user"}`);
}

/** What processes that are gone (killed with -9, or a lost terminal) left on a socket. */
export interface Leftovers {
  /** Monitor sessions whose process no longer runs. */
  monitors: string[];
  /** Control clients still attached to those sessions. */
  clients: { pid: number; session: string }[];
}

export interface LeftoverOptions {
  socket: string;
  binary?: string;
}

/**
 * Find the leftovers of dead tmux-claude processes on `socket`. Talks only to a
 * server that already runs (list-* never starts one); no server, no leftovers.
 */
export async function findLeftovers(options: LeftoverOptions): Promise<Leftovers> {
  const tmux = (...args: string[]) => runTmux(options.binary ?? "tmux", ["-L", options.socket, ...args]);
  const sessions = await lines(tmux("list-sessions", "-F", "#{session_name}"));
  const monitors: string[] = [];
  for (const session of sessions) if (await isStaleMonitor(session)) monitors.push(session);
  if (monitors.length === 0) return { monitors, clients: [] };
  const clients = (await lines(tmux("list-clients", "-F", "#{client_pid} #{session_name}")))
    .map((line) => {
      const space = line.indexOf(" ");
      return { pid: Number(line.slice(0, space)), session: line.slice(space + 1) };
    })
    .filter((client) => monitors.includes(client.session));
  return { monitors, clients };
}

/**
 * Remove the leftovers of dead processes: killing a monitor session detaches
 * its control clients, which then exit; windows linked into it from instance
 * sessions live on there. Returns what it found and removed.
 */
export async function removeLeftovers(options: LeftoverOptions): Promise<Leftovers> {
  const found = await findLeftovers(options);
  if (found.monitors.length === 0) return found;
  await withSocketLock(options.socket, async () => {
    for (const session of found.monitors) {
      await runTmux(options.binary ?? "tmux", ["-L", options.socket, "kill-session", "-t", `=${session}`]).catch(ignoreGone);
    }
  });
  return found;
}

/** Output lines of a tmux command; a socket with no server (or no sessions) has none. */
async function lines(output: Promise<string>): Promise<string[]> {
  try {
    return (await output).split("\n").filter((line) => line !== "");
  } catch (error) {
    ignoreGone(error);
    return [];
  }
}

function ignoreGone(error: unknown): void {
  if (!isServerGone(error)) throw error;
}
