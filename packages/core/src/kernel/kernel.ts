import os from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import type { AgentAdapter } from "../agents/adapter.js";
import { commandAdapter } from "../agents/command.js";
import type { ResolvedConfig } from "../config/config.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import {
  InstanceManager,
  type InstanceSummary,
  type ListFilter,
  type ReadOptions,
  type ReadResult,
  type SendOptions,
  type SpawnOptions,
  type SpawnResult,
  type TerminateOptions,
} from "../instances/manager.js";
import { createLogger } from "../logger.js";
import type { ProgressInput } from "../instances/progress.js";
import { tellOperationTaps } from "./operations.js";
import { explainTmuxLoss } from "../instances/failures.js";
import { Nodes } from "../instances/nodes.js";
import type { LocalOperations } from "./routing.js";
import { FileStore } from "../store/file-store.js";
import type { Budget, InstanceRecord, InstanceStall } from "../store/types.js";
import type { StateStore, StoreChange, StoreWatch } from "../store/store-contract.js";
import { Breakers, type BreakerState } from "../instances/breaker.js";
import { TmuxRuntime } from "../tmux/runtime.js";
import { withDefaultAgents, withDefaultRoles } from "./default-agents.js";
import { defaultNodeId } from "./node.js";
import { closeOnSignal } from "./signals.js";
import { createHooks, type KernelHooks } from "./hooks.js";
import type { ActivityEvent, CommandContribution, KernelApi, OutputOptions, OutputStream, ToolContribution } from "./api.js";
import type { ListColumn, OperationInput } from "./events.js";
import { kernelChecks, runHealthChecks, type HealthReport } from "./health.js";
import type { DeliveryReceipt } from "./messages.js";
import { applyPlugins, type PluginHost } from "./plugin-context.js";
import type { Plugin } from "./plugin.js";
import { checkAgents } from "./start-checks.js";

export interface KernelOptions {
  config: ResolvedConfig;
  /** The config file the config came from, for error messages. */
  configPath?: string | null;
  logger?: Logger;
  /**
   * "all" (serve): watch every live instance and deliver queued messages as
   * they become idle. "on-demand" (one-shot CLI commands): attach only to the
   * instances an operation touches.
   */
  watch?: "all" | "on-demand";
  /**
   * Close this kernel when the process gets SIGINT, SIGTERM or SIGHUP and has
   * no listener of its own for it, then die of that signal (default true).
   */
  closeOnSignal?: boolean;
}

type KernelState = "new" | "starting" | "ready" | "closing" | "closed";

/** Where the embedded store lives unless `stateDir` says otherwise. */
export function defaultStateDir(socket: string): string {
  const base = process.env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state");
  return path.join(base, "tmux-claude", socket);
}

/**
 * The kernel: a frozen set of tapable hooks, the plugins that tap them, and
 * the instance operations. It knows nothing about git, Redis or HTTP.
 */
export class Kernel implements KernelApi {
  readonly hooks: KernelHooks = createHooks();
  readonly config: ResolvedConfig;
  readonly configPath: string | null;
  readonly logger: Logger;
  readonly stateDir: string;
  /** This kernel's node (`node.id` in config; default `<host name>/<tmux socket>`): it acts only on its own node's instances, and every event names it. */
  readonly node: string;
  private readonly watchMode: "all" | "on-demand";
  private readonly plugins = new Map<string, Plugin>();
  /** The generic `command` adapter is built in; every other adapter comes from a plugin (ctx.registerAdapter). */
  private readonly adapters = new Map<string, AgentAdapter>([[commandAdapter.name, commandAdapter]]);
  private readonly closeHandlers: { plugin: string; fn: () => void | Promise<void> }[] = [];
  private store: StateStore | undefined;
  private runtimeInstance: TmuxRuntime | undefined;
  private managerInstance: InstanceManager | undefined;
  private state: KernelState = "new";
  private closing: Promise<void> | undefined;
  private readonly handleSignals: boolean;
  private forgetSignals: (() => void) | undefined;

