import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { claudeEnv, findClaudeBinary, prepareClaudeHome, StandInModel, type ClaudeBinary, type ClaudeHome } from "@tmux-claude/testkit";
import type { HookEvent } from "../../src/agents/claude/index.js";
import { configSchema, createLogger, Kernel, type InstanceRecord, type InstanceStatus, type UserConfig } from "../../src/index.js";
import { testSocket } from "../../../../test/sockets.js";

const execFileAsync = promisify(execFile);

export const API_KEY = "sk-ant-tmux-claude-test-0123456789abcdefghijklmnop";

/** Variables of the test's own environment that must not reach the client (a real account, a parent Claude session). */
const LEAKY = /^(ANTHROPIC_|CLAUDE_CODE_|CLAUDECODE$|CLAUDE_CONFIG_DIR$|AWS_BEARER_TOKEN_BEDROCK$|VERTEX_|CLOUD_ML_REGION$)/u;

export interface ClaudeHarness {
  claude: ClaudeBinary;
  model: StandInModel;
  home: ClaudeHome;
  dir: string;
  socket: string;
  stateDir: string;
  /** A trusted workdir. */
  workDir: string;
  kernel: Kernel;
  /** Environment for the `claude` agent: the stand-in model and the isolated home. */
  env: Record<string, string>;
  /** Start another kernel on the same socket and store, with agent options merged into `agents.claude`; `beforeStart` may tap its hooks. */
  startKernel(agent?: Record<string, unknown>, beforeStart?: (kernel: Kernel) => void): Promise<Kernel>;
  tmux(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real Claude Code binary in a private tmux server, talking to the
 * stand-in model, with an isolated config home; the kernel's `claude` agent
 * points at that binary.
 */
export async function createClaudeHarness(
  options: {
    /** Options of `agents.claude` (besides command and env). */
    agent?: Record<string, unknown>;
    /** More agents of the claude adapter, by name: their options. */
    agents?: Record<string, Record<string, unknown>>;
    config?: UserConfig;
    /** The Claude Code to run (e.g. a release from claudeReleases()); default: the one findClaudeBinary finds. */
    claude?: ClaudeBinary;
  } = {},
): Promise<ClaudeHarness> {
  const claude = options.claude ?? (await findClaudeBinary({ install: true }));
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-claude-"));
  const workDir = path.join(dir, "work");
  await mkdir(workDir);
  const socket = testSocket("claude");
  const stateDir = path.join(dir, "state");
  const model = await StandInModel.start();
  const home = await prepareClaudeHome({ dir: path.join(dir, "home"), apiKey: API_KEY, trustedDirs: [workDir], settings: { skipDangerousModePermissionPrompt: false } });
  const env = claudeEnv({ home, model, base: {} });
  for (const key of Object.keys(process.env)) if (LEAKY.test(key) && !(key in env)) env[key] = "";

  const kernels: Kernel[] = [];
  const startKernel = async (agent: Record<string, unknown> = {}, beforeStart?: (kernel: Kernel) => void) => {
    const config = configSchema.parse({
      tmux: { socket, configFile: "none", width: 120, height: 40 },
      stateDir,
      logLevel: "warn",
      limits: { spawnTimeout: 30_000, sendTimeout: 15_000 },
      ...options.config,
      agents: {
        claude: { adapter: "claude", command: claude.path, env, ...options.agent, ...agent },
        ...Object.fromEntries(Object.entries(options.agents ?? {}).map(([name, extra]) => [name, { adapter: "claude", command: claude.path, ...extra, env: { ...env, ...(extra.env as Record<string, string> | undefined) } }])),
        ...options.config?.agents,
      },
    });
    const kernel = new Kernel({ config, watch: "all", logger: createLogger((process.env.TC_TEST_LOG as "debug" | undefined) ?? "warn") });
    kernels.push(kernel);
    beforeStart?.(kernel);
    await kernel.start();
    return kernel;
  };
  const kernel = await startKernel();
  return {
    claude,
    model,
    home,
    dir,
    socket,
    stateDir,
    workDir,
    kernel,
    env,
    startKernel,
    tmux: async (...args) => (await execFileAsync("tmux", ["-L", socket, ...args])).stdout,
    async close() {
      for (const k of kernels) await k.close().catch(() => undefined);
      // Claude Code writes its config on the way out: end it before its home goes.
      await execFileAsync("tmux", ["-L", socket, "kill-server"]).catch(() => undefined);
      // kill-server leaves the socket file behind.
      await rm(path.join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
      // A server that ended abnormally leaves its socket file behind.
      await rm(path.join(process.env.TMUX_TMPDIR || "/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
      await model.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export interface StatusLog {
  /** Every status change of every instance, in order. */
  changes: { id: string; from: InstanceStatus; to: InstanceStatus; reason?: string; at: number; record: InstanceRecord }[];
  /**
   * The record once `accept(status)` holds: now, on a later change, or on a change
   * logged since index `since` (for a change that may beat the call). Rejects after `timeoutMs`.
   */
  waitFor(id: string, accept: (status: InstanceStatus) => boolean, timeoutMs?: number, since?: number): Promise<InstanceRecord>;
}

/** Records a kernel's status changes (its statusChange hook) and waits on them: no polling. */
export function statusLog(kernel: Kernel): StatusLog {
  const changes: StatusLog["changes"] = [];
  const waiters = new Set<(record: InstanceRecord) => void>();
  kernel.hooks.statusChange.tap("test-status-log", (change) => {
    changes.push({ id: change.instance.id, from: change.from, to: change.to, reason: change.reason, at: Date.now(), record: change.instance });
    for (const waiter of [...waiters]) waiter(change.instance);
  });
  return {
    changes,
    waitFor(id, accept, timeoutMs = 10_000, since) {
      return new Promise<InstanceRecord>((resolve, reject) => {
        const seen = since === undefined ? undefined : changes.slice(since).find((c) => c.id === id && accept(c.to));
        if (seen) {
          resolve(seen.record);
          return;
        }
        const waiter = (record: InstanceRecord) => {
          if (record.id !== id || !accept(record.status)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(record);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          void kernel.get(id).then(
            (record) => reject(new Error(`instance ${id} is still ${record.status} after ${timeoutMs} ms`)),
            (error: unknown) => reject(error),
          );
        }, timeoutMs);
        waiters.add(waiter);
        void kernel.get(id).then(waiter, () => undefined);
      });
    },
  };
}

/** The hook events Claude Code reported for an instance, as the hook script logged them. */
export async function hookEvents(h: ClaudeHarness, id: string): Promise<HookEvent[]> {
  const text = await readFile(path.join(h.stateDir, "agents", id, "events.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HookEvent);
}
