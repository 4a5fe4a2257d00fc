import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  type Hook,
} from "tapable";
import { ErrorCodes, TmuxClaudeError, isPluginErrorCode, isTmuxClaudeError } from "../errors.js";
import type { TokenUsage, TurnEndReason } from "../agents/adapter.js";
import type { InstanceRecord, InstanceStatus } from "../store/types.js";
import type { Kernel } from "./kernel.js";
import type { RouteRequest, RouteResult } from "./routing.js";

/** Spawn options as they flow through `beforeSpawn`: plugins transform them. */
export interface SpawnPlan {
  /** Reserved before `beforeSpawn`, so plugins can name worktrees and branches after it. */
  readonly id: string;
  readonly role: string;
  readonly parentId: string | null;
  readonly depth: number;
  name?: string;
  /** Agent name from config (`agents.<name>`). */
  agent: string;
  workDir: string;
  /** Environment added to the agent's process (on top of the spawning process's). */
  env: Record<string, string>;
  /** Extra arguments appended to the agent's configured args. */
  args: string[];
  prompt?: string;
  context?: string;
  /** Who asked: an instance id, or null for the root (a person, the CLI). */
  readonly caller: string | null;
  /** A relaunch of an existing instance (`restart`): reuse what the first launch made (e.g. its worktree). */
  readonly restart: boolean;
}

/**
 * What every observed event carries. Observed events (`statusChange`,
 * `turnEnded`, `usage`) fire once per change across all processes: in
 * `serve` of the instance's node when it runs, else in the one process
 * whose write recorded the change.
 */
export interface EventMeta {
  /** Unique per event: a plugin that forwards events can drop repeats by it. */
  readonly eventId: string;
  readonly instanceId: string;
  /** The node (machine and tmux socket) whose kernel produced the event. */
  readonly node: string;
  /** ISO time the kernel saw the change. */
  readonly at: string;
}

/** A spawn or restart that failed after `beforeSpawn` began: plugins undo what they made for it. */
export interface SpawnFailure extends EventMeta {
  /** The plan as `beforeSpawn` returned it (as it went in, when a beforeSpawn tap threw). */
  readonly plan: SpawnPlan;
  readonly error: unknown;
}

/** A message the agent accepted: typed in at once, or later from the queue (then `queued` is true). */
export interface DeliveryEvent extends EventMeta {
  /** The message as delivered; `id` is the id `send` returned, also for a queued one. */
  readonly message: { readonly id: string; readonly instanceId: string; readonly text: string; readonly from: string | null };
  readonly receipt: DeliveryReceipt;
  readonly queued: boolean;
}

/** A turn of the agent ended: it stopped (answered), was interrupted (Esc), or failed. */
export interface TurnEnded extends EventMeta {
  readonly instance: InstanceRecord;
  readonly reason: TurnEndReason;
  readonly lastReply?: string;
  /** Tokens used so far, where the adapter can tell. */
  readonly usage?: TokenUsage;
}

/** The agent's token use after a turn, where the adapter can tell. */
export interface UsageUpdate extends EventMeta {
  readonly instance: InstanceRecord;
  readonly usage: TokenUsage;
}

export interface OutgoingMessage {
  readonly id: string;
  readonly instanceId: string;
  text: string;
  readonly from: string | null;
  whenBusy: WhenBusy;
}

export type WhenBusy = "queue" | "now" | "refuse";

export interface DeliveryReceipt {
  messageId: string;
  instanceId: string;
  /** delivered: the agent accepted the input. queued: it waits for the agent to become idle. */
  state: "delivered" | "queued";
  /** When the agent accepted the input (delivered only). */
  acceptedAt?: string;
  /** Position in the queue, 1 = next (queued only). */
  position?: number;
}

export interface StatusChange extends EventMeta {
  readonly instance: InstanceRecord;
  readonly from: InstanceStatus;
  readonly to: InstanceStatus;
  readonly reason?: string;
}

export interface TerminateEvent {
  readonly instance: InstanceRecord;
  readonly cascade: boolean;
}

/**
 * A new or restarted instance on its way to "ready". Each `awaitReady` tap
 * resolves once its own condition holds (e.g. the agent's MCP session is up);
 * `spawn` reports ready and types the first prompt only when the agent is
 * ready and every tap resolved. Taps run while the agent starts.
 */
export interface ReadyGate {
  /** As launched: `launch.env` holds what config, plugins and the adapter added. */
  readonly instance: InstanceRecord;
  readonly restart: boolean;
  /** `Date.now()` just before the agent's process started: state stamped earlier belongs to an earlier launch. */
  readonly launchedAt: number;
  /**
   * Aborted when the spawn stops waiting: limits.spawnTimeout passed (the reason
   * is a TC_SPAWN_TIMEOUT error), the agent failed to start, or it is gone.
   * A tap that gives up should throw an error that says what it waited for.
   */
  readonly signal: AbortSignal;
  /**
   * The stored record once `accept(record)` holds: now, or after a change made
   * by any process (a store watch, no polling). Rejects when `signal` aborts.
   */
  until(accept: (record: InstanceRecord) => boolean): Promise<InstanceRecord>;
}

/** An MCP tool contributed by a plugin (served by the MCP server). */
export interface ToolContribution {
  name: string;
  description: string;
  /** A zod object schema of the arguments. */
  inputSchema: unknown;
  /** Roles that may call it; undefined = every caller. */
  roles?: string[];
  handler(args: Record<string, unknown>, caller: { instanceId: string | null; role: string | null }): Promise<unknown>;
}

