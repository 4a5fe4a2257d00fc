import { PLUGIN_NAME as MCP_PLUGIN, type McpApi } from "@tmux-claude/mcp";
import { MONITOR_HINT, PLUGIN_NAME as DASHBOARD_PLUGIN, type DashboardApi } from "@tmux-claude/plugin-dashboard";
import { readFileSync, unlinkSync } from "node:fs";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { ErrorCodes, Kernel, TmuxClaudeError, isProcessAlive, type LoadedConfig } from "@tmux-claude/core";
import { VERSION, type ActionFactory, type Cli } from "../context.js";

/** Written by a running `tmux-claude serve` into the state dir it serves. */
export const SERVE_FILE = "serve.json";

export interface ServeInfo {
  pid: number;
  startedAt: string;
  socket: string;
  version: string;
}

export interface ServeStatus {
  running: boolean;
  /** The serving process, when one runs. */
  pid?: number;
}

/** Is a `tmux-claude serve` running for this state dir? (Its serve.json names a live process.) */
export async function serveStatus(stateDir: string): Promise<ServeStatus> {
  const info = await readServeInfo(path.join(stateDir, SERVE_FILE));
  return info && isProcessAlive(info.pid) ? { running: true, pid: info.pid } : { running: false };
}

export function registerServe(program: Command, action: ActionFactory): void {
  program
    .command("serve")
    .description("Run the kernel in the foreground: watch every instance and deliver queued messages when they are idle.")
    .addHelpText(
      "after",
      [
        "",
        "One serve per state dir; it writes <stateDir>/serve.json while it runs. Stop it with Ctrl-C or SIGTERM.",
        "With dashboard() in the config's plugins it also serves the web dashboard; its URL carries a secret,",
        "so serve does not print it: run `tmux-claude monitor` (which also starts serve with the dashboard when none runs).",
      ].join("\n"),
    )
    .action(action(serve));
}

async function serve(cli: Cli): Promise<number> {
  return runServe(cli, await cli.loadConfig("serve"), {
    // The page is useless without its URL, and the URL holds the secret: say where to get it, never the URL itself.
    async started(kernel) {
      const api = kernel.plugin<DashboardApi>(DASHBOARD_PLUGIN);
      if (!api) return;
      await api.listening();
      cli.err(`dashboard: ${MONITOR_HINT}`);
    },
  });
}

export interface ServeHooks {
  /** Runs once the kernel started and the MCP endpoint listens, before serve waits for Ctrl-C (monitor prints its URL here). */
  started?(kernel: Kernel): Promise<void> | void;
}

/** Serve a loaded config until Ctrl-C or SIGTERM: `serve` itself, and `monitor` with the dashboard added. */
export async function runServe(cli: Cli, { config, filepath }: Pick<LoadedConfig, "config" | "filepath">, hooks: ServeHooks = {}): Promise<number> {
  const logger = cli.logger(config, false);
  const kernel = new Kernel({ config, configPath: filepath, logger, watch: "all" });
  const file = path.join(kernel.stateDir, SERVE_FILE);
  const info: ServeInfo = { pid: process.pid, startedAt: new Date().toISOString(), socket: config.tmux.socket, version: VERSION };
  await claim(file, info);
  // Last resort when the process ends without the finally below (an uncaught error): never leave a file naming us.
  const onExit = () => releaseSync(file, info.pid);
  process.once("exit", onExit);
  try {
    await kernel.start();
    // The agents' MCP endpoint: each spawned instance authenticates as itself with its own token.
    const { url } = await kernel.plugin<McpApi>(MCP_PLUGIN)!.listen();
    logger.info({ socket: config.tmux.socket, stateDir: kernel.stateDir, pid: process.pid, config: filepath, mcp: url }, "serving");
    await hooks.started?.(kernel);
    const { signal } = cli.io;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    logger.info({ signal: signal.reason as unknown }, "stopping");
    return 0;
  } finally {
    await kernel.close().catch((error: unknown) => logger.error({ err: error }, "closing the kernel failed"));
    await release(file, info.pid);
    process.off("exit", onExit);
  }
}

/**
 * Create serve.json atomically (hard link of a complete temp file, which fails
 * if the file exists), so two serves starting at once cannot both win and a
 * reader never sees a half-written file. A file left by a dead serve is replaced.
 */
async function claim(file: string, info: ServeInfo): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, file);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      }
      const other = await readServeInfo(file);
      if (other && isProcessAlive(other.pid)) {
        throw new TmuxClaudeError(
          ErrorCodes.SERVE_RUNNING,
          `tmux-claude serve is already running for state dir ${path.dirname(file)} (pid ${other.pid}, socket "${other.socket}", since ${other.startedAt}). One serve per state dir delivers everything; stop it first (kill ${other.pid}) or serve another --socket.`,
          { pid: other.pid, file },
        );
      }
      await unlink(file).catch(() => undefined); // left behind by a serve that died
    }
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function release(file: string, pid: number): Promise<void> {
  const current = await readServeInfo(file);
  if (current?.pid === pid) await unlink(file).catch(() => undefined);
}

function releaseSync(file: string, pid: number): void {
  try {
    if ((JSON.parse(readFileSync(file, "utf8")) as Partial<ServeInfo>).pid === pid) unlinkSync(file);
  } catch {
    // already gone
  }
}

async function readServeInfo(file: string): Promise<ServeInfo | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<ServeInfo>;
    return typeof parsed.pid === "number" && Number.isInteger(parsed.pid) && parsed.pid > 0 ? (parsed as ServeInfo) : undefined;
  } catch {
    return undefined;
  }
}

