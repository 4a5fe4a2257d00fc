/** The persisted identity and state of one agent instance. */
/** `limited`: a turn failed on the account's usage or rate limit; `limitedUntil` says when it resets. */
export type InstanceStatus = "starting" | "idle" | "busy" | "waiting" | "limited" | "error" | "exited";

export const INSTANCE_STATUSES: readonly InstanceStatus[] = ["starting", "idle", "busy", "waiting", "limited", "error", "exited"];

/** A recorded turn end waiting to be announced (InstanceRecord.turnEnd). */
export interface PendingTurnEnd {
  from: InstanceStatus;
  to: InstanceStatus;
  reason?: string;
  turn: "stop" | "interrupt" | "failure";
  /** The recorded change's updatedAt: which change it is. */
  at: string;
}

export interface TmuxLocation {
  /**
   * The node (machine and tmux server) the instance lives on; only that
   * node's kernel touches its pane. Records written before nodes existed have
   * none: they belong to this machine's default node for their socket.
   */
  node?: string;
  /** tmux socket name (`tmux -L <socket>`). */
  socket: string;
  /** Session name; equals the instance id with characters tmux dislikes replaced. */
  session: string;
  /** Immutable pane id, e.g. `%12`. */
  paneId: string;
  /** Immutable window id, e.g. `@7`. */
  windowId: string;
  /** Pid of the process tmux started in the pane (the agent). */
  pid: number;
}

/** What was launched, so `restart` can launch it again. */
export interface LaunchRecord {
  command: string;
  args: string[];
  /** Only the variables added by config and plugins; the rest comes from the launching process. */
  env: Record<string, string>;
}

export interface InstanceRecord {
  id: string;
  role: string;
  parentId: string | null;
  /** Depth in the hierarchy: a top-level instance has depth 1. */
  depth: number;
  name?: string;
  /** Name of the agent in config (`agents.<name>`). */
  agent: string;
  workDir: string;
  /**
   * The directory the spawn asked for, when a plugin's beforeSpawn moved the
   * workDir elsewhere (e.g. into a git worktree made from that directory).
   * Adapters may extend to workDir what the user granted the origin (Claude
   * Code's folder trust). Unset when the instance works where it was asked to.
   */
  workDirOrigin?: string;
  status: InstanceStatus;
  /** Why the instance is in its status (error reason, exit cause). */
  statusReason?: string;
  /**
   * Status `limited` only: when the usage limit resets (ISO time). Then the
   * kernel moves the instance back to idle (and, with
   * `limits.usage.resumeOnReset`, sends it the continue message).
   */
  limitedUntil?: string;
  createdAt: string;
  updatedAt: string;
  tmux: TmuxLocation;
  launch: LaunchRecord;
  /** The agent's last reply, where the adapter knows it. */
  lastReply?: string;
  /**
   * The last message the kernel typed into the instance (by whichever process
   * typed it), written with its delivery mark in `messages` (the copy written
   * before it is typed, which names turns, is the store document
   * TURN_PROMPTS/<id>). Unchanged by input typed by hand in the pane.
   */
  turnPrompt?: string;
  /**
   * The instance's recent inbox, newest last, at most MESSAGE_HISTORY_LIMIT
   * entries: every message sent to it, by whichever process sent or delivered
   * it (queued, then delivered), so every process sees the timeline.
   */
  messages?: MessageEntry[];
  /** The token use last announced (`usage` hook), by whichever process announced it. */
  usage?: TokenUsage;
  /**
   * A turn's end a one-shot process recorded and has not announced yet (it
   * leaves that to serve, which may not be watching the instance yet): the
   * process that announces it removes it, in one atomic update, so it is
   * announced once (see EventOwner).
   */
  turnEnd?: PendingTurnEnd;
  /** State owned by the agent adapter (e.g. a Claude session id). Persisted as is. */
  agentState?: Record<string, unknown>;
  /** State owned by plugins, keyed by plugin name. */
  pluginState?: Record<string, unknown>;
  /** Set when `terminate` began: the record and its queued messages are about to be removed. */
  terminatedAt?: string;
  /** The budget of its subtree, from its spawn's `budget` or `kernel.setBudget`; unset: limits.budget of the config applies. */
  budget?: Budget;
  /** Set while its delivery is held (`kernel.hold`): every message to it is queued, none typed, until `kernel.release`. */
  hold?: InstanceHold;
  /**
   * Set while a busy instance has gone without an adapter event or output for
   * `supervision.stallAfterMs` (the supervisor plugin, through
   * `kernel.setStalled`): a flag, not a status, so nothing interrupts it. Its
   * next event or output clears it; a status change clears it in the same write.
   */
  stalled?: InstanceStall;
  /** Turns it ended since it was spawned or its turn-cap hold was released (counted for limits.maxTurns). */
  turns?: number;
  /**
   * How far the agent says it is with its task (`kernel.setProgress`): from
   * its own task list (the adapter's report, e.g. Claude Code's todos) or its
   * own `progress` tool call. Written by whichever process learned it.
   */
  progress?: Progress;
  /**
   * Set on an instance of a warm pool (config `pool`) from its spawn until a
   * spawn takes it (`since`: when it was spawned for the pool): it waits idle
   * for a task and `list` shows it as pooled. A take removes it in one store
   * update, so two spawns never take the same instance.
   */
  pooled?: { since: string };
  /**
   * Set (ISO time) while a spawn with `reuse: "idle"` resets this instance's
   * conversation for a new task, in the same update that claimed it: no
   * other spawn claims it meanwhile.
   */
  reusing?: string;
  /**
   * Set (ISO time) by the update that hands a reused instance its new task:
   * its conversation was reset then. A process whose view has another value
   * drops the last task's `lastReply` and `turnPrompt` (the store has none).
   */
  reusedAt?: string;
}