  constructor(options: KernelOptions) {
    this.config = withDefaultRoles(withDefaultAgents(options.config));
    this.configPath = options.configPath ?? null;
    this.logger = options.logger ?? createLogger(options.config.logLevel);
    this.watchMode = options.watch ?? "on-demand";
    this.handleSignals = options.closeOnSignal ?? true;
    this.stateDir = path.resolve(options.config.stateDir ?? defaultStateDir(options.config.tmux.socket));
    this.node = options.config.node?.id ?? defaultNodeId(options.config.tmux.socket);
  }

  /** Create and start a kernel. */
  static async start(options: KernelOptions): Promise<Kernel> {
    const kernel = new Kernel(options);
    try {
      await kernel.start();
    } catch (error) {
      await kernel.close().catch(() => undefined);
      throw error;
    }
    return kernel;
  }

  /**
   * Run `fn` on the agents' circuit breakers in the configured store alone: plugins applied (one may supply the store,
   * e.g. Redis) and closed after, no tmux server started or attached. For doctor, whether or not a server runs.
   */
  static async withBreakers<T>(options: KernelOptions, fn: (breakers: Pick<Breakers, "list" | "reset">) => Promise<T>): Promise<T> {
    const kernel = new Kernel(options);
    try {
      kernel.state = "starting";
      await applyPlugins(kernel.config.plugins, kernel.pluginHost());
      kernel.store ??= new FileStore(kernel.stateDir);
      await kernel.store.init();
      return await fn(new Breakers(kernel.store, kernel.config));
    } finally {
      await kernel.close();
    }
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `The kernel was already started (it is ${this.state}).`);
    this.state = "starting";
    if (this.handleSignals) this.forgetSignals = closeOnSignal(this);
    await applyPlugins(this.config.plugins, this.pluginHost());
    checkAgents(this.config, this.adapters, this.configPath);
    this.store ??= new FileStore(this.stateDir);
    await this.store.init();
    const { tmux } = this.config;
    this.runtimeInstance = new TmuxRuntime({
      socket: tmux.socket,
      binary: tmux.binary,
      configFile: tmux.configFile,
      width: tmux.width,
      height: tmux.height,
      historyLimit: tmux.historyLimit,
      logger: this.logger.child({ component: "tmux" }),
    });
    await this.runtimeInstance.connect();
    this.managerInstance = new InstanceManager({
      config: this.config,
      configPath: this.configPath,
      store: this.store,
      runtime: this.runtimeInstance,
      hooks: this.hooks,
      adapters: this.adapters,
      logger: this.logger,
      stateDir: this.stateDir,
      nodes: new Nodes(this.node, this.hooks),
    });
    await this.hooks.init.promise(this);
    await this.managerInstance.start({ watchAll: this.watchMode === "all" });
    this.state = "ready";
    await this.hooks.ready.promise(this);
  }

  /** What the plugins' contexts reach of this kernel (plugin-context.ts). */
  private pluginHost(): PluginHost {
    return {
      kernel: this,
      hooks: this.hooks,
      logger: this.logger,
      config: this.config,
      node: this.node,
      mode: this.watchMode === "all" ? "serve" : "oneshot",
      plugins: this.plugins,
      adapters: this.adapters,
      closeHandlers: this.closeHandlers,
      useStore: (plugin, store) => {
        if (this.state !== "starting") {
          throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `Plugin "${plugin}" can replace the store only while it is applied.`, { plugin });
        }
        this.store = store;
      },
      manager: () => this.manager,
      openStore: (who) => this.openStore(who),
    };
  }

  /** The store while it is open: from the init hook until the kernel closed it (shutdown and onClose still may write). */
  private openStore(who: string): StateStore {
    if (!this.store || !this.managerInstance || this.state === "closed") {
      throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `${who} while the kernel is ${this.state}; the store is open from the init hook until the kernel has closed.`);
    }
    return this.store;
  }

  private get manager(): InstanceManager {
    if (!this.managerInstance || this.state === "closed") {
      throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `The kernel is ${this.state}; start it before using it.`);
    }
    return this.managerInstance;
  }

  /** The tmux runtime (for plugins that need to look at panes, and for attach). */
  get runtime(): TmuxRuntime {
    if (!this.runtimeInstance) throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, "The kernel is not started.");
    return this.runtimeInstance;
  }

  /** Another plugin's api, by name. */
  plugin<Api = unknown>(name: string): Api | undefined {
    return this.plugins.get(name)?.api as Api | undefined;
  }

  /** The registered plugins, in order. */
  pluginNames(): string[] {
    return [...this.plugins.keys()];
  }

  spawn(options: SpawnOptions, caller: string | null = null): Promise<SpawnResult> {
    return this.explained(`spawning a ${options.role}`, async () => {
      this.checkPluginOptions(options.plugins, "spawn");
      return this.manager.spawn(options, caller);
    });
  }

  /** Options for a plugin that is not registered would be silently ignored: refuse them. */
  private checkPluginOptions(options: Record<string, unknown> | undefined, operation: "spawn" | "terminate"): void {
    for (const name of Object.keys(options ?? {})) {
      if (this.plugins.has(name)) continue;
      throw new TmuxClaudeError(
        ErrorCodes.INVALID_ARGUMENT,
        `The ${operation} has options for plugin "${name}", which is not registered (plugins: ${this.pluginNames().join(", ") || "none"}). Fix the name, or add the plugin to your config.`,
        { plugin: name },
      );
    }
  }

  send(id: string, text: string, options?: SendOptions, caller: string | null = null): Promise<DeliveryReceipt> {
    return this.explained(`sending to "${id}"`, () => this.manager.send(id, text, options, caller));
  }

  /** Wait until a message that `send` queued has been delivered. */
  waitDelivered(receipt: DeliveryReceipt, timeoutMs: number): Promise<void> {
    return this.explained(`waiting to deliver a message to "${receipt.instanceId}"`, () =>
      this.manager.waitDelivered(receipt.instanceId, receipt.messageId, timeoutMs),
    );
  }

  /**
   * Wait until the messages queued for an instance now were delivered, in order
   * (after a restart: the ones it kept while exited); resolves with their count.
   * Fails at once, like waitDelivered, when they no longer can be.
   */
  deliverQueued(id: string, timeoutMs: number): Promise<number> {
    return this.explained(`delivering the messages queued for "${id}"`, () => this.manager.deliverQueued(id, timeoutMs));
  }

  read(id: string, options?: ReadOptions): Promise<ReadResult> {
    return this.explained(`reading "${id}"`, () => this.manager.read(id, options));
  }

  list(filter?: ListFilter): Promise<InstanceSummary[]> {
    return this.explained("listing instances", () => this.manager.list(filter));
  }

  get(id: string): Promise<InstanceRecord> {
    return this.manager.get(id);
  }

  terminate(id: string, options?: TerminateOptions): Promise<string[]> {
    return this.explained(`terminating "${id}"`, async () => {
      this.checkPluginOptions(options?.plugins, "terminate");
      return this.manager.terminate(id, options);
    });
  }

  restart(id: string): Promise<InstanceRecord> {
    return this.explained(`restarting "${id}"`, () => this.manager.restart(id));
  }

  /** Hold delivery to an instance: messages wait in its queue until `release` (see KernelApi.hold). */
  hold(id: string, reason: string, kind?: string): Promise<InstanceRecord> {
    return this.manager.hold(id, reason, kind);
  }

  /** Lift an instance's hold (only one of `kind`, when given) and deliver what waits, in order; true when one was lifted. */
  release(id: string, kind?: string): Promise<boolean> {
    return this.explained(`resuming "${id}"`, () => this.manager.release(id, kind));
  }

  /** Set (null: remove) the budget of an instance's subtree. */
  setBudget(id: string, budget: Budget | null): Promise<InstanceRecord> {
    return this.manager.setBudget(id, budget);
  }

  /** Set (null: remove) an instance's progress; see KernelApi.setProgress. */
  setProgress(id: string, progress: ProgressInput | null): Promise<InstanceRecord> {
    return this.manager.setProgress(id, progress);
  }

  /**
   * Follow an instance's output as tmux streams it (raw bytes, no polling):
   * `screen` is its screen now, `listener` gets every chunk after that until
   * the instance exits, restarts or the kernel closes (`ended`), or `unsubscribe()`.
   */
  activity(listener: (event: ActivityEvent) => void): () => void {
    return this.manager.activity(listener);
  }

  setStalled(id: string, stall: InstanceStall | null): Promise<boolean> {
    return this.explained(`flagging "${id}" stalled`, () => this.manager.setStalled(id, stall));
  }

  breakers(): Promise<BreakerState[]> {
    return this.manager.breakers.list();
  }

  resetBreakers(agent?: string): Promise<string[]> {
    return this.manager.breakers.reset(agent);
  }

  output(id: string, listener: (data: Buffer) => void, options?: OutputOptions): Promise<OutputStream> {
    return this.explained(`following the output of "${id}"`, () => this.manager.output(id, listener, options));
  }

  /**
   * Where operations routed from other nodes arrive (see the `route` hook):
   * each acts on this node's instance directly, without `beforeSend` or
   * `route`, and a message keeps its id. `local.perform(request)` takes a
   * route request as it is.
   */
  get local(): LocalOperations {
    return this.manager.local;
  }

  /** Run an operation; tmux dying under it is reported as what it means for the caller (see explainTmuxLoss). */
  private async explained<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw explainTmuxLoss(error, what, this.config.tmux.socket);
    }
  }

  /** Be told when instances or their queues change, by any process (see KernelApi.watch). */
  watch(listener: (change: StoreChange) => void): StoreWatch {
    if (!this.store || this.state === "new" || this.state === "closed") {
      throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `The kernel is ${this.state}; watch it once it started (in init, ready or later).`);
    }
    return this.store.watch(listener);
  }

  /** The kernel's checks (tmux, store) and the plugins' (`health` hook), each bounded by a timeout. */
  async health(): Promise<HealthReport> {
    const store = this.store;
    if (!store || !this.runtimeInstance || this.state === "new" || this.state === "closed") {
      return { ok: false, checks: [{ name: "kernel", ok: false, detail: `the kernel is ${this.state}` }] };
    }
    return runHealthChecks(await this.hooks.health.promise(kernelChecks(this.runtimeInstance, store)));
  }

  /** Tell the `operation` hook's taps (an audit log) that a caller's operation finished: a failing tap is logged, a slow one waited for only so long (operations.ts). */
  async recordOperation(operation: OperationInput): Promise<void> {
    await tellOperationTaps(this.hooks.operation, { ...operation, node: this.node }, this.logger);
  }

  /** MCP tools contributed by plugins. */
  tools(): Promise<ToolContribution[]> {
    return this.hooks.tools.promise([]);
  }

  /** CLI commands contributed by plugins. */
  commands(): Promise<CommandContribution[]> {
    return this.hooks.commands.promise([]);
  }

  /** Columns plugins add to `list`. */
  listColumns(): Promise<ListColumn[]> {
    return this.hooks.listColumns.promise([]);
  }

  /** Idempotent. Instances keep running in tmux; only this process lets go of them. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const wasReady = this.state === "ready";
    this.state = "closing";
    const errors: unknown[] = [];
    const attempt = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
        this.logger.error({ err: error }, `close: ${what} failed`);
      }
    };
    if (wasReady) await attempt("shutdown hook", () => this.hooks.shutdown.promise(this));
    // Plugins' listeners (an MCP endpoint, a dashboard) close first: nobody reaches an instance being let go of.
    for (const handler of [...this.closeHandlers].reverse()) {
      await attempt(`onClose of plugin "${handler.plugin}"`, handler.fn);
    }
    await attempt("instance manager", () => this.managerInstance?.close());
    await attempt("store", () => this.store?.close());
    await attempt("tmux runtime", () => this.runtimeInstance?.close());
    this.forgetSignals?.();
    this.state = "closed";
    if (errors.length) throw errors[0];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
