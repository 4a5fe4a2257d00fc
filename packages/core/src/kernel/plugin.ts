import type { Logger } from "pino";
import { z } from "zod";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { formatIssueList, formatZodIssues } from "../config/issues.js";
import type { AgentAdapter } from "../agents/adapter.js";
import type { Settings, UserAgentConfig, UserRoleConfig } from "../config/schema.js";
import type { StateStore } from "../store/store-contract.js";
import type { KernelApi } from "./api.js";
import type { NoticeInput } from "./events.js";
import type { KernelHooks } from "./hooks.js";
import type { PluginData } from "./plugin-data.js";

/** One line of `tmux-claude doctor`, from a plugin's `doctor` (the CLI's own checks have the same shape). */
export interface PluginCheck {
  name: string;
  ok: boolean;
  /** What was found, with the values. */
  detail: string;
  /** What to do about a failed check. */
  fix?: string;
  /** A caveat of a passing check. */
  note?: string;
}

/** A plugin: a plain object from a factory. `name` appears in every log line and error. */
export interface Plugin<Api = unknown> {
  readonly name: string;
  /** Names of plugins that must be registered (in any order) for this one to work. */
  readonly dependencies?: readonly string[];
  /**
   * The kernel versions this plugin works with, as a semver range (`^0.1.0`,
   * `>=0.1 <1`); checked at start, where a kernel outside it is refused.
   */
  readonly kernel?: string;
  /** Register taps and resources. Runs once, in config order, before `init`. */
  apply(ctx: PluginContext): void | Promise<void>;
  /** What other plugins may use, through `ctx.plugin(name)`. */
  readonly api?: Api;
  /**
   * Agents this plugin adds to every config that uses it (`agents.<name>`),
   * typically one per adapter it registers. The user's own agent of the same
   * name wins. Static, so tools that only read the config (doctor) see them too.
   */
  readonly defaultAgents?: Readonly<Record<string, UserAgentConfig>>;
  /**
   * Roles this plugin adds beside the configured ones (`roles.<name>`), for
   * the instances it spawns itself (git's `resolver`). The user's own role of
   * the same name wins, so a config can still change or restrict it.
   */
  readonly defaultRoles?: Readonly<Record<string, UserRoleConfig>>;
  /**
   * Checks `tmux-claude doctor` runs for this plugin, without a kernel (the
   * redis plugin: Redis reachable, the credentials, its commands, the prefix).
   * They only look: create and change nothing, and end within a few seconds.
   */
  readonly doctor?: () => Promise<readonly PluginCheck[]>;
}

type TapFn<H> = H extends { tapPromise(options: never, fn: infer F): void } ? F : never;
type SyncTapFn<H> = H extends { tap(options: never, fn: infer F): void } ? F : never;
type TapOptions = { stage?: number; before?: string };

/** A hook as plugins see it: taps only, always named after the plugin. */
export interface TapOnlyHook<H> {
  tap(fn: SyncTapFn<H>): void;
  tap(options: TapOptions, fn: SyncTapFn<H>): void;
  tapPromise(fn: TapFn<H>): void;
  tapPromise(options: TapOptions, fn: TapFn<H>): void;
}

export type PluginHooks = { readonly [K in keyof KernelHooks]: TapOnlyHook<KernelHooks[K]> };

export interface PluginContext {
  readonly name: string;
  readonly hooks: PluginHooks;
  /** Child logger: every line carries `plugin: <name>`. */
  readonly logger: Logger;
  /** The settings: the config without its plugins (see `kernel.pluginNames()`). */
  readonly config: Settings;
  /**
   * `serve`: this kernel watches every instance of its node and fires their
   * observed events (statusChange, turnEnded, usage); `oneshot`: it runs one
   * command (the CLI, a script) and sees only what it touches.
   */
  readonly mode: "serve" | "oneshot";
  /** The kernel's public operations (spawn, send, read, list, terminate, restart). */
  readonly kernel: KernelApi;
  /** Run on close, in reverse registration order across all plugins. */
  onClose(fn: () => void | Promise<void>): void;
  /** Another plugin's `api`; throws if that plugin is not registered. */
  plugin<Api = unknown>(name: string): Api;
  /** Make an agent adapter available to `agents.<name>.adapter`. */
  registerAdapter(adapter: AgentAdapter): void;
  /** Replace the state store (only during apply, before the kernel opens it). */
  useStore(store: StateStore): void;
  /**
   * This plugin's persisted state on one instance (`pluginState[<plugin name>]`),
   * kept in the store with the record: it survives kernel restarts and every
   * process sees it. `update` is atomic across processes; its updater may run
   * more than once (keep it pure). Both resolve undefined when the instance
   * does not exist.
   */
  state<T = unknown>(id: string): PluginState<T>;
  /**
   * A collection of this plugin's documents in the store (stored as
   * `<plugin name>/<collection>`), for state that is not about one instance:
   * shared by every process and, with a shared store (Redis), every node.
   * Callable in `apply`; its operations work from the `init` hook until the
   * kernel has closed (`shutdown` and `onClose` handlers may still write).
   */
  data<T = unknown>(collection: string): PluginData<T>;
  /**
   * Raise a notice (see `Notice`): the `notice` hook's taps get it with this
   * plugin as its source. Resolves once they ran; a tap that fails is logged,
   * never thrown here.
   */
  notice(notice: NoticeInput): Promise<void>;
}