/** One entry of an agent's own task list. */
export interface ProgressItem {
  text: string;
  state: "pending" | "in_progress" | "completed";
}

/** An instance's progress as stored (InstanceRecord.progress). */
export interface Progress {
  /** Steps finished, 0..total. */
  done: number;
  total: number;
  /** The step it works on now ("Writing tests"). */
  current?: string;
  /** Its task list, where the source has one (at most PROGRESS_LIMITS.items entries). */
  items?: ProgressItem[];
  /** Who reported it: the adapter's name ("claude"), "tool" (the MCP/CLI `progress` call) or a plugin's word. */
  source: string;
  /** ISO time it was written. */
  at: string;
}

/** A budget of one instance's subtree: tokens (every kind summed) and/or US dollars. */
export interface Budget {
  usd?: number;
  tokens?: number;
  /** What happens when it is crossed (default: limits.budget.action). */
  action?: "pause" | "stop" | "notify";
}

/** Why a busy instance is flagged stalled (InstanceRecord.stalled). */
export interface InstanceStall {
  /** When it last did something (ISO time): the silence began then. */
  since: string;
  /** One line a person reads, with the figures. */
  why: string;
}

/** Why an instance's delivery is held. */
export interface InstanceHold {
  /** Who holds it: "budget", "maxTurns", "manual" or a plugin's own word; `release` may name the kind it lifts. */
  kind: string;
  /** One line a person reads: why, with the figures. */
  reason: string;
  at: string;
}

/** An agent's token use, as its adapter reports it (AgentDriver.usage). */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  /** The model that answered last, where the adapter can tell (e.g. "claude-sonnet-4-5"). */
  model?: string;
  /** What these tokens cost in US dollars, where the adapter knows the model's prices. */
  costUsd?: number;
  /**
   * The same tokens by the model that used them, where the adapter can tell
   * (a session may switch models): what a price table needs. The kernel
   * stores what the adapter reports; the totals above stay the sum.
   */
  models?: ModelTokens[];
}

/** One model's share of an instance's tokens (TokenUsage.models). */
export interface ModelTokens {
  model: string;
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
  /**
   * Set on the tokens of requests over a long-context threshold (the adapter's
   * to tell), which some models bill at other rates: a price table that has
   * no such rates leaves them unpriced rather than under-priced.
   */
  longContext?: boolean;
}

/** One message of an instance's inbox (`InstanceRecord.messages`). */
export interface MessageEntry {
  /** The id `send` returned (the receipt's messageId). */
  id: string;
  /** Who sent it: an instance id, or null for the root (a person, the CLI). */
  from: string | null;
  /** The text as sent, cut to MESSAGE_TEXT_LIMIT characters (ending in "…" when cut). */
  text: string;
  sentAt: string;
  state: "queued" | "delivered";
  /** When the agent accepted it (state "delivered"). */
  acceptedAt?: string;
  /** The conversation it belongs to (the id of its first message); absent on entries written before threads existed. */
  threadId?: string;
  /** The message it answers. */
  replyTo?: string;
}

/**
 * How many messages a record keeps (the oldest are dropped). The history
 * rides on every write and every read of the record (each status change,
 * each `list()`): 30 entries of at most MESSAGE_TEXT_LIMIT characters keep a
 * full one at 19 KB (50 of 2000 made it 104 KB, and a `list()` of 100 such
 * records ~5x slower: bench/tools/record-weight.mjs). A timeline wanting more keeps its own.
 */
export const MESSAGE_HISTORY_LIMIT = 30;
/** How much of a message's text a record keeps: enough to tell messages apart; the agent got all of it. */
export const MESSAGE_TEXT_LIMIT = 500;

/** A message waiting for its instance to become idle. */
export interface QueuedMessage {
  id: string;
  instanceId: string;
  text: string;
  /** Who sent it: an instance id, or null for the root (a person, the CLI). */
  from: string | null;
  enqueuedAt: string;
  /** Its thread and the message it answers (see MessageEntry), kept so the history entry its deliverer writes has them. */
  threadId?: string;
  replyTo?: string;
}
