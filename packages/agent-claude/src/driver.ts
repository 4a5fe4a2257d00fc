import path from "node:path";
import { jsonlEvidence, type AgentDriver, type DriverContext, type SubmissionEvidence, type TokenUsage } from "@tmux-claude/core";
import { claudeInputText } from "./input-text.js";
import { EventLog, type HookEvent } from "./events.js";
import { limitInReply, limitOnScreen, limitReport } from "./limits.js";
import { EVENTS_FILE } from "./launch.js";
import type { ClaudeAgentOptions } from "./options.js";
import { classifyScreen, type ScreenState } from "./screen.js";
import { readState, type ClaudeAgentState } from "./state.js";
import { StartupDialogs } from "./startup-dialogs.js";
import { expectedQuietMs } from "./quiet.js";
import { PromptSubmission, submittedText, typedText } from "./submission.js";
import { TaskList } from "./tasks.js";
import { TranscriptUsage } from "./transcript.js";

export { submittedText, typedText } from "./submission.js";

/** A screen look happens at most this long after output, while the status is one the screen can correct. */
const CHECK_DELAY_MS = 200;
/** A running turn whose screen shows the idle input box this long without a Stop hook has ended (Esc fires no hook). */
const SETTLE_MS = 1_000;
/** How long `usage` waits for the transcript to hold the last reply. */
const TRANSCRIPT_LAG_MS = 2_000;

/** Notification types that mean the agent stopped to ask a person something. */
const WAITING_NOTIFICATIONS = new Set(["permission_prompt", "elicitation_dialog", "elicitation_url_dialog", "worker_permission_prompt", "agent_needs_input"]);
/** SessionEnd reasons after which the same process goes on with another session (a SessionStart follows). */
const SESSION_CONTINUES = new Set(["clear", "resume"]);

/**
 * Drives one Claude Code instance. Its state comes from Claude Code's own
 * hooks, which the hook command appends to `<instanceDir>/events.jsonl`; this
 * driver follows that file with an inotify watch. The screen is looked at
 * only when output arrives while the state is one hooks may leave stale
 * (starting, busy, waiting): startup dialogs, a permission question, a turn
 * interrupted with Esc.
 */
export class ClaudeDriver implements AgentDriver {
  private readonly events: EventLog;
  private readonly transcriptUsage = new TranscriptUsage();
  private readonly submission: PromptSubmission;
  private readonly dialogs: StartupDialogs;
  /** The agent's own task list (TodoWrite, TaskCreate/TaskUpdate), reported as the instance's progress. */
  private readonly tasks: TaskList;
  private sessionId: string | undefined;
  private launchId: string | undefined;
  private transcripts: string[];
  private stopOutput: (() => void) | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private checkAgain = false;
  private settleTimer: NodeJS.Timeout | undefined;
  /** The last Stop, until `usage` saw its reply in the transcript. */
  private unwrittenStop: { transcript: string; reply: string } | undefined;
  /** Settles once the transcript holds the last Stop's reply (or after TRANSCRIPT_LAG_MS). */
  private replyWritten: Promise<void> | undefined;
  /**
   * The reply of the last turn the hooks said ended (Stop), until the next
   * prompt: when another process's older "busy" was adopted after it, the
   * screen's idle box is that turn's end, not an interrupt.
   */
  private endedTurn: { lastReply: string | undefined } | undefined;
  private disposed = false;
  /** Waiting for the SessionStart (source "clear") that confirms a `/clear`. */
  private readonly clearWaiters = new Set<() => void>();
  readonly evidence: SubmissionEvidence;

