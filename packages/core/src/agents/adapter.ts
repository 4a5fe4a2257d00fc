import type { Logger } from "pino";
import type { z } from "zod";
import type { AgentConfig, RoleConfig, Settings } from "../config/schema.js";
import type { InstanceRecord, InstanceStatus, Progress, TokenUsage } from "../store/types.js";

/** What an adapter needs to decide how to launch an agent. */
export interface LaunchContext {
  readonly instanceId: string;
  readonly role: string;
  /** The instance that spawned it; null at the top level. */
  readonly parentId: string | null;
  readonly roleConfig: RoleConfig;
  readonly agentName: string;
  readonly agent: AgentConfig;
  readonly workDir: string;
  /** Where the spawn asked to work, when a plugin moved `workDir` elsewhere (see InstanceRecord.workDirOrigin). */
  readonly workDirOrigin?: string;
  readonly prompt?: string;
  readonly context?: string;
  readonly config: Settings;
  /**
   * Environment added so far by config, the agent's `env` and plugins'
   * `beforeSpawn` taps (not the inherited process environment). Adapters may
   * read conventions from it, e.g. the orchestration endpoint a plugin added
   * (`INSTANCE_ENV.endpointUrl` / `INSTANCE_ENV.endpointToken`).
   */
  readonly env: Readonly<Record<string, string>>;
  /** A private directory for this instance's files (generated settings, event logs); it exists. */
  readonly instanceDir: string;
  /** Set when relaunching an existing instance (`restart`): its record as stored. */
  readonly previous?: InstanceRecord;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  /** Variables the adapter adds (on top of config, plugins and the launching process). */
  env?: Record<string, string>;
  /** Initial adapter state persisted with the instance (e.g. a session id). */
  agentState?: Record<string, unknown>;
}

/** The instance's pane, as an adapter may use it. */
export interface PaneIO {
  readonly paneId: string;
  capture(options?: { lines?: number }): Promise<string>;
  /**
   * Types text (literal keys or bracketed paste) as `typeableText` makes it:
   * control characters other than TAB, LF and CR become their visible control
   * pictures, so nothing in the text can end the paste or act. Does not press Enter.
   * `pipelined`: may resolve before tmux answered (one round trip for text and
   * key); then the `sendKey` that must follow reports a failure of the text.
   */
  sendText(text: string, options?: { pipelined?: boolean }): Promise<void>;
  /** Presses one key by its tmux name (`Enter`, `Escape`, `C-c`). */
  sendKey(key: string): Promise<void>;
  /** Raw output of the pane as it streams; returns the unsubscribe function. */
  onOutput(listener: (data: Buffer) => void): () => void;
}

// Persisted on the record (InstanceRecord.usage), so it lives with the store's types.
export type { ModelTokens, TokenUsage } from "../store/types.js";

/** How a turn ended: the agent answered, it was interrupted (Esc), or the turn failed. */
export type TurnEndReason = "stop" | "interrupt" | "failure";

export interface StatusReport {
  reason?: string;
  lastReply?: string;
  /**
   * Set when this change ends a turn. Without it, busy -> idle counts as
   * "stop" and busy -> error as "failure"; an adapter that can tell an
   * interrupt from an answer says so.
   */
  turn?: TurnEndReason;
  /**
   * With status `limited`: when the agent's usage limit resets (ISO time), as
   * the agent said it. Left out when the agent did not say: the kernel then
   * assumes `limits.usage.unknownResetMs` from now.
   */
  limitedUntil?: string;
  /**
   * The status is inferred from what this process did, not read from the
   * agent (the command adapter: busy once the agent took the input this
   * process typed). Another process watching the same pane (serve) may have
   * recorded what the agent did next before this process gets to write it;
   * so an inferred status is recorded only while the store still holds the
   * status it changes from (see Registry.applyStatus).
   */
  inferred?: boolean;
}

export interface DriverContext {
  readonly instanceId: string;
  /** The same private directory the launch got. */
  readonly instanceDir: string;
  /** The instance's record as the kernel knows it now. */
  record(): InstanceRecord;
  readonly pane: PaneIO;
  readonly logger: Logger;
  readonly agent: AgentConfig;
  /** The current status as the kernel knows it. */
  status(): InstanceStatus;
  /** Report what the agent is doing now; the kernel persists it and fires `statusChange`. */
  setStatus(status: InstanceStatus, report?: StatusReport): void;
  /**
   * Report the agent's progress from its own task list (done of total, the
   * step it works on, the list): the kernel stores it as `progress` with the
   * adapter's name as its source and fires `progress` once across processes
   * (null removes it). Reporting the same again writes nothing.
   */
  setProgress(progress: Omit<Progress, "at" | "source"> | null): void;
  /**
   * The agent did something that changes no status (a hook event such as a
   * tool call): tells `kernel.activity` listeners (a stall watcher) that it is
   * alive. Costs nothing else: no write, no event. `quietForMs`: how long a
   * silence is expected from now (e.g. a shell command with that timeout
   * began), so a watcher flags it stalled only once that much more has passed;
   * the next activity ends the expectation.
   */
  activity(options?: ActivityOptions): void;
  readonly agentState: Record<string, unknown>;
  /**
   * Merge into the adapter's persisted state (at once in `agentState`).
   * Resolves once written; rejects when the store refused the write (the
   * patch then lives only in this process: a kernel attaching later does not see it).
   */
  updateAgentState(patch: Record<string, unknown>): Promise<void>;
}

