import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ECHO_AGENT, eventually, readEchoLog, removeTestSocket, testSocket, type EchoMessage } from "@tmux-claude/testkit";

/** The built CLI; the root `npm test` builds it first (turbo run build). */
export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
export { ECHO_AGENT, eventually };
export const CORE_DIR = fileURLToPath(new URL("../../core", import.meta.url));

if (!existsSync(BIN)) throw new Error(`${BIN} does not exist: build first (npx turbo run build).`);

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  /** Written to stdin, which is then closed (stdin is always closed, never a TTY). */
  input?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Pass `--config <the test config>` first (default true). */
  config?: boolean;
  timeoutMs?: number;
}

/** A private tmux socket, a temp dir with state, workdir and echo-agent log, and a config file naming them. */
export interface TestEnv {
  dir: string;
  socket: string;
  stateDir: string;
  workDir: string;
  log: string;
  configFile: string;
  /** The same config as JSON, for API processes (configSchema.parse). */
  configJson: string;
  run(args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Start the bin as a long-running child (serve). */
  start(args: readonly string[], options?: RunOptions): ChildProcess;
  /** Messages the echo agent received, in order. */
  received(): Promise<EchoMessage[]>;
  close(): Promise<void>;
}

export async function createEnv(overrides: Record<string, unknown> = {}): Promise<TestEnv> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-cli-"));
  const socket = testSocket("cli");
  const stateDir = path.join(dir, "state");
  const workDir = path.join(dir, "work");
  const log = path.join(dir, "received.jsonl");
  await mkdir(workDir);
  const config = {
    tmux: { socket, configFile: "none", width: 120, height: 40 },
    stateDir,
    defaultAgent: "echo",
    agents: { echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: log } } },
    ...overrides,
  };
  const configFile = path.join(dir, "tmuxclaude.config.mjs");
  await writeFile(configFile, `export default ${JSON.stringify(config, null, 2)};\n`);
  const configJson = path.join(dir, "config.json");
  await writeFile(configJson, JSON.stringify(config));
  const children: ChildProcess[] = [];

  const argsFor = (args: readonly string[], options: RunOptions) => [BIN, ...(options.config === false ? [] : ["--config", configFile]), ...args];
  const start = (args: readonly string[], options: RunOptions = {}) => {
    const child = spawn(process.execPath, argsFor(args, options), {
      cwd: options.cwd ?? workDir,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end(options.input ?? "");
    children.push(child);
    return child;
  };
  return {
    dir,
    socket,
    stateDir,
    workDir,
    log,
    configFile,
    configJson,
    start,
    run(args, options = {}) {
      const started = Date.now();
      const child = start(args, options);
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
      return new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
        });
      });
    },
    received: () => readEchoLog(log),
    async close() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await removeTestSocket(socket);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Parse stdout as JSON, with the whole result in the error when it is not. */
export function parseJson<T = Record<string, unknown>>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** What plain `send` prints for a delivered message: the ids `thread`, --thread and --reply-to take. */
export const DELIVERED = /^delivered \(message [A-Za-z0-9][\w.:-]*, thread [A-Za-z0-9][\w.:-]*\)\n$/u;