  constructor(
    private readonly ctx: DriverContext,
    options: ClaudeAgentOptions,
  ) {
    // A UserPromptSubmit hook event with the message's text is the evidence that Claude Code took it.
    this.evidence = jsonlEvidence(path.join(ctx.instanceDir, EVENTS_FILE), (line, message) => {
      const event = line as Partial<HookEvent> | null;
      const prompt = event?.event === "UserPromptSubmit" ? event.payload?.prompt : undefined;
      return typeof prompt === "string" && submittedText(prompt) === typedText(claudeInputText(message));
    });
    const state = readState(ctx.agentState);
    this.sessionId = state.sessionId;
    this.launchId = state.launchId;
    this.transcripts = state.transcripts ?? [];
    this.tasks = new TaskList(state.tasks);
    this.submission = new PromptSubmission(ctx);
    this.dialogs = new StartupDialogs(ctx, options, state.trustedOrigin, (delayMs) => {
      clearTimeout(this.checkTimer);
      this.checkTimer = undefined;
      this.scheduleCheck(delayMs);
    });
    this.events = new EventLog(path.join(ctx.instanceDir, EVENTS_FILE), state.eventsOffset ?? 0, (events, offset) => this.apply(events, offset), ctx.logger);
  }

  async start(): Promise<void> {
    this.stopOutput = this.ctx.pane.onOutput(() => this.onOutput());
    this.submission.start();
    // Attached means caught up: hooks that fired while no kernel watched are applied before this returns.
    await this.events.start();
    // A kernel re-attaching finds the agent as it is now: look once, in case the hooks cannot tell.
    if (this.screenMatters()) this.scheduleCheck();
  }

  submit(message: string, signal: AbortSignal): Promise<void> {
    return this.submission.submit(message, signal);
  }

  async usage(): Promise<TokenUsage | undefined> {
    const paths = [...this.transcripts];
    const current = readState(this.ctx.agentState).transcriptPath;
    if (current && !paths.includes(current)) paths.push(current);
    if (paths.length === 0) return undefined;
    // Usage as of the last reply: Claude Code may write the turn's messages just after its Stop hook.
    const stop = this.unwrittenStop;
    if (stop && this.ctx.status() === "idle") {
      this.unwrittenStop = undefined;
      this.replyWritten = this.transcriptUsage.waitForReply(stop.transcript, stop.reply, TRANSCRIPT_LAG_MS).catch(() => undefined);
    }
    // Every caller waits for the reply (a read and the turn's announcement ask at once): the first alone would get it all.
    await this.replyWritten;
    return this.transcriptUsage.total(paths);
  }

  /**
   * `/clear`, typed like any message (its receipt: the emptied input box),
   * confirmed by the SessionStart hook with source "clear" that Claude Code
   * fires once the new, empty conversation began: the next prompt carries
   * none of the earlier turns. Never assumed from the keys alone.
   */
  async resetConversation(signal: AbortSignal): Promise<void> {
    let stop = () => {};
    const cleared = new Promise<void>((resolve, reject) => {
      const done = () => {
        stop();
        resolve();
      };
      const abort = () => {
        stop();
        reject(signal.reason);
      };
      stop = () => {
        this.clearWaiters.delete(done);
        signal.removeEventListener("abort", abort);
      };
      this.clearWaiters.add(done);
      signal.addEventListener("abort", abort, { once: true });
    });
    // The SessionStart is the receipt: once it came, what the submission still waits for (the emptied box) is cut short.
    const finished = new AbortController();
    const submitted = this.submission.submit("/clear", AbortSignal.any([signal, finished.signal]));
    submitted.catch(() => undefined);
    try {
      await Promise.race([cleared, submitted.then(() => cleared)]);
    } catch (error) {
      stop();
      throw error;
    } finally {
      finished.abort();
    }
  }

  /**
   * The kernel adopted a status another process wrote (a one-shot send's
   * "busy", written after this process saw the turn's Stop): no hook will
   * come to correct it, so the screen decides, as after an Esc.
   */
  recheck(): void {
    if (this.screenMatters()) this.scheduleCheck();
  }

  dispose(): void {
    this.disposed = true;
    this.events.close();
    this.stopOutput?.();
    this.submission.dispose();
    clearTimeout(this.checkTimer);
    clearTimeout(this.settleTimer);
    this.dialogs.dispose();
  }

  // ------------------------------------------------------------------ hooks