export interface PluginState<T> {
  get(): Promise<T | undefined>;
  update(updater: (state: T | undefined) => T): Promise<T | undefined>;
}

/** Build tap-only facades that stamp every tap with the plugin's name. */
export function pluginHooks(hooks: KernelHooks, pluginName: string): PluginHooks {
  const facade = tapFacades(hooks, pluginName);
  // A hook that does not exist (a typo, a plugin built for another kernel) is named, with the ones that do.
  return new Proxy(facade, {
    get(target, key) {
      if (typeof key === "symbol" || key in target) return Reflect.get(target, key);
      throw new TmuxClaudeError(
        ErrorCodes.PLUGIN_INVALID,
        `Plugin "${pluginName}" taps hook "${key}", which this kernel does not have. Hooks: ${Object.keys(target).join(", ")}. Fix the name, or use a kernel version the plugin supports.`,
        { plugin: pluginName, hook: key },
      );
    },
  });
}

function tapFacades(hooks: KernelHooks, pluginName: string): PluginHooks {
  const facade: Record<string, unknown> = {};
  for (const [hookName, hook] of Object.entries(hooks)) {
    const h = hook as unknown as {
      tap(options: object, fn: unknown): void;
      tapPromise(options: object, fn: unknown): void;
    };
    const register = (method: "tap" | "tapPromise") => (a: unknown, b?: unknown) => {
      const [options, fn] = typeof a === "function" ? [{}, a] : [a as TapOptions, b];
      if (typeof fn !== "function") {
        throw new TmuxClaudeError(
          ErrorCodes.PLUGIN_INVALID,
          `Plugin "${pluginName}" called hooks.${hookName}.${method} without a function. Pass (fn) or (options, fn).`,
          { plugin: pluginName, hook: hookName },
        );
      }
      h[method]({ ...(options as object), name: pluginName }, fn);
    };
    facade[hookName] = Object.freeze({ tap: register("tap"), tapPromise: register("tapPromise") });
  }
  return Object.freeze(facade) as unknown as PluginHooks;
}

export interface PluginSpec<S extends z.ZodType, Api> {
  name: string;
  dependencies?: readonly string[];
  /** The kernel versions the plugin works with (semver range); see Plugin.kernel. */
  kernel?: string;
  /** zod schema of the factory's options; errors name the plugin and the option. */
  options?: S;
  setup(ctx: PluginContext, options: z.output<S>): void | Promise<void>;
  api?: (options: z.output<S>) => Api;
  /** See Plugin.defaultAgents. */
  defaultAgents?: Readonly<Record<string, UserAgentConfig>>;
  /** See Plugin.defaultRoles. */
  defaultRoles?: Readonly<Record<string, UserRoleConfig>>;
  /** See Plugin.doctor; gets the parsed options. */
  doctor?: (options: z.output<S>) => Promise<readonly PluginCheck[]>;
}

/**
 * Define a plugin factory whose options are validated with zod:
 * `export default definePlugin({ name: "git", options: z.object({...}), setup(ctx, opts) {...} })`
 * and in the config `plugins: [git({ ... })]`.
 */
export function definePlugin<S extends z.ZodType = z.ZodUndefined, Api = undefined>(
  spec: PluginSpec<S, Api>,
): (options?: z.input<S>) => Plugin<Api> {
  return (raw?: z.input<S>) => {
    const options = spec.options ? parsePluginOptions(spec.name, spec.options, raw) : (raw as z.output<S>);
    return {
      name: spec.name,
      dependencies: spec.dependencies,
      kernel: spec.kernel,
      apply: (ctx) => spec.setup(ctx, options),
      api: spec.api?.(options),
      defaultAgents: spec.defaultAgents,
      defaultRoles: spec.defaultRoles,
      ...(spec.doctor ? { doctor: () => spec.doctor!(options) } : {}),
    } as Plugin<Api>;
  };
}

/**
 * A plugin factory's options checked with zod: the parsed options, or one
 * TC_PLUGIN_OPTIONS_INVALID error naming the plugin and, per problem, the key,
 * the value got and what is allowed (the config's own formatter). definePlugin
 * uses it; a factory written by hand calls it too.
 */
export function parsePluginOptions<S extends z.ZodType>(plugin: string, schema: S, raw: unknown): z.output<S> {
  const input = raw ?? {};
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new TmuxClaudeError(
    ErrorCodes.PLUGIN_OPTIONS_INVALID,
    `Invalid options for plugin "${plugin}":\n${formatIssueList(formatZodIssues(result.error, input, schema))}\nFix the options passed to the plugin in your config.`,
    { plugin },
  );
}
