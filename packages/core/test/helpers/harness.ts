import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { configSchema, createLogger, Kernel, type ResolvedConfig, type UserConfig } from "../../src/index.js";
import { testSocket } from "../../../../test/sockets.js";

const execFileAsync = promisify(execFile);

export const ECHO_AGENT = fileURLToPath(new URL("../fixtures/echo-agent.mjs", import.meta.url));

export interface Harness {
  socket: string;
  dir: string;
  stateDir: string;
  workDir: string;
  log: string;
  config: ResolvedConfig;
  kernel: Kernel;
  /** Start another kernel on the same socket and store (as a second process would). */
  startKernel(options?: { watch?: "all" | "on-demand"; config?: UserConfig }): Promise<Kernel>;
  /** Messages the echo agent received, in order. */
  received(): Promise<{ text: string; busy: boolean }[]>;
  tmux(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** A private tmux socket, a temp state dir and a kernel whose default agent is the echo agent. */
export async function createHarness(overrides: UserConfig = {}, watch: "all" | "on-demand" = "all"): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-test-"));
  const socket = testSocket("core");
  const log = path.join(dir, "received.jsonl");
  const workDir = path.join(dir, "work");
  await import("node:fs/promises").then((fs) => fs.mkdir(workDir));
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
  const config = configSchema.parse(userConfig);
  const kernels: Kernel[] = [];
  const startKernel = async (options: { watch?: "all" | "on-demand"; config?: UserConfig } = {}) => {
    const kernelConfig = options.config ? configSchema.parse({ ...userConfig, ...options.config }) : config;
    const kernel = await Kernel.start({ config: kernelConfig, watch: options.watch ?? watch, logger: createLogger("warn") });
    kernels.push(kernel);
    return kernel;
  };
  const kernel = await startKernel();
  const tmux = async (...args: string[]) => (await execFileAsync("tmux", ["-L", socket, ...args])).stdout;
  return {
    socket,
    dir,
    stateDir,
    workDir,
    log,
    config,
    kernel,
    startKernel,
    tmux,
    async received() {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { text: string; busy: boolean });
    },
    async close() {
      for (const k of kernels) await k.close().catch(() => undefined);
      await execFileAsync("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
      // kill-server leaves the socket file behind.
      await rm(path.join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Wait until `check` returns a truthy value (tests only; the product never polls). */
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
