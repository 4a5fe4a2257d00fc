/**
 * A private redis-server for tests: on a free loopback port, in its own temp
 * directory, with AOF on (a restart keeps everything), never a system one.
 * `stop()` and `start()` again on the same port and directory are a Redis
 * restart; `close()` stops it and removes the directory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { TestkitError, TestkitErrorCodes } from "./errors.js";

export const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? "/usr/bin/redis-server";

export interface StartRedisOptions {
  /** `requirepass`: clients must authenticate with it. */
  password?: string;
  /** More redis-server arguments, e.g. ["--rename-command", "EVAL", ""]. */
  args?: string[];
  /** How long to wait for "Ready to accept connections". Default 10 s. */
  timeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:<port>`. */
  readonly url: string;
  readonly dir: string;
  /** The running server's pid; -1 while stopped. */
  readonly pid: number;
  /** Start it again (after stop) on the same port and directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGTERM (Redis flushes its AOF) and wait for the exit. */
  stop(): Promise<void>;
  /** Stop and remove the directory. */
  close(): Promise<void>;
}

/** A port free on loopback now: the kernel picks it, the probe lets it go. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tc-redis-"));
  const port = await freePort();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const args = [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", dir,
    "--save", "",
    "--appendonly", "yes",
    "--appendfsync", "always",
    ...(options.password === undefined ? [] : ["--requirepass", options.password]),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const process_ = spawn(REDIS_SERVER_BIN, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    child = process_;
    // A test process that ends without its afterAll (a crash, a timeout) must not leave its server running.
    const orphaned = (): void => {
      process_.kill("SIGKILL");
    };
    process.once("exit", orphaned);
    process_.once("exit", () => process.off("exit", orphaned));
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        process_.kill("SIGKILL");
        reject(new TestkitError(TestkitErrorCodes.SERVICE_FAILED, `redis-server on port ${port} did not accept connections within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString("utf8");
        if (/Ready to accept connections/u.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      process_.stdout?.on("data", onData);
      process_.stderr?.on("data", onData);
      process_.once("error", (error) => {
        clearTimeout(timer);
        reject(new TestkitError(TestkitErrorCodes.SERVICE_FAILED, `Could not start ${REDIS_SERVER_BIN}: ${error.message}. Install it (apt-get install redis-server; .ci/run does) or set REDIS_SERVER_BIN.`));
      });
      process_.once("exit", (code) => {
        clearTimeout(timer);
        reject(new TestkitError(TestkitErrorCodes.SERVICE_FAILED, `redis-server on port ${port} exited with ${String(code)} before it was ready:\n${output}`));
      });
    });
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()));
    running.kill("SIGTERM");
    await exited;
  }

  await start();
  const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    start,
    stop,
    async close() {
      await stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
