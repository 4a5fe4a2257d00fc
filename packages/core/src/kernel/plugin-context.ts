import type { Logger } from "pino";
import type { AgentAdapter } from "../agents/adapter.js";
import type { ResolvedConfig } from "../config/config.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceManager } from "../instances/manager.js";
import type { StateStore } from "../store/store-contract.js";
import type { KernelApi } from "./api.js";
import type { KernelHooks } from "./hooks.js";
import { raiseNotice } from "./notices.js";
import { pluginData } from "./plugin-data.js";
import { pluginHooks, type Plugin, type PluginContext } from "./plugin.js";
import { registerPlugins } from "./start-checks.js";

/** What of a kernel its plugins reach through their contexts; the kernel owns all of it. */
export interface PluginHost {
  kernel: KernelApi;
  hooks: KernelHooks;
  logger: Logger;
  config: ResolvedConfig;
  node: string;
  mode: PluginContext["mode"];
  plugins: Map<string, Plugin>;
  adapters: Map<string, AgentAdapter>;
  closeHandlers: { plugin: string; fn: () => void | Promise<void> }[];
  /** Replace the store (refused once the kernel is past applying plugins). */
  useStore(plugin: string, store: StateStore): void;
  /** The instance manager of a started kernel (throws otherwise). */
  manager(): InstanceManager;
  /** The store while it is open (throws otherwise, naming `who`). */
  openStore(who: string): StateStore;
}

/** Register the plugins (names unique) and apply each in order; a failure names the plugin. */
export async function applyPlugins(plugins: readonly Plugin[], host: PluginHost): Promise<void> {
  registerPlugins(plugins, host.plugins);
  for (const plugin of plugins) {
    try {
      await plugin.apply(pluginContext(plugin, host));
    } catch (error) {
      if (error instanceof TmuxClaudeError && error.details.plugin) throw error;
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_HOOK_FAILED,
        `Plugin "${plugin.name}" failed in apply: ${error instanceof Error ? error.message : String(error)}`,
        { plugin: plugin.name, hook: "apply" },
        { cause: error },
      );
    }
  }
}

function pluginContext(plugin: Plugin, host: PluginHost): PluginContext {
  return {
    name: plugin.name,
    hooks: pluginHooks(host.hooks, plugin.name),
    logger: host.logger.child({ plugin: plugin.name }),
    config: host.config,
    mode: host.mode,
    kernel: host.kernel,
    onClose: (fn) => {
      host.closeHandlers.push({ plugin: plugin.name, fn });
    },
    plugin: <Api>(name: string): Api => {
      const other = host.plugins.get(name);
      if (!other) {
        throw new TmuxClaudeError(ErrorCodes.PLUGIN_MISSING_DEPENDENCY, `Plugin "${plugin.name}" asked for plugin "${name}", which is not registered.`, { plugin: plugin.name });
      }
      return other.api as Api;
    },
    registerAdapter: (adapter) => {
      if (host.adapters.has(adapter.name)) {
        throw new TmuxClaudeError(ErrorCodes.PLUGIN_INVALID, `Plugin "${plugin.name}" registers adapter "${adapter.name}", which already exists.`, { plugin: plugin.name });
      }
      host.adapters.set(adapter.name, adapter);
    },
    useStore: (store) => host.useStore(plugin.name, store),
    state: <T>(id: string) => ({
      get: async () => (await host.manager().get(id).catch(() => undefined))?.pluginState?.[plugin.name] as T | undefined,
      update: async (updater: (state: T | undefined) => T) =>
        (await host.manager().updatePluginState(id, plugin.name, (state) => updater(state as T | undefined)))?.pluginState?.[plugin.name] as T | undefined,
    }),
    notice: (notice) => raiseNotice(host.hooks, host.logger, host.node, plugin.name, notice),
    data: <T>(collection: string) => pluginData<T>(plugin.name, collection, () => host.openStore(`Plugin "${plugin.name}" used ctx.data("${collection}")`)),
  };
}
