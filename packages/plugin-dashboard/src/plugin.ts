// `dashboard({...})`: the plugin factory. A plain object with closures (like
// git's) because its `api` is handed out before `apply` runs. It serves only
// in `serve` mode, the long-running kernel that watches every instance; a
// one-shot kernel (a CLI command, a script) has nothing live to show.
import type { KernelApi, Plugin, PluginContext } from "@tmux-claude/core";
import { GitFields, type GitApiLike } from "./model/git-fields.js";
import { LiveModel } from "./model/live-model.js";
import { RunsFeed, type WorkflowsApiLike } from "./model/runs.js";
import { KnowledgeFeed, type KnowledgeApiLike } from "./model/knowledge.js";
import { isLoopbackHost, parseDashboardOptions, type DashboardOptions, type DashboardUserOptions } from "./options.js";
import { openBrowser } from "./open-browser.js";
import { startServer, type Listening } from "./server/server.js";
import { removeDashboardInfo, removeDashboardInfoSync, writeDashboardInfo } from "./state-file.js";

export interface DashboardAddress {
  host: string;
  port: number;
  /** The page's origin, without the secret: `http://127.0.0.1:3001`. */
  url: string;
  /** The file holding the secret (mode 0600). */
  tokenFile: string;
}

/** What other plugins, tests and `tmux-claude monitor` get through `ctx.plugin("dashboard")`. */
export interface DashboardApi {
  /** The login URL, with the secret (`http://127.0.0.1:3001/?token=...`); undefined until listening. Never log it. */
  url(): string | undefined;
  /** Where it listens, without the secret; undefined until listening. */
  address(): DashboardAddress | undefined;
  /** Resolves once listening (rejects when the server could not start); never settles in oneshot mode. */
  listening(): Promise<DashboardAddress>;
  /** Resolves once the live model has taken in every change reported so far (tests). */
  settled(): Promise<void>;
  /** The options it was made with (monitor overrides them with its flags). */
  readonly options: DashboardOptions;
}

export const PLUGIN_NAME = "dashboard";

/** What a user of `serve` is told: the URL carries the secret, so it is printed only by monitor, on request. */
export const MONITOR_HINT = "run `tmux-claude monitor` to print its login URL";

export function dashboard(userOptions: DashboardUserOptions = {}): Plugin<DashboardApi> {
  const options = parseDashboardOptions(userOptions);
  let running: Running | undefined;
  let signal!: { resolve: (address: DashboardAddress) => void; reject: (error: unknown) => void };
  const listening = new Promise<DashboardAddress>((resolve, reject) => (signal = { resolve, reject }));
  // Nobody may ask (a config that only lists the plugin); a failed start is reported by kernel.start.
  listening.catch(() => undefined);
  const api: DashboardApi = {
    url: () => running?.listening.loginUrl,
    address: () => running?.address,
    listening: () => listening,
    settled: async () => {
      await running?.model.settled();
      await running?.runs?.settled();
      await running?.knowledge?.settled();
    },
    options,
  };
  return {
    name: PLUGIN_NAME,
    kernel: "^0.1.0",
    api,
    apply(ctx) {
      if (ctx.mode !== "serve") return;
      ctx.hooks.ready.tapPromise(async (kernel) => {
        try {
          running = await start(ctx, kernel, options);
          signal.resolve(running.address);
        } catch (error) {
          signal.reject(error);
          throw error;
        }
      });
    },
  };
}

interface Running {
  listening: Listening;
  model: LiveModel;
  runs: RunsFeed | undefined;
  knowledge: KnowledgeFeed | undefined;
  address: DashboardAddress;
}

async function start(ctx: PluginContext, kernel: KernelApi, options: DashboardOptions): Promise<Running> {
  const { logger } = ctx;
  if (!isLoopbackHost(options.host)) {
    logger.warn({ host: options.host }, `dashboard: listening on ${options.host}, not loopback (allowRemote): anyone who reaches it and has the secret controls your agents`);
  }
  const gitApi = kernel.pluginNames().includes("git") ? ctx.plugin<GitApiLike>("git") : undefined;
  let model: LiveModel;
  const git = gitApi ? new GitFields(gitApi, logger, () => model.gitChanged()) : undefined;
  model = new LiveModel(kernel, logger, git);
  ctx.onClose(() => {
    git?.close();
    model.close();
  });
  await model.start();
  // Like git: used only through its api, and only when the config loads it.
  const workflowsApi = kernel.pluginNames().includes("workflows") ? ctx.plugin<WorkflowsApiLike>("workflows") : undefined;
  const workflows = workflowsApi ? { api: workflowsApi, feed: new RunsFeed(workflowsApi, kernel, logger) } : undefined;
  if (workflows) {
    ctx.onClose(() => workflows.feed.close());
    await workflows.feed.start();
  }
  const knowledgeApi = kernel.pluginNames().includes("knowledge") ? ctx.plugin<KnowledgeApiLike>("knowledge") : undefined;
  const knowledge = knowledgeApi ? new KnowledgeFeed(knowledgeApi, kernel, logger) : undefined;
  if (knowledge) {
    ctx.onClose(() => knowledge.close());
    await knowledge.start();
  }
  const listening = await startServer({ kernel, model, git: gitApi, workflows, knowledge, logger }, options.host, options.port);
  ctx.onClose(() => listening.close());
  const info = await writeDashboardInfo(kernel.stateDir, { pid: process.pid, host: listening.host, port: listening.port, url: listening.origin, startedAt: new Date().toISOString() }, listening.secret);
  const onExit = () => removeDashboardInfoSync(kernel.stateDir, process.pid);
  process.once("exit", onExit);
  ctx.onClose(async () => {
    process.off("exit", onExit);
    await removeDashboardInfo(kernel.stateDir, process.pid);
  });
  // The secret stays out of the log: the URL names the file that holds it.
  logger.info({ url: `${listening.origin}/?token=<${info.tokenFile}>` }, `dashboard: listening; ${MONITOR_HINT}`);
  if (options.open) void openBrowser(listening.loginUrl, kernel.stateDir, (message) => logger.warn(`dashboard: ${message}`));
  return { listening, model, runs: workflows?.feed, knowledge, address: { host: listening.host, port: listening.port, url: listening.origin, tokenFile: info.tokenFile } };
}
