// Test tmux sockets: every one is named tc-test-<run>-..., where <run> is this
// vitest run's id (set by the global setup, global-setup.ts), so the run's teardown can find
// and remove exactly its own tmux servers and clients, never another run's.
import { execFile } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Every test socket starts with this; .ci/run looks for leftovers by it. */
export const TEST_SOCKET_PREFIX = "tc-test-";

/** This run's id, or "solo" for a test file run outside the root vitest config. */
export function testRun(): string {
  return process.env.TC_TEST_RUN || "solo";
}

/** A fresh private socket name for this run: tc-test-<run>-<label>-<pid>-<random>. */
export function testSocket(label: string): string {
  return `${TEST_SOCKET_PREFIX}${testRun()}-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Where tmux keeps its socket files (same rule as tmux). */
export function tmuxSocketDir(): string {
  return path.join(process.env.TMUX_TMPDIR || "/tmp", `tmux-${process.getuid?.() ?? 0}`);
}

/** tmux processes (servers and clients) whose `-L` socket starts with `prefix`, from /proc. */
export async function tmuxProcesses(prefix: string): Promise<{ pid: number; socket: string; argv: string[] }[]> {
  const found: { pid: number; socket: string; argv: string[] }[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/u.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\u0000").filter(Boolean);
    if (!argv[0] || path.basename(argv[0]) !== "tmux") continue;
    const socket = argv[argv.indexOf("-L") + 1];
    if (argv.includes("-L") && socket?.startsWith(prefix)) found.push({ pid: Number(entry), socket, argv });
  }
  return found;
}

/**
 * Remove every tmux server and client of run `run`: kill-server first (its
 * panes' programs get SIGHUP, as when a test closes), then SIGKILL whatever
 * still runs, then the socket files. Returns the tmux processes that were still running.
 */
export async function removeRun(run: string): Promise<{ pid: number; socket: string; argv: string[] }[]> {
  const prefix = `${TEST_SOCKET_PREFIX}${run}-`;
  const files = (await readdir(tmuxSocketDir()).catch(() => [] as string[])).filter((name) => name.startsWith(prefix));
  const running = await tmuxProcesses(prefix);
  const sockets = new Set([...files, ...running.map((p) => p.socket)]);
  for (const socket of sockets) await execFileAsync("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
  for (const proc of await tmuxProcesses(prefix)) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const socket of sockets) await rm(path.join(tmuxSocketDir(), socket), { force: true });
  return running;
}
