import type { Logger } from "pino";
import type { Settings } from "../config/schema.js";
import type { ProgressInput } from "../instances/progress.js";
import type { InstanceSummary, ListFilter, ReadOptions, ReadResult, SendOptions, SpawnOptions, SpawnResult, TerminateOptions } from "../instances/types.js";
import type { Budget, InstanceRecord, InstanceStall, InstanceStatus } from "../store/types.js";
import type { StoreChange, StoreWatch } from "../store/store-contract.js";
import type { BreakerState } from "../instances/breaker.js";
import type { TmuxRuntime } from "../tmux/runtime.js";
import type { ListColumn, OperationInput } from "./events.js";
import type { HealthReport } from "./health.js";
import type { DeliveryReceipt } from "./messages.js";
import type { LocalOperations } from "./routing.js";

/**
 * The kernel as plugins and hook taps see it (`ctx.kernel`, the argument of
 * `init`, `ready`, `shutdown` and of plugin commands): its operations and what
 * it was started with. The `Kernel` class implements it; its hooks are reached
 * through `ctx.hooks`, which only taps.
 */
export interface KernelApi {
  /** The validated config (its `plugins` list is the kernel's: see `pluginNames()`). */
  readonly config: Settings;
  /** The config file the config came from, or null. */
  readonly configPath: string | null;
  readonly logger: Logger;
  /** The directory of the embedded state store. */
  readonly stateDir: string;
  /** This kernel's node (`node.id` in config; default `<host name>/<tmux socket>`). */
  readonly node: string;
  /** The tmux runtime (for plugins that need to look at panes, and for attach). */
  readonly runtime: TmuxRuntime;
  /** Where operations routed from other nodes arrive (see the `route` hook). */
  readonly local: LocalOperations;
  /** Another plugin's api, by name. */
  plugin<Api = unknown>(name: string): Api | undefined;
  /** The registered plugins, in order. */
  pluginNames(): string[];
  spawn(options: SpawnOptions, caller?: string | null): Promise<SpawnResult>;
  send(id: string, text: string, options?: SendOptions, caller?: string | null): Promise<DeliveryReceipt>;
  /** Wait until a message that `send` queued has been delivered. */
  waitDelivered(receipt: DeliveryReceipt, timeoutMs: number): Promise<void>;
  /** Wait until the messages queued for an instance now were delivered, in order; resolves with their count. */
  deliverQueued(id: string, timeoutMs: number): Promise<number>;
  read(id: string, options?: ReadOptions): Promise<ReadResult>;
  list(filter?: ListFilter): Promise<InstanceSummary[]>;
  get(id: string): Promise<InstanceRecord>;
  terminate(id: string, options?: TerminateOptions): Promise<string[]>;
  restart(id: string): Promise<InstanceRecord>;
  /**
   * Hold delivery to an instance (a budget's `pause`, the turn cap, a person):
   * stored on its record, so every process honours it. Every send to it is
   * queued (whenBusy "now" and "refuse" fail with TC_INSTANCE_PAUSED), no
   * drain types one in; `read` shows `paused: reason`, `list` the record's
   * `hold`. `kind` (default "manual") says who holds it.
   */
  hold(id: string, reason: string, kind?: string): Promise<InstanceRecord>;
  /**
   * Lift the hold (only one of `kind` when given) and deliver what was queued
   * meanwhile, in order; true when a hold was lifted. Lifting a turn-cap hold
   * (`maxTurns`) starts its turn count again.
   */
  release(id: string, kind?: string): Promise<boolean>;
  /** Set (null: remove) the budget of an instance's subtree (`InstanceRecord.budget`); checked like spawn's `budget`. */
  setBudget(id: string, budget: Budget | null): Promise<InstanceRecord>;
  /**
   * Set (null: remove) an instance's progress (`InstanceRecord.progress`):
   * `{ done, total, current?, items?, source? }` with 0 <= done <= total
   * (whole numbers), `current` and item texts at most 200 characters;
   * `source` defaults to "api". Bad input throws TC_INVALID_ARGUMENT naming
   * the values, and nothing is written. Stored in one atomic update when it
   * differs from what is stored; then the `progress` hook fires, once across
   * processes. Returns the record as stored.
   */
  setProgress(id: string, progress: ProgressInput | null): Promise<InstanceRecord>;
  /**
   * Follow an instance's output as tmux streams it (raw bytes, no polling):
   * `screen` is its screen now (with `options.history` lines of scrollback
   * above it), `size` the pane's, and `listener` gets every chunk after that
   * until the instance exits, restarts or the kernel closes (`ended`), or `unsubscribe()`.
   */
  output(id: string, listener: (data: Buffer) => void, options?: OutputOptions): Promise<OutputStream>;
  /**
   * Be told, cheaply and without polling, each time an instance this process
   * is attached to does something: its adapter reported a status (changed or
   * not: for Claude Code, each hook event) or its pane printed (only for an
   * adapter whose output is activity: not Claude Code's, whose spinner
   * redraws while it waits; see AgentAdapter.outputIsActivity). Only this
   * process's attachments: serve's are every instance of its node, a one-shot
   * kernel's those it touched. Returns the unsubscribe. The listener runs on
   * the output path: keep it short (re-arm a timer), never throw.
   */
  activity(listener: (event: ActivityEvent) => void): () => void;
  /**
   * Flag a busy instance stalled (`InstanceRecord.stalled`: a flag, not a
   * status; nothing is typed into it), or clear the flag (null). Set only
   * while it is busy and not flagged, cleared only while flagged; a status
   * change clears it by itself. Resolves true when this call changed it.
   */
  setStalled(id: string, stall: InstanceStall | null): Promise<boolean>;
  /** The agents' circuit breakers the store holds (limits.breaker): open, half-open, and closed ones with recent failures. */
  breakers(): Promise<BreakerState[]>;
  /** Close one agent's breaker (or every one), forgetting its failures; resolves with the agents whose breaker was open or half-open. */
  resetBreakers(agent?: string): Promise<string[]>;
  /**
   * Be told when instances, their queues or plugins' documents change, by
   * any process (the store's change feed): a spawn, a status, a message, a
   * plugin's state, a removal, a document (`kind: "doc"`, see ctx.data). Await `ready` before reading what you show, so no change falls
   * in between. Changes may coalesce or repeat; read the instance
   * (`get`, `list`) to learn what changed. `stop()` ends it (the kernel's
   * close does too). The listener must not throw.
   */
  watch(listener: (change: StoreChange) => void): StoreWatch;
  /**
   * The state of what the kernel depends on: its own checks (`tmux`: this
   * kernel's tmux server answers; `store`: a read succeeds) and those plugins
   * add through the `health` hook, each bounded by a timeout.
   */
  health(): Promise<HealthReport>;
  /**
   * Tell the `operation` hook that a caller's MCP call or CLI command
   * finished (an MCP server calls it for every tool call). Never throws: a
   * failing tap is logged. Resolves when the taps have finished, or after a
   * budget (1 s) with a warning naming the slow ones, which go on in the background.
   */
  recordOperation(operation: OperationInput): Promise<void>;
  /** MCP tools contributed by plugins. */
  tools(): Promise<ToolContribution[]>;
  /** CLI commands contributed by plugins. */
  commands(): Promise<CommandContribution[]>;
  /** Columns plugins add to `list`. */
  listColumns(): Promise<ListColumn[]>;
}