  private apply(events: HookEvent[], offset: number): void {
    if (this.disposed) return;
    const patch: Partial<ClaudeAgentState> = { eventsOffset: offset };
    for (const event of events) this.handle(event, patch);
    // Kept in memory either way; a kernel re-attaching after a refused write reads these events again from the older offset.
    this.ctx.updateAgentState(patch).catch((error: unknown) => this.ctx.logger.error({ err: error }, "could not persist the hook events' state"));
  }

  private handle(event: HookEvent, patch: Partial<ClaudeAgentState>): void {
    const { payload } = event;
    const log = this.ctx.logger;
    if (event.launch !== this.launchId) {
      log.debug({ event: event.event, launch: event.launch }, "ignored a hook event of another process");
      return;
    }
    if (event.event === "SessionStart") {
      // This process started a conversation: at launch, or anew after /clear, resume or fork.
      if (payload.session_id) this.sessionId = patch.sessionId = payload.session_id;
      if (payload.transcript_path) {
        patch.transcriptPath = payload.transcript_path;
        if (!this.transcripts.includes(payload.transcript_path)) this.transcripts = patch.transcripts = [...this.transcripts, payload.transcript_path];
      }
      // A new conversation (/clear, a relaunch that could not resume) starts without a task list; a resumed one keeps its own.
      if ((payload.source === "clear" || payload.source === "startup") && (this.tasks.clear() || this.ctx.record().progress?.source === this.ctx.agent.adapter)) this.reportTasks(patch);
      const status = this.ctx.status();
      if (status === "starting" || payload.source === "clear") this.ctx.setStatus("idle");
      if (payload.source === "clear") for (const done of [...this.clearWaiters]) done();
      return;
    }
    if (payload.session_id !== this.sessionId) {
      log.debug({ event: event.event, session: payload.session_id, current: this.sessionId }, "ignored a hook event of another session");
      return;
    }
    // Every hook event of its session shows the agent alive (a tool call), also one that changes no status;
    // a Bash command may then run silent until its timeout.
    const quietForMs = expectedQuietMs(event);
    this.ctx.activity(quietForMs === undefined ? undefined : { quietForMs });
    switch (event.event) {
      case "UserPromptSubmit":
        this.clearSettle();
        this.endedTurn = undefined;
        this.ctx.setStatus("busy");
        this.submission.received(payload.prompt ?? "");
        break;
      case "Stop": {
        this.clearSettle();
        if (payload.last_assistant_message && payload.transcript_path) {
          this.unwrittenStop = { transcript: payload.transcript_path, reply: payload.last_assistant_message };
        }
        // A subscription's usage limit comes as Claude Code's own notice in place of a reply, with a Stop.
        const limit = limitInReply(payload.last_assistant_message);
        if (limit) {
          this.endedTurn = undefined;
          this.ctx.setStatus("limited", { turn: "failure", ...limit });
          break;
        }
        this.endedTurn = { lastReply: payload.last_assistant_message };
        this.ctx.setStatus("idle", { turn: "stop", ...(payload.last_assistant_message !== undefined ? { lastReply: payload.last_assistant_message } : {}) });
        break;
      }
      case "StopFailure": {
        this.clearSettle();
        this.endedTurn = undefined;
        const message = payload.last_assistant_message ?? payload.error_details;
        // A usage or rate limit is no error: the turn can go on once the limit resets (the kernel's limited status).
        const limit = limitReport(payload.error, [payload.error_details, payload.last_assistant_message]);
        if (limit) this.ctx.setStatus("limited", { turn: "failure", ...limit, reason: failureReason(payload.error, message) });
        else this.ctx.setStatus("error", { turn: "failure", reason: failureReason(payload.error, message) });
        break;
      }
      case "Notification":
        if (WAITING_NOTIFICATIONS.has(payload.notification_type ?? "")) {
          this.clearSettle();
          this.ctx.setStatus("waiting", { reason: payload.message ?? payload.notification_type });
        } else {
          log.debug({ type: payload.notification_type, message: payload.message }, "notification");
        }
        break;
      case "PostToolUse":
        if (this.tasks.apply(payload)) this.reportTasks(patch);
        break;
      case "SessionEnd":
        if (!SESSION_CONTINUES.has(payload.reason ?? "")) this.ctx.setStatus("exited", { reason: `Claude Code ended the session (${payload.reason ?? "no reason given"})` });
        break;
      default:
        log.debug({ event: event.event }, "ignored a hook event");
    }
  }

