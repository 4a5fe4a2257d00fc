// The payloads of the kernel's lifecycle hooks (see hooks.ts for when each fires).
import type { TokenUsage, TurnEndReason } from "../agents/adapter.js";
import type { InstanceRecord, InstanceStatus, Progress } from "../store/types.js";
import type { DeliveryReceipt } from "./messages.js";

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
  /** The spawn's options for plugins, by plugin name (`SpawnOptions.plugins`); empty for a restart. */
  readonly plugins: Readonly<Record<string, unknown>>;
}

/**
 * A spawn about to be served by a running instance (hook `beforeTake`): a
 * warm pool's idle instance (`source` "pool") or an idle one reused
 * (`source` "reuse", its conversation not reset yet). No `beforeSpawn` runs
 * for it, so a plugin that refuses spawns by policy (a budget) refuses here
 * too, and one that still owns work of the instance (a workflow's task)
 * keeps it.
 */
export interface TakePlan {
  /** The instance that would serve the spawn, as the store had it. */
  readonly instance: InstanceRecord;
  readonly source: "pool" | "reuse";
  readonly role: string;
  readonly parentId: string | null;
  readonly agent: string;
  readonly workDir: string;
  readonly name: string | undefined;
  /** Who asked: an instance id, or null for the root (a person, the CLI). */
  readonly caller: string | null;
  /** The spawn's own budget, if it gave one. */
  readonly budget: InstanceRecord["budget"];
}

/** A spawn was served by a running instance (hook `afterTake`): what afterSpawn is for a cold spawn. */
export interface TakeEvent extends EventMeta {
  /** The instance as the spawn left it: the spawn's name and budget, its first message typed. */
  readonly instance: InstanceRecord;
  readonly source: "pool" | "reuse";
  readonly caller: string | null;
}

/** A column a plugin adds to `list` (the CLI's table and tree): git's BRANCH, say. */
export interface ListColumn {
  /** Upper case, like the built-in ones: `BRANCH`. */
  readonly header: string;
  /** The cell of one instance; undefined shows as `-`. */
  value(instance: InstanceRecord): string | undefined;
}

/**
 * What `read` and `list` are about to return of some instances (hook
 * `instanceFields`): a plugin adds what it knows of each (cost's tokens and
 * USD), so the CLI's `--json`, its `read` and the MCP `read`/`list` results
 * carry it. A tap must not call `read` or `list` (they would run it again).
 */
export interface InstanceFieldsRequest {
  readonly operation: "read" | "list";
  /** The instances as the result shows them (the read's usage included). */
  readonly instances: readonly InstanceRecord[];
  /**
   * Add this plugin's field to one instance: `value` lands in the result's
   * `fields[<plugin name>]` (JSON-safe), the name of the plugin whose tap
   * this is, so no plugin writes another's; `detail`, one line for people, in
   * its `details` (the CLI's and MCP's read text).
   */
  add(id: string, value: unknown, detail?: string): void;
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
  readonly message: { readonly id: string; readonly instanceId: string; readonly text: string; readonly from: string | null; readonly threadId?: string; readonly replyTo?: string };
  readonly receipt: DeliveryReceipt;
  readonly queued: boolean;
}

/** A turn of the agent ended: it stopped (answered), was interrupted (Esc), or failed. */
export interface TurnEnded extends EventMeta {
  readonly instance: InstanceRecord;
  readonly reason: TurnEndReason;
  readonly lastReply?: string;
  /**
   * The message that started the turn: the last one the kernel typed into the
   * instance, from any process (undefined when none was). Read from the store
   * when the turn end is announced, so a turn another process sent is named
   * even when this process saw it end before the sender's `delivered` fired.
   */
  readonly prompt?: string;
  /** Tokens used so far, where the adapter can tell. */
  readonly usage?: TokenUsage;
}

/** The agent's token use after a turn, where the adapter can tell. */
export interface UsageUpdate extends EventMeta {
  readonly instance: InstanceRecord;
  readonly usage: TokenUsage;
}

/**
 * An instance's progress changed (kernel.setProgress, an adapter's report of
 * the agent's task list): fired once across processes, by the process whose
 * write changed the stored progress.
 */
export interface ProgressUpdate extends EventMeta {
  /** The record as stored after the change. */
  readonly instance: InstanceRecord;
  /** The progress now; null when it was removed. */
  readonly progress: Progress | null;
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
  /** The terminate's options for plugins, by plugin name (`TerminateOptions.plugins`); empty when none were given. */
  readonly plugins: Readonly<Record<string, unknown>>;
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

/**
 * Something a person should hear about that is not an instance's status
 * change: a budget crossed, a merge conflict, a workflow run that finished.
 * Raised by a plugin (`ctx.notice`) in the one process that decided it, and
 * told to the `notice` hook's taps (a notifier sends it out).
 */
export interface Notice {
  /** Unique per notice; a plugin that may raise the same notice in several processes gives the same id in each, so repeats can be dropped. */
  readonly eventId: string;
  /** What happened, for choosing which to send: "budget", "limited", "conflict", "run-finished", or a plugin's own kind. */
  readonly kind: string;
  /** The plugin that raised it. */
  readonly source: string;
  readonly severity: "info" | "warning" | "error";
  /** One line a person reads, e.g. `Budget of exec-1's subtree crossed: $5.12 of $5.00; delivery paused`. */
  readonly title: string;
  /** The instance it is about, when it is about one. */
  readonly instanceId?: string;
  /** Facts for scripts and richer messages (JSON values). */
  readonly data?: Readonly<Record<string, unknown>>;
  /** The node whose kernel raised it. */
  readonly node: string;
  /** ISO time it was raised. */
  readonly at: string;
}

/** What a plugin gives `ctx.notice`; the kernel adds `source`, `node`, `at` and (unless given) `eventId`. */
export type NoticeInput = Omit<Notice, "source" | "node" | "at" | "eventId" | "severity"> & { eventId?: string; severity?: Notice["severity"] };


/**
 * One public operation a caller asked for through a surface of the kernel:
 * an MCP tool call (any MCP server of this kernel, core or plugin tool), a
 * CLI command or a dashboard action. Told to the `operation` hook once it finished (an audit log
 * records it). `args` and `result` are as the surface had them and may hold
 * message texts: a tap that stores or sends them reduces them first (as
 * plugin-audit does: digests, lengths and named non-secret fields). They
 * never hold the caller's MCP secret, which comes from the connection.
 */
export interface OperationEvent {
  /** The instance that called, or null for the root (a person: the CLI, `tmux-claude mcp`). */
  readonly caller: string | null;
  /** The caller's role, when an instance called. */
  readonly role?: string | null;
  /** Where it came in: "mcp" (a tool call), "cli" (a command) or "dashboard" (an action on the web page). */
  readonly surface: "mcp" | "cli" | "dashboard";
  /** The tool or command name: "spawn", "send", "run_workflow", "git merge". */
  readonly operation: string;
  /** The instance (or run, or role) it acts on, when it names one. */
  readonly target?: string;
  readonly args: Readonly<Record<string, unknown>>;
  /** What it returned (structured content, or the CLI's `{ exitCode, ... }`) when it succeeded. */
  readonly result?: Readonly<Record<string, unknown>>;
  /** Why it failed: the error code (TC_*) and its message. */
  readonly error?: { readonly code: string; readonly message: string };
  /** The node whose kernel (or CLI) served it. */
  readonly node: string;
  /** ISO time it started. */
  readonly at: string;
  readonly durationMs: number;
}

/** What a surface gives `kernel.recordOperation`; the kernel adds `node`. */
export type OperationInput = Omit<OperationEvent, "node">;