/** A CLI command contributed by a plugin. */
export interface CommandContribution {
  name: string;
  description: string;
  /** Runs with the parsed argv after the command name; returns the exit code. */
  run(argv: string[], kernel: Kernel): Promise<number>;
}

export function createHooks() {
  const hooks = {
    /** Plugins applied; the store is open. */
    init: new AsyncSeriesHook<[Kernel]>(["kernel"], "init"),
    /** Instances re-attached; the kernel takes requests. */
    ready: new AsyncSeriesHook<[Kernel]>(["kernel"], "ready"),
    /** The kernel is closing (before plugins' onClose handlers). */
    shutdown: new AsyncSeriesHook<[Kernel]>(["kernel"], "shutdown"),
    /** Shape a spawn or restart (`plan.restart`): workdir, env, args. Runs before anything is launched. */
    beforeSpawn: new AsyncSeriesWaterfallHook<[SpawnPlan]>(["plan"], "beforeSpawn"),
    /** A spawn or restart failed after beforeSpawn began (nothing of it is left in tmux or the store). */
    spawnFailed: new AsyncSeriesHook<[SpawnFailure]>(["failure"], "spawnFailed"),
    /** Hold an instance's readiness (spawn, restart) until a plugin's condition holds; see ReadyGate. */
    awaitReady: new AsyncParallelHook<[ReadyGate]>(["gate"], "awaitReady"),
    afterSpawn: new AsyncSeriesHook<[InstanceRecord]>(["instance"], "afterSpawn"),
    beforeSend: new AsyncSeriesWaterfallHook<[OutgoingMessage]>(["message"], "beforeSend"),
    afterSend: new AsyncSeriesHook<[OutgoingMessage, DeliveryReceipt]>(["message", "receipt"], "afterSend"),
    /** A message was accepted by its agent (also a queued one, with its original id). */
    delivered: new AsyncParallelHook<[DeliveryEvent]>(["event"], "delivered"),
    statusChange: new AsyncParallelHook<[StatusChange]>(["change"], "statusChange"),
    /** A turn ended: stop, interrupt or failure. */
    turnEnded: new AsyncParallelHook<[TurnEnded]>(["turn"], "turnEnded"),
    /** Token use after a turn. */
    usage: new AsyncParallelHook<[UsageUpdate]>(["update"], "usage"),
    beforeTerminate: new AsyncSeriesHook<[TerminateEvent]>(["event"], "beforeTerminate"),
    afterTerminate: new AsyncSeriesHook<[TerminateEvent]>(["event"], "afterTerminate"),
    /**
     * Who performs an operation on an instance of another node (send, read,
     * terminate, restart, waitDelivered, deliverQueued, spawn there): the first
     * tap that answers wins; when none does, the operation fails
     * (TC_NODE_UNREACHABLE). For a send to this node's instance a tap may still
     * take the message; when none does, the local tmux delivers it.
     */
    route: new AsyncSeriesBailHook<[RouteRequest], RouteResult | undefined>(["request"], "route"),
    /** Plugins contribute MCP tools. */
    tools: new AsyncSeriesWaterfallHook<[ToolContribution[]]>(["tools"], "tools"),
    /** Plugins contribute CLI commands. */
    commands: new AsyncSeriesWaterfallHook<[CommandContribution[]]>(["commands"], "commands"),
  };
  for (const [hookName, hook] of Object.entries(hooks)) nameFailures(hookName, hook as unknown as Hook<unknown[], unknown>);
  return Object.freeze(hooks);
}

export type KernelHooks = ReturnType<typeof createHooks>;
export type HookName = keyof KernelHooks;

/**
 * tapable runs taps through generated code, so a bare stack trace says little.
 * Wrap every tap so its failure names the plugin (the tap name) and the hook.
 */
function nameFailures(hookName: string, hook: Hook<unknown[], unknown>): void {
  hook.intercept({
    register(tap) {
      const original = tap.fn as (...args: unknown[]) => unknown;
      const fail = (error: unknown): never => {
        throw pluginHookError(tap.name, hookName, error);
      };
      // Plugins tap through PluginHooks, which offers tap and tapPromise only: no callback taps.
      tap.fn =
        tap.type === "promise"
          ? async (...args: unknown[]) => {
              try {
                return await original(...args);
              } catch (error) {
                return fail(error);
              }
            }
          : (...args: unknown[]) => {
              try {
                return original(...args);
              } catch (error) {
                return fail(error);
              }
            };
      return tap;
    },
  });
}

function pluginHookError(plugin: string, hook: string, error: unknown): TmuxClaudeError {
  // Errors that already name a plugin pass through unchanged (nested hook calls).
  if (isTmuxClaudeError(error) && error.details.plugin) return error;
  const reason = error instanceof Error ? error.message : String(error);
  // A plugin's own code (defineErrorCodes) stays the code: its kind picks the CLI's exit code.
  const code = isTmuxClaudeError(error) && isPluginErrorCode(error.code) ? error.code : ErrorCodes.PLUGIN_HOOK_FAILED;
  return new TmuxClaudeError(
    code,
    `Plugin "${plugin}" failed in hook "${hook}": ${reason}`,
    { ...(code === ErrorCodes.PLUGIN_HOOK_FAILED ? {} : (error as TmuxClaudeError).details), plugin, hook, ...(isTmuxClaudeError(error) ? { cause: error.code } : {}) },
    { cause: error },
  );
}