  /** The task list changed: persist it with the events' offset and report it as the instance's progress. */
  private reportTasks(patch: Partial<ClaudeAgentState>): void {
    patch.tasks = [...this.tasks.list];
    this.ctx.setProgress(this.tasks.progress());
  }

  // ----------------------------------------------------------------- screen

  private screenMatters(): boolean {
    const status = this.ctx.status();
    return status === "starting" || status === "busy" || status === "waiting";
  }

  private onOutput(): void {
    this.dialogs.onOutput();
    if (this.screenMatters()) this.scheduleCheck();
  }

  private scheduleCheck(delay = CHECK_DELAY_MS): void {
    if (this.disposed) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checkTimer ??= setTimeout(() => {
      this.checkTimer = undefined;
      void this.check();
    }, delay);
  }

  private async check(): Promise<void> {
    this.checking = true;
    this.checkAgain = false;
    try {
      const screen = await this.ctx.pane.capture();
      if (!this.disposed) this.reconcile(classifyScreen(screen, { startup: this.ctx.status() === "starting" }));
    } catch (error) {
      // The pane vanished between the output and the look; the kernel reports the exit.
      this.ctx.logger.debug({ err: error }, "screen capture failed");
    } finally {
      this.checking = false;
      if (this.checkAgain && this.screenMatters()) this.scheduleCheck();
    }
  }

  private reconcile(screen: ScreenState): void {
    const status = this.ctx.status();
    if (status === "starting") {
      this.dialogs.handle(screen);
      return;
    }
    if (status !== "busy" && status !== "waiting") return;
    switch (screen.kind) {
      case "question":
        this.clearSettle();
        if (status !== "waiting") this.ctx.setStatus("waiting", { reason: `Claude Code asks: ${screen.detail}` });
        break;
      case "busy":
        this.clearSettle();
        if (status === "waiting") this.ctx.setStatus("busy");
        break;
      case "prompt":
        // The Stop hook normally says this first; wait for it a moment before trusting the screen.
        this.settleTimer ??= setTimeout(() => {
          this.settleTimer = undefined;
          void this.confirmSettled();
        }, SETTLE_MS);
        break;
      default:
        this.clearSettle();
    }
  }

  private async confirmSettled(): Promise<void> {
    if (this.disposed || (this.ctx.status() !== "busy" && this.ctx.status() !== "waiting")) return;
    const text = await this.ctx.pane.capture().catch(() => "");
    const screen = classifyScreen(text);
    if (this.disposed || screen.kind !== "prompt") return;
    const status = this.ctx.status();
    if (status !== "busy" && status !== "waiting") return;
    const ended = this.endedTurn;
    if (ended && !screen.interrupted) {
      // Our Stop came before another process's "busy" was adopted: that turn is over, with the reply the hook gave.
      this.ctx.logger.debug({ from: status }, "the screen shows the turn whose Stop this process saw is over");
      this.ctx.setStatus("idle", { turn: "stop", ...(ended.lastReply !== undefined ? { lastReply: ended.lastReply } : {}) });
      return;
    }
    // A Claude Code that printed a usage limit without a StopFailure hook (older releases): the screen says until when.
    const limit = limitOnScreen(text);
    if (limit) {
      this.ctx.setStatus("limited", { turn: "failure", ...limit });
      return;
    }
    this.ctx.logger.debug({ from: status, interrupted: screen.interrupted }, "the screen shows the turn ended without a Stop hook");
    this.ctx.setStatus("idle", { turn: "interrupt", reason: screen.interrupted ? "the turn was interrupted (Esc)" : "the turn ended without a Stop hook (interrupted?)" });
  }

  private clearSettle(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
  }
}

function failureReason(error: string | undefined, message: string | undefined): string {
  const kind = error ?? "unknown";
  return message ? `${kind}: ${message}` : `the turn failed (${kind})`;
}
