import type { TokenUsage } from "../agents/adapter.js";
import type { DeliveryReceipt, WhenBusy } from "../kernel/messages.js";
import type { Budget, InstanceRecord, InstanceStall, InstanceStatus, Progress } from "../store/types.js";

export interface SpawnOptions {
  role: string;
  workDir: string;
  prompt?: string;
  context?: string;
  /** Parent instance; null or undefined = top level. */
  parentId?: string | null;
  name?: string;
  /** Agent name from config; default `defaultAgent`. */
  agent?: string;
  /** Node to spawn on; default this kernel's. Another node's spawn goes through the `route` hook. */
  node?: string;
  /**
   * Options for plugins, by plugin name (`{ git: { isolation: "shared" } }`):
   * they reach `beforeSpawn` as `plan.plugins`, where each plugin checks its own.
   */
  plugins?: Record<string, unknown>;
  /**
   * The budget of the new instance's subtree (it and its descendants):
   * `{ usd?, tokens?, action? }`, stored on its record; without it
   * limits.budget of the config applies. Enforced by the cost plugin.
   */
  budget?: Budget;
  /**
   * `"idle"`: reuse an idle instance of the role under the same parent (same
   * agent and workDir, no children, nothing queued) after resetting its
   * conversation (the driver's `resetConversation`, `/clear` for Claude
   * Code), instead of starting a process. Without such an instance the spawn
   * is served from a warm pool or cold; an agent whose driver cannot reset a
   * conversation is never reused (`SpawnResult.source` says what happened).
   */
  reuse?: "idle";
}

export interface SpawnResult {
  instance: InstanceRecord;
  /** Receipt of the first prompt, when one was given. */
  receipt?: DeliveryReceipt;
  /**
   * Where the instance came from: `"cold"` (a new process), `"pool"` (taken
   * from a warm pool, config `pool`) or `"reuse"` (an idle instance whose
   * conversation was reset, spawn option `reuse`).
   */
  source: "cold" | "pool" | "reuse";
}

export interface SendOptions {
  /** When the agent is busy: queue until idle (default), type it in now, or refuse. */
  whenBusy?: WhenBusy;
  /**
   * The message's id, chosen by the sender (default: a new UUID). A send
   * repeated with the same id (its sender died or timed out before the
   * answer) is not delivered again: it gets the first one's receipt. Known
   * by id: on another node for 24 h (the redis bus), on this node while the
   * message is queued or among the instance's last 30 messages.
   */
  messageId?: string;
  /**
   * The conversation the message continues (a thread id `send` returned).
   * Without it, a message with `replyTo` continues the replied-to message's
   * thread, and any other starts a thread whose id is its own message id.
   */
  threadId?: string;
  /** The id of the message this one answers (one in the target's or the sender's recent history). */
  replyTo?: string;
}

export interface ReadOptions {
  /** Lines of screen to return (with scrollback). Default 40. */
  lines?: number;
  /** Block until the current turn ends (the instance is no longer starting or busy). */
  wait?: boolean;
  /** How long `wait` may block; default 10 minutes. */
  timeoutMs?: number;
}

export interface ReadResult {
  id: string;
  status: InstanceStatus;
  statusReason?: string;
  /** Status `limited`: when the usage limit resets (ISO time). */
  limitedUntil?: string;
  lastReply?: string;
  screen: string;
  queued: number;
  /** Tokens used so far, where the adapter can tell. */
  usage?: TokenUsage;
  /** Set while its delivery is held (kernel.hold): why; messages to it wait in its queue. */
  paused?: string;
  /** How far the agent says it is (InstanceRecord.progress), when it reported any. */
  progress?: Progress;
  /** Set while it is busy and flagged stalled (InstanceRecord.stalled): since when it was silent, and why. */
  stalled?: InstanceStall;
  /** Set when it is blocked (waiting on a question, error, usage limit, stalled): why, as `list --blocked` says it. */
  blocked?: string;
  /** What plugins add (hook `instanceFields`), by plugin name: `fields.cost`. */
  fields?: Record<string, unknown>;
  /** Their lines for people (`cost: 12,300 tokens, $0.0421`). */
  details?: string[];
}

export interface ListFilter {
  role?: string;
  parentId?: string | null;
  status?: InstanceStatus;
  /** Only blocked instances (waiting on a question, error, limited, or stalled; see `blocked`). */
  blocked?: boolean;
}

/**
 * One instance as `list()` shows it: the record as the store has it, with
 * what any process wrote (`messages`, `usage`, plugins' state), and its children.
 */
export interface InstanceSummary extends InstanceRecord {
  children: string[];
  /** The token use last announced for it (see InstanceRecord.usage). */
  usage?: TokenUsage;
  /** What plugins add (hook `instanceFields`), by plugin name; see ReadResult.fields. */
  fields?: Record<string, unknown>;
  details?: string[];
  /**
   * Ids of the messages in its queue now, oldest first (the store's queue,
   * claimed ones included): the truth about what waits, where `messages` is
   * the history, and a `queued` entry there may already be delivered by a
   * process that has not marked it yet, or not be in the queue yet.
   */
  queuedIds: string[];
  /**
   * Set when the instance lives on another node that is not live now (lost or
   * stopped, as the `nodes` hook reports): why it cannot be reached. Derived
   * at each list, never stored: `status` stays what its node last wrote, and
   * once that node's `serve` runs again the flag is gone.
   */
  unreachable?: string;
  /**
   * Set when it is blocked, with why: waiting on a question, in error, at its
   * usage limit, or busy and flagged stalled (`stalled`). Derived at each list
   * from the record (blockedReason), never stored.
   */
  blocked?: string;
}

export interface TerminateOptions {
  /** Also terminate every descendant; without it an instance with live children is refused. */
  cascade?: boolean;
  /**
   * Options for plugins, by plugin name (`{ git: { force: true } }`), as for a
   * spawn: they reach `beforeTerminate`/`afterTerminate` as `event.plugins`
   * (also for the descendants a cascade ends), where each plugin checks its own.
   */
  plugins?: Record<string, unknown>;
}

/** Statuses in which the agent takes input without interrupting anything. */
export const DELIVERABLE: ReadonlySet<InstanceStatus> = new Set(["idle", "error"]);
