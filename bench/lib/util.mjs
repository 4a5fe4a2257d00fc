import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const execFileAsync = promisify(execFile);
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The fake agent shared with the core tests: prints "> ", logs each submitted line as JSON to $ECHO_AGENT_LOG. */
export const ECHO_AGENT = path.join(ROOT, "packages/testkit/fixtures/echo-agent.mjs");
export const NODE = process.execPath;
/** Same pane size for the kernel and the floors (the kernel's default). */
export const WIDTH = 200;
export const HEIGHT = 50;
export const HISTORY = 50_000;

// ------------------------------------------------------------------ cleanup

const sockets = new Set();
const dirs = new Set();
const children = new Set();
const closers = new Set();

export function tempDir(label) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tc-bench-${label}-`));
  dirs.add(dir);
  return dir;
}

let socketCounter = 0;
export function newSocket(label) {
  const name = `tc-bench-${process.pid}-${label}-${++socketCounter}-${Math.random().toString(36).slice(2, 6)}`;
  sockets.add(name);
  return name;
}

export function trackChild(child) {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Something with an async close() that must run before its tmux server is killed. */
export function trackCloser(fn) {
  closers.add(fn);
  return () => closers.delete(fn);
}

/** tmux leaves its socket file behind after kill-server; remove it too. */
function socketPath(socket) {
  return path.join(process.env.TMUX_TMPDIR || "/tmp", `tmux-${process.getuid?.() ?? 0}`, socket);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kill a tmux server and wait (up to 5 s, then SIGKILL) until the programs of
 * its panes have exited, so none of them writes into a temp dir being removed.
 */
export async function killServer(socket) {
  const panes = await execFileAsync("tmux", ["-L", socket, "list-panes", "-a", "-F", "#{pane_pid}"]).catch(() => ({ stdout: "" }));
  const pids = panes.stdout.split("\n").filter(Boolean).map(Number).filter((pid) => pid > 1);
  await execFileAsync("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
  const deadline = Date.now() + 5_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  rmSync(socketPath(socket), { force: true });
  sockets.delete(socket);
}

/** Close clients, kill tmux servers and children, remove temp dirs. Safe to call twice. */
export async function cleanupAll() {
  for (const fn of [...closers]) {
    closers.delete(fn);
    await Promise.race([Promise.resolve().then(fn).catch(() => undefined), sleep(5_000)]);
  }
  for (const child of [...children]) {
    try {
      child.kill("SIGKILL");
    } catch {}
  }
  for (const socket of [...sockets]) await killServer(socket);
  for (const dir of [...dirs]) {
    // An agent killed a moment ago may still be writing into its home: retry.
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
        break;
      } catch {
        await sleep(200);
      }
    }
    dirs.delete(dir);
  }
}

/** Last resort when the process is going down synchronously. */
export function cleanupSync() {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {}
  }
  for (const socket of sockets) {
    try {
      execFileSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
    } catch {}
    rmSync(socketPath(socket), { force: true });
  }
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {}
  }
}

// -------------------------------------------------------------------- stats

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => performance.now();

export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  if (!n) return { n: 0 };
  const at = (q) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { n, median, p95: at(0.95), min: sorted[0], max: sorted[n - 1], mean: sorted.reduce((a, b) => a + b, 0) / n };
}

/** Run `fn` `n` times, returning durations in ms. */
export async function timeIt(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await fn(i);
    out.push(now() - t0);
  }
  return out;
}

// ------------------------------------------------------------------ /proc

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3; utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function procRssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/u.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Pids of the direct children of `pid` whose command name is `comm`. */
export function childPids(pid, comm) {
  const out = [];
  for (const entry of readdirSafe("/proc")) {
    if (!/^\d+$/u.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid && (!comm || name === comm)) out.push(Number(entry));
    } catch {}
  }
  return out;
}

function readdirSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export async function tmuxServerPid(socket) {
  const { stdout } = await execFileAsync("tmux", ["-L", socket, "display-message", "-p", "#{pid}"]);
  return Number(stdout.trim());
}

// ------------------------------------------------------------------ machine

export async function machineInfo() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.*)/u.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  const mhz = /cpu MHz\s*:\s*(.*)/u.exec(cpuinfo)?.[1]?.trim();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = readFileSync("/etc/os-release", "utf8");
    const pretty = /PRETTY_NAME="?([^"\n]*)"?/u.exec(rel)?.[1];
    if (pretty) osName = `${pretty} (kernel ${os.release()})`;
  } catch {}
  const tmux = (await execFileAsync("tmux", ["-V"]).catch(() => ({ stdout: "tmux not found" }))).stdout.trim();
  return {
    cpu: model,
    cpuMHz: mhz ? Number(mhz) : undefined,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName,
    node: process.version,
    tmux,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
