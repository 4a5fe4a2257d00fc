import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  type Hook,
} from "tapable";
import { ErrorCodes, TmuxClaudeError, isPluginErrorCode, isTmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { CommandContribution, KernelApi, ToolContribution } from "./api.js";
import type { DeliveryEvent, InstanceFieldsRequest, ListColumn, Notice, OperationEvent, ProgressUpdate, ReadyGate, SpawnFailure, SpawnPlan, StatusChange, TakeEvent, TakePlan, TerminateEvent, TurnEnded, UsageUpdate } from "./events.js";
import type { HealthCheck } from "./health.js";
import type { DeliveryReceipt, OutgoingMessage } from "./messages.js";
import type { NodeReport, RouteRequest, RouteResult } from "./routing.js";

export function createHooks() {
  const hooks = {
    /** Plugins applied; the store is open. */
    init: new AsyncSeriesHook<[KernelApi]>(["kernel"], "init"),
    /** Instances re-attached; the kernel takes requests. */
    ready: new AsyncSeriesHook<[KernelApi]>(["kernel"], "ready"),
    /** The kernel is closing (before plugins' onClose handlers). */
    shutdown: new AsyncSeriesHook<[KernelApi]>(["kernel"], "shutdown"),
    /** Shape a spawn or restart (`plan.restart`): workdir, env, args. Runs before anything is launched. */
    beforeSpawn: new AsyncSeriesWaterfallHook<[SpawnPlan]>(["plan"], "beforeSpawn"),
    /** A spawn or restart failed after beforeSpawn began (nothing of it is left in tmux or the store). */
    spawnFailed: new AsyncSeriesHook<[SpawnFailure]>(["failure"], "spawnFailed"),
    /** Hold an instance's readiness (spawn, restart) until a plugin's condition holds; see ReadyGate. */
    awaitReady: new AsyncParallelHook<[ReadyGate]>(["gate"], "awaitReady"),
    afterSpawn: new AsyncSeriesHook<[InstanceRecord]>(["instance"], "afterSpawn"),
    /**
     * A spawn is about to take a running instance (a warm pool's, or an idle
     * one reused; see TakePlan). A tap that returns a reason (a string) passes
     * this instance over: the spawn tries the next one, else starts cold,
     * where `beforeSpawn` decides. A tap that throws fails the spawn.
     */
    beforeTake: new AsyncSeriesBailHook<[TakePlan], string | undefined>(["plan"], "beforeTake"),
    /** A spawn was served by a running instance, after its first message (see TakeEvent); a failing tap is logged. */
    afterTake: new AsyncParallelHook<[TakeEvent]>(["event"], "afterTake"),
    beforeSend: new AsyncSeriesWaterfallHook<[OutgoingMessage]>(["message"], "beforeSend"),
    afterSend: new AsyncSeriesHook<[OutgoingMessage, DeliveryReceipt]>(["message", "receipt"], "afterSend"),
    /** A message was accepted by its agent (also a queued one, with its original id). */
    delivered: new AsyncParallelHook<[DeliveryEvent]>(["event"], "delivered"),
    statusChange: new AsyncParallelHook<[StatusChange]>(["change"], "statusChange"),
    /** A turn ended: stop, interrupt or failure. */
    turnEnded: new AsyncParallelHook<[TurnEnded]>(["turn"], "turnEnded"),
    /** An instance's progress changed (see ProgressUpdate). Fired once across processes. */
    progress: new AsyncParallelHook<[ProgressUpdate]>(["update"], "progress"),
    /** Token use after a turn. */
    usage: new AsyncParallelHook<[UsageUpdate]>(["update"], "usage"),
    /** A plugin raised a notice (ctx.notice): a budget crossed, a conflict, a run finished. Fired once, in the process that raised it. */
    notice: new AsyncParallelHook<[Notice]>(["notice"], "notice"),
    /**
     * A caller's operation through an MCP server or the CLI finished (see
     * OperationEvent): fired by `kernel.recordOperation`, once per call, in the
     * process that served it. A failing tap is logged, never the caller's error;
     * the caller waits for the taps at most OPERATION_TAP_BUDGET_MS (operations.ts).
     */
    operation: new AsyncParallelHook<[OperationEvent]>(["event"], "operation"),
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
    /**
     * Plugins that track nodes (heartbeats) report the nodes they know. An
     * instance of a reported node that is not live is listed `unreachable`,
     * operations on it fail at once (TC_NODE_UNREACHABLE), and placement
     * (`node.placement`) chooses among the live ones. Unreported nodes are
     * left as they are.
     */
    nodes: new AsyncSeriesWaterfallHook<[NodeReport[]]>(["nodes"], "nodes"),
    /** Plugins contribute MCP tools. */
    tools: new AsyncSeriesWaterfallHook<[ToolContribution[]]>(["tools"], "tools"),
    /** Plugins add fields to what `read` and `list` return of instances (see InstanceFieldsRequest). */
    instanceFields: new AsyncSeriesHook<[InstanceFieldsRequest]>(["request"], "instanceFields"),
    /** Plugins add columns to `list` (see ListColumn). */
    listColumns: new AsyncSeriesWaterfallHook<[ListColumn[]]>(["columns"], "listColumns"),
    /**
     * Plugins add checks of what they depend on (an endpoint, Redis) to
     * `kernel.health()`, after the kernel's own (`tmux`, `store`).
     */
    health: new AsyncSeriesWaterfallHook<[HealthCheck[]]>(["checks"], "health"),
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
