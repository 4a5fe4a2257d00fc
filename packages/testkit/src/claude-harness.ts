// The real Claude Code binary under a kernel: the kernel harness (private tmux
// socket, temp state dir) whose `claude` agent runs the binary against the
// stand-in model with an isolated config home.
import path from "node:path";
import type { Kernel, Plugin, UserConfig } from "@tmux-claude/core";
import { findClaudeBinary, type ClaudeBinary } from "./claude-binary.js";
import { claudeEnv, prepareClaudeHome, type ClaudeHome } from "./claude-home.js";
import { createHarness, type Harness, type WatchMode } from "./kernel-harness.js";
import { StandInModel } from "./stand-in-model.js";

/** The API key the stand-in model accepts and the isolated home has approved. */
export const API_KEY = "sk-ant-tmux-claude-test-0123456789abcdefghijklmnop";

/** Variables of the test's own environment that must not reach the client (a real account, a parent Claude session). */
const LEAKY = /^(ANTHROPIC_|CLAUDE_CODE_|CLAUDECODE$|CLAUDE_CONFIG_DIR$|AWS_BEARER_TOKEN_BEDROCK$|VERTEX_|CLOUD_ML_REGION$)/u;

export interface ClaudeHarnessOptions {
  /**
   * The plugin that registers the `claude` adapter: `claude()` from
   * @tmux-claude/agent-claude (passed in, since that package's own tests use this kit).
   */
  adapterPlugin: Plugin;
  /** Options of `agents.claude` (besides command and env). */
  agent?: Record<string, unknown>;
  /** More agents of the claude adapter, by name: their options. */
  agents?: Record<string, Record<string, unknown>>;
  /** Merged over the kernel config; its `plugins` come after adapterPlugin. */
  config?: UserConfig;
  /** The Claude Code to run (e.g. a release from claudeReleases()); default: the one findClaudeBinary finds. */
  claude?: ClaudeBinary;
}

export interface ClaudeHarness extends Omit<Harness, "startKernel" | "kernel"> {
  /** The kernel started with the harness. */
  kernel: Kernel;
  claude: ClaudeBinary;
  model: StandInModel;
  home: ClaudeHome;
  /** Environment for the `claude` agent: the stand-in model and the isolated home. */
  env: Record<string, string>;
  /**
   * Start another kernel on the same socket and store, with agent options merged into `agents.claude`; `beforeStart` may tap its hooks;
   * `watch` "on-demand" makes it a one-shot CLI's kernel (default "all", as serve). `config` is merged over the harness's kernel config
   * (top-level keys replace; its `plugins` come after adapterPlugin): another node is `{ tmux: { socket }, node: { id }, plugins }`.
   */
  startKernel(agent?: Record<string, unknown>, beforeStart?: (kernel: Kernel) => void, watch?: WatchMode, config?: UserConfig): Promise<Kernel>;
}

/**
 * The real Claude Code binary in a private tmux server, talking to the
 * stand-in model, with an isolated config home; the kernel's `claude` agent
 * (the default agent) points at that binary. A kernel watching all instances is started.
 */
export async function createClaudeHarness(options: ClaudeHarnessOptions): Promise<ClaudeHarness> {
  const claude = options.claude ?? (await findClaudeBinary({ install: true }));
  const base = await createHarness({}, { label: "claude", start: false });
  const model = await StandInModel.start();
  const home = await prepareClaudeHome({ dir: path.join(base.dir, "home"), apiKey: API_KEY, trustedDirs: [base.workDir], settings: { skipDangerousModePermissionPrompt: false } });
  const env = claudeEnv({ home, model, base: {} });
  for (const key of Object.keys(process.env)) if (LEAKY.test(key) && !(key in env)) env[key] = "";

  const claudeAgent = (extra: Record<string, unknown>) => ({ adapter: "claude", command: claude.path, ...extra, env: { ...env, ...(extra.env as Record<string, string> | undefined) } });
  const startKernel = (agent: Record<string, unknown> = {}, beforeStart?: (kernel: Kernel) => void, watch: WatchMode = "all", more: UserConfig = {}) => {
    const config = { ...options.config, ...more };
    return base.startKernel({
      watch,
      beforeStart,
      config: {
        defaultAgent: "claude",
        limits: { spawnTimeout: 30_000, sendTimeout: 15_000 },
        ...config,
        plugins: [options.adapterPlugin, ...(config.plugins ?? [])],
        agents: {
          // The echo agent stays: instances that need not be Claude Code (the other end of a test) are cheaper as echo.
          ...base.userConfig.agents,
          claude: { adapter: "claude", command: claude.path, env, ...options.agent, ...agent },
          ...Object.fromEntries(Object.entries(options.agents ?? {}).map(([name, extra]) => [name, claudeAgent(extra)])),
          ...config.agents,
        },
      },
    });
  };
  try {
    await startKernel();
  } catch (error) {
    await base.close();
    await model.close();
    throw error;
  }
  const { socket, dir, stateDir, workDir, log, userConfig, config, kernel, tmux, received } = base;
  return {
    ...{ socket, dir, stateDir, workDir, log, userConfig, config, kernel, tmux, received },
    claude,
    model,
    home,
    env,
    startKernel,
    async close() {
      // Claude Code writes its config on the way out: the harness ends it (kill-server) before its home goes.
      await base.close();
      await model.close();
    },
  };
}
