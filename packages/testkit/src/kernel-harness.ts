// The kernel test harness for plugin authors: a kernel on a private tmux
// socket (named by testSocket, so the run's global setup removes whatever a
// failed test leaves) with a temp state dir and the echo agent as its default
// agent, plus the clean-up that a test's afterEach calls.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createLogger, Kernel, parseConfig, type ResolvedConfig, type UserConfig } from "@tmux-claude/core";
import { testSocket, tmuxSocketDir } from "./sockets.js";

const execFileAsync = promisify(execFile);

/**
 * A small REPL agent (run it with node): a "> " prompt, bracketed paste, and
 * every submitted message appended as one JSON line to $ECHO_AGENT_LOG. See
 * the file's header for its commands (/work, /ask, /exit) and variables.
 */
export const ECHO_AGENT = fileURLToPath(new URL("../fixtures/echo-agent.mjs", import.meta.url));

/** A message the echo agent received: its text byte for byte, whether it was busy, when (ms since epoch). */
export interface EchoMessage {
  text: string;
  busy: boolean;
  t: number;
}

/** What the echo agent logged to `log`, in order (nothing yet: empty). */
export async function readEchoLog(log: string): Promise<EchoMessage[]> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EchoMessage);
}

/** Kill a test socket's tmux server (its panes' programs get SIGHUP) and remove the socket file, which kill-server leaves behind. */
export async function removeTestSocket(socket: string): Promise<void> {
  await execFileAsync("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
  await rm(path.join(tmuxSocketDir(), socket), { force: true });
}

export type WatchMode = "all" | "on-demand";

export interface HarnessOptions {
  /** Part of the socket name, to tell runs' servers apart: tc-test-<run>-<label>-... (default "kernel"). */
  label?: string;
  /** How the first kernel watches instances: "all" as serve does (default), "on-demand" as one-shot CLI commands. */
  watch?: WatchMode;
  /** Start a kernel at once as `kernel` (default true); false leaves it to startKernel. */
  start?: boolean;
}

export interface StartKernelOptions {
  watch?: WatchMode;
  /** Merged over the harness's config (top-level keys replace, e.g. `plugins`). */
  config?: UserConfig;
  /** Runs before the kernel starts, e.g. to tap its hooks from the test. */
  beforeStart?: (kernel: Kernel) => void;
}

export interface Harness {
  socket: string;
  /** The temp dir holding state, work dir and the echo log; removed by close. */
  dir: string;
  stateDir: string;
  /** An empty directory to spawn instances in. */
  workDir: string;
  /** The echo agent's log. */
  log: string;
  /** The user config every kernel of this harness starts from (for kernels in other processes: pass it as JSON). */
  userConfig: UserConfig;
  config: ResolvedConfig;
  /** The kernel started with the harness (throws if it was created with start: false and none was started). */
  readonly kernel: Kernel;
  /** Start another kernel on the same socket and store, as a second process would. */
  startKernel(options?: StartKernelOptions): Promise<Kernel>;
  /** Messages the echo agent received, in order. */
  received(): Promise<EchoMessage[]>;
  /** Run tmux on the harness's socket; resolves with stdout. */
  tmux(...args: string[]): Promise<string>;
  /** Close every kernel it started, kill the tmux server, remove the temp dir. */
  close(): Promise<void>;
}

/**
 * A private tmux socket, a temp state dir and a kernel whose default agent is
 * the echo agent (`agents.echo`). `overrides` is merged over that config;
 * its `agents` are added beside `echo`.
 */
export async function createHarness(overrides: UserConfig = {}, options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-test-"));
  const socket = testSocket(options.label ?? "kernel");
  const log = path.join(dir, "received.jsonl");
  const workDir = path.join(dir, "work");
  await mkdir(workDir);
  const stateDir = path.join(dir, "state");
  const userConfig: UserConfig = {
    tmux: { socket, configFile: "none", width: 120, height: 40 },
    stateDir,
    defaultAgent: "echo",
    logLevel: "warn",
    ...overrides,
    agents: {
      // The echo agent logs every line it accepts: the adapter's evidence, so queued messages are delivered exactly once across crashes.
      echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: log }, inputLog: log, clearKey: "C-u" },
      ...overrides.agents,
    },
  };
  const config = parseConfig(userConfig);
  const kernels: Kernel[] = [];
  const startKernel = async ({ watch, config: more, beforeStart }: StartKernelOptions = {}) => {
    const kernelConfig = more ? parseConfig({ ...userConfig, ...more }) : config;
    const kernel = new Kernel({ config: kernelConfig, watch: watch ?? options.watch ?? "all", logger: createLogger((process.env.TC_TEST_LOG as "debug" | undefined) ?? "warn") });
    kernels.push(kernel);
    beforeStart?.(kernel);
    // As Kernel.start does: a kernel that failed to start lets go of tmux and the store at once.
    await kernel.start().catch(async (error: unknown) => Promise.reject(await kernel.close().then(() => error, () => error)));
    return kernel;
  };
  if (options.start ?? true) await startKernel();
  return {
    socket,
    dir,
    stateDir,
    workDir,
    log,
    userConfig,
    config,
    get kernel() {
      const first = kernels[0];
      if (!first) throw new Error("this harness was created with start: false; start a kernel with startKernel()");
      return first;
    },
    startKernel,
    tmux: async (...args) => (await execFileAsync("tmux", ["-L", socket, ...args])).stdout,
    received: () => readEchoLog(log),
    async close() {
      for (const kernel of kernels) {
        const started = Date.now();
        await kernel.close().catch(() => undefined);
        // A close this slow is a bug to find (it waited on something): say whose, so a hook timeout points somewhere.
        const ms = Date.now() - started;
        if (ms > 10_000) console.warn(`testkit: closing the kernel of node "${kernel.node}" (socket ${kernel.config.tmux.socket}) took ${ms} ms`);
      }
      await removeTestSocket(socket);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** Wait until `check` returns a truthy value, retrying errors (tests only; the product never polls). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