/** An MCP tool contributed by a plugin (served by the MCP server). */
export interface ToolContribution {
  name: string;
  description: string;
  /** A zod object schema of the arguments. */
  inputSchema: unknown;
  /** Roles that may call it (the root always may); undefined = the roles that may orchestrate (their `spawns` is not empty), like the built-in tools. */
  roles?: string[];
  /**
   * The MCP server answers with a text and structured content: a plain object
   * with a string `text` gives that text and the rest as the structured
   * content; another object is both (as JSON text); a string is the text.
   */
  handler(args: Record<string, unknown>, caller: { instanceId: string | null; role: string | null }, call?: ToolCall): Promise<unknown>;
}

/** One call of a plugin tool, as the serving side (the MCP server) knows it. */
export interface ToolCall {
  /**
   * Aborted when the call is cancelled (the client's MCP cancellation, a
   * dropped connection) or the server closes. A handler that waits (or holds
   * something for the caller) stops and undoes what the caller will never
   * see. Absent when the caller cannot cancel.
   */
  signal?: AbortSignal;
}

/** A CLI command contributed by a plugin. */
export interface CommandContribution {
  name: string;
  description: string;
  /** Runs with the parsed argv after the command name; returns the exit code. */
  run(argv: string[], kernel: KernelApi): Promise<number>;
  /**
   * What an audit log may say of one invocation, from the same argv: which
   * word is a subcommand the command declares and which argument names the
   * instance (or run) it acts on. Only the command knows its options: without
   * this, a word after `--strategy` or a quoted text could pass for either,
   * so the log records the command's name and a digest of argv only. Return
   * only what the command itself declares, never a free word of argv.
   */
  invocation?(argv: readonly string[]): CommandInvocation;
}

/** See CommandContribution.invocation. */
export interface CommandInvocation {
  /** A subcommand the command declares (`merge` of `git merge`): it joins the operation's name. */
  subcommand?: string;
  /** The id of the instance (or run) it acts on, as given. */
  target?: string;
}

/** Something an instance did (kernel.activity). */
export interface ActivityEvent {
  instanceId: string;
  /** "report": its adapter reported a status; "output": its pane printed. */
  source: "report" | "output";
  /** Its status as this process knows it after that. */
  status: InstanceStatus;
  /** A report that expects silence for this long (DriverContext.activity's quietForMs, e.g. a shell command's timeout). */
  quietForMs?: number;
}

export interface OutputOptions {
  /** Lines of scrollback to send above the screen (default: only the last 30 lines). */
  history?: number;
}

/** A followed pane: draw `screen` at `size`, then the bytes the listener gets. */
export interface OutputStream {
  screen: string;
  /** The pane's size in cells: the bytes move the cursor for this width and height. */
  size: { cols: number; rows: number };
  unsubscribe: () => void;
  ended: Promise<void>;
}