/**
 * The agent's own record of the input it accepted (Claude Code's
 * UserPromptSubmit hook events, a program's input log). A kernel that takes
 * over the delivery of a message from a kernel killed mid-delivery asks it
 * whether the message got in before typing it again: with evidence, queued
 * messages are delivered exactly once; without, at least once.
 */
export interface SubmissionEvidence {
  /** A position in that record, taken before a message is typed; the kernel stores it with its claim. */
  mark(): Promise<string>;
  /** Whether the agent accepted `text` (as given to `submit`) after `mark`. */
  submittedSince(mark: string, text: string): Promise<boolean>;
}

export interface SubmitOptions {
  /**
   * An earlier attempt to type this message was cut off (its kernel died):
   * text it left on the agent's input line must be cleared first.
   */
  retyping?: boolean;
}

/** Drives one running instance: tells its state, submits its input. */
export interface AgentDriver {
  /** Called once when the kernel attaches (after launch, or re-attaching after a restart of the kernel). */
  start(): void | Promise<void>;
  /**
   * Deliver one message and resolve once the agent accepted it (the receipt).
   * The kernel serializes calls per instance and only calls this when the
   * instance may take input (or the sender asked to interrupt).
   */
  submit(text: string, signal: AbortSignal, options?: SubmitOptions): Promise<void>;
  /**
   * Resolves once the status reflects the output seen so far (a screen look
   * under way finished). The kernel waits for it before queueing a message for
   * an agent that does not look idle: an answer already on the screen must not
   * make the next message queue.
   */
  settled?(): Promise<void>;
  /**
   * The store has a status another process saw and this driver did not (a
   * one-shot `send`'s busy, written after this process saw the turn end):
   * the kernel adopted it and asks the driver to look again, so a state
   * reached meanwhile is not covered by it for good. Drivers whose every
   * change comes as an event to this process need not implement it.
   */
  recheck?(): void;
  /** Present when the adapter can tell whether a message was accepted (see SubmissionEvidence). */
  readonly evidence?: SubmissionEvidence;
  /** Tokens used so far, where the adapter can tell (e.g. from a transcript). */
  usage?(): Promise<TokenUsage | undefined>;
  /**
   * Start a new conversation in the same process (Claude Code's `/clear`),
   * resolving once the agent confirmed it (never blind) and is idle with
   * none of the earlier turns in its context. Called for a spawn with
   * `reuse: "idle"`, with the instance idle and the send lock held. An agent
   * without it is not reused.
   */
  resetConversation?(signal: AbortSignal): Promise<void>;
  /** The instance is gone or the kernel closes; release listeners and timers. */
  dispose(): void;
}

/** What a driver says with an activity (DriverContext.activity). */
export interface ActivityOptions {
  /** Milliseconds of silence to expect from now (no report, no counted output) before it is unusual. */
  quietForMs?: number;
}

/** Teaches the kernel one kind of agent: how to launch it, tell its state and give it input. */
export interface AgentAdapter {
  readonly name: string;
  /**
   * Whether its pane's output shows the agent is alive (default true: a plain
   * CLI has no other signal). An agent that redraws while it waits (Claude
   * Code's spinner and timer, ~9 times a second) sets false: only its driver's
   * reports and `ctx.activity()` calls then count (`kernel.activity`).
   */
  readonly outputIsActivity?: boolean;
  /** Validates this adapter's extra keys in `agents.<name>`; errors name the key. */
  readonly optionsSchema?: z.ZodType;
  launch(ctx: LaunchContext): LaunchSpec | Promise<LaunchSpec>;
  drive(ctx: DriverContext): AgentDriver;
}

/** Wait for the first output chunk that satisfies `test`, or the signal. */
export function waitForOutput(pane: PaneIO, test: (data: Buffer) => boolean, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const stop = pane.onOutput((data) => {
      if (!test(data)) return;
      cleanup();
      resolve();
    });
    const onAbort = () => {
      cleanup();
      reject(signal.reason);
    };
    const cleanup = () => {
      stop();
      signal.removeEventListener("abort", onAbort);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
