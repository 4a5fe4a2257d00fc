import path from "node:path";
import { ErrorCodes, jsonlEvidence, PasteModeTracker, TmuxClaudeError, type AgentDriver, type DriverContext, type SubmissionEvidence, type TokenUsage } from "@tmux-claude/core";
import { claudeInputText, hasVisibleText } from "./input-text.js";
import { EventLog, type HookEvent } from "./events.js";
import { limitInReply, limitOnScreen, limitReport } from "./limits.js";
import { EVENTS_FILE, SETTINGS_FILE } from "./launch.js";
import { bypassesPermissions, type ClaudeAgentOptions } from "./options.js";
import { boxShows, classifyScreen, draftText, enterBecameLineBreak, inputBox, type ScreenState } from "./screen.js";
import { readState, type ClaudeAgentState } from "./state.js";
import { TranscriptUsage } from "./transcript.js";

/** A screen look happens at most this long after output, while the status is one the screen can correct. */
const CHECK_DELAY_MS = 200;
/** A running turn whose screen shows the idle input box this long without a Stop hook has ended (Esc fires no hook). */
const SETTLE_MS = 1_000;
/**
 * A startup dialog is answered only after its screen was still this long:
 * right after it appears it re-renders once (resetting its cursor), and
 * Claude Code's dialogs ignore keys that come too soon. Measured: ~150 ms.
 */
const DIALOG_QUIET_MS = 400;
/** Enter presses for one submission (each after a line break was taken back, or after one was lost). */
const MAX_ENTER_KEYS = 4;
/**
 * An Enter after which the box still shows the text this long, with no
 * receipt, was lost (seen once in 100 pastes under CI load: Claude Code still
 * taking in a long paste): it is pressed again. A submitted prompt empties the
 * box at once, so a second Enter can only reach an empty box, where it does nothing.
 */
const ENTER_LOST_MS = 2_000;
/** While waiting on the screen (only during a submission or a dialog), it is also looked at this often without output. */
const SLOW_LOOK_MS = 1_000;
/** Ctrl+U and Backspace presses to empty a multi-line draft, and how long each pair may take to show. */
const MAX_CLEAR_KEYS = 8;
const CLEAR_WAIT_MS = 1_000;
/** How long `usage` waits for the transcript to hold the last reply. */
const TRANSCRIPT_LAG_MS = 2_000;
/** Claude Code up without its SessionStart hook for this long means its hooks cannot run. */
const HOOKLESS_MS = 10_000;
/** Keys pressed to answer one dialog before giving up (the spawn then times out with the dialog quoted). */
const MAX_DIALOG_KEYS = 12;

/** Notification types that mean the agent stopped to ask a person something. */
const WAITING_NOTIFICATIONS = new Set(["permission_prompt", "elicitation_dialog", "elicitation_url_dialog", "worker_permission_prompt", "agent_needs_input"]);
/** SessionEnd reasons after which the same process goes on with another session (a SessionStart follows). */
const SESSION_CONTINUES = new Set(["clear", "resume"]);

interface PromptWaiter {
  resolve: (prompt: string) => void;
  reject: (reason: unknown) => void;
}

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
  private readonly promptWaiters: PromptWaiter[] = [];
  private sessionId: string | undefined;
  private launchId: string | undefined;
  private transcripts: string[];
  private stopOutput: (() => void) | undefined;
  private pasteMode: PasteModeTracker | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private checkAgain = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private dialogTimer: NodeJS.Timeout | undefined;
  private dialogKeys = 0;
  private hooklessTimer: NodeJS.Timeout | undefined;
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
  /** The directory whose trust covers this instance's workDir (see ClaudeAgentState.trustedOrigin). */
  private readonly trustedOrigin: string | undefined;
  readonly evidence: SubmissionEvidence;

  constructor(
    private readonly ctx: DriverContext,
    private readonly options: ClaudeAgentOptions,
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
    this.trustedOrigin = state.trustedOrigin;
    this.events = new EventLog(path.join(ctx.instanceDir, EVENTS_FILE), state.eventsOffset ?? 0, (events, offset) => this.apply(events, offset), ctx.logger);
  }

  async start(): Promise<void> {
    this.stopOutput = this.ctx.pane.onOutput(() => this.onOutput());
    // Watched from its first byte when starting; a kernel re-attaching finds Claude Code long up, paste mode on.
    this.pasteMode = new PasteModeTracker(this.ctx.pane, this.ctx.status() !== "starting");
    // Attached means caught up: hooks that fired while no kernel watched are applied before this returns.
    await this.events.start();
    // A kernel re-attaching finds the agent as it is now: look once, in case the hooks cannot tell.
    if (this.screenMatters()) this.scheduleCheck();
  }

  // Text left in the box by a cut-off attempt is cleared by every submit (clearDraft), so `retyping` needs nothing more.
  async submit(message: string, signal: AbortSignal): Promise<void> {
    const text = claudeInputText(message);
    if (!hasVisibleText(text)) {
      throw new TmuxClaudeError(
        ErrorCodes.EMPTY_TEXT,
        `The message to "${this.ctx.instanceId}" holds nothing Claude Code keeps (only blank space, control, format, bidirectional or unassigned characters), so it would never become a prompt. Send visible text.`,
        { id: this.ctx.instanceId },
      );
    }
    // Typed before Claude Code turns bracketed paste on, each line break of a paste would submit.
    await this.pasteMode?.whenOn(signal);
    await this.clearDraft(signal);
    const before = inputBox(await this.ctx.pane.capture());
    // Enter pressed while Claude Code still takes in the text is lost (or becomes a line break): press it once the box shows the text.
    const landed = this.untilScreen((screen) => boxShows(screen, text, before), signal);
    const accepted = this.nextPrompt(signal);
    // A built-in command (`/clear`, `/model`) is no prompt and fires no UserPromptSubmit: its receipt is the emptied input box.
    let command: { promise: Promise<void>; stop: () => void } | undefined;
    try {
      await this.ctx.pane.sendText(text);
      await landed.promise;
      command = /^\s*\//u.test(text) ? this.untilScreen((screen) => inputBox(screen) === before, signal) : undefined;
      const received = command ? Promise.race([accepted.promise, command.promise.then(() => undefined)]) : accepted.promise;
      await this.pressEnter(text, before, received, signal);
      const prompt = await received;
      if (prompt === undefined) {
        this.cancelPrompt(accepted.waiter, new Error("accepted as a command"));
      } else if (submittedText(prompt) !== typedText(text)) {
        this.ctx.logger.warn({ sent: text.slice(0, 200), submitted: prompt.slice(0, 200) }, "Claude Code submitted a prompt that differs from the text sent");
      }
    } catch (error) {
      landed.stop();
      this.cancelPrompt(accepted.waiter, error);
      throw error;
    } finally {
      command?.stop();
    }
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
    this.pasteMode?.dispose();
    clearTimeout(this.checkTimer);
    clearTimeout(this.settleTimer);
    clearTimeout(this.dialogTimer);
    clearTimeout(this.hooklessTimer);
    for (const waiter of this.promptWaiters.splice(0)) waiter.reject(new Error("the driver was disposed"));
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
      const status = this.ctx.status();
      if (status === "starting" || payload.source === "clear") this.ctx.setStatus("idle");
      return;
    }
    if (payload.session_id !== this.sessionId) {
      log.debug({ event: event.event, session: payload.session_id, current: this.sessionId }, "ignored a hook event of another session");
      return;
    }
    switch (event.event) {
      case "UserPromptSubmit":
        this.clearSettle();
        this.endedTurn = undefined;
        this.ctx.setStatus("busy");
        this.promptWaiters.shift()?.resolve(payload.prompt ?? "");
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
      case "SessionEnd":
        if (!SESSION_CONTINUES.has(payload.reason ?? "")) this.ctx.setStatus("exited", { reason: `Claude Code ended the session (${payload.reason ?? "no reason given"})` });
        break;
      default:
        log.debug({ event: event.event }, "ignored a hook event");
    }
  }

  /**
   * Press Enter to submit. An Enter that reaches Claude Code while it redraws
   * (seen right after the folder-trust dialog) becomes a line break in the box
   * instead: then that blank line is deleted and Enter pressed again. One that
   * left the text in the box untouched for ENTER_LOST_MS was lost: pressed
   * again. The receipt ends the watch.
   */
  private async pressEnter(text: string, before: string, received: Promise<unknown>, signal: AbortSignal): Promise<void> {
    let submitted = false;
    void received.then(
      () => (submitted = true),
      () => undefined,
    );
    for (let attempt = 0; attempt < MAX_ENTER_KEYS; attempt++) {
      const broke = this.untilScreen((screen) => enterBecameLineBreak(screen, text), signal);
      const waited = AbortSignal.any([signal, AbortSignal.timeout(ENTER_LOST_MS)]);
      await this.ctx.pane.sendKey("Enter");
      const outcome = await Promise.race([
        received.then(() => "received" as const),
        broke.promise.then(() => "line break" as const),
        new Promise<"waited">((resolve) => waited.addEventListener("abort", () => resolve("waited"), { once: true })),
      ]);
      broke.stop();
      if (outcome === "received" || submitted) return;
      signal.throwIfAborted();
      if (outcome === "waited") {
        const screen = await this.ctx.pane.capture();
        if (submitted) return;
        if (!enterBecameLineBreak(screen, text)) {
          // The box changed: submitted, its receipt still to come (the caller waits for it within sendTimeout).
          if (!boxShows(screen, text, before)) return;
          this.ctx.logger.warn({ attempt, waitedMs: ENTER_LOST_MS }, "Enter left the text in Claude Code's input box; pressing it again");
          continue;
        }
      }
      this.ctx.logger.debug({ attempt }, "Enter became a line break in the input box; deleting it and pressing Enter again");
      const restored = this.untilScreen((screen) => !enterBecameLineBreak(screen, text), signal);
      await this.ctx.pane.sendKey("BSpace");
      await restored.promise;
    }
  }

  /**
   * Empty the input box before typing: after an Esc it holds the interrupted
   * prompt, and text typed after it would be sent as one prompt with it.
   * Ctrl+U deletes a line of it, Backspace the line break before it; in an empty box both do nothing.
   */
  private async clearDraft(signal: AbortSignal): Promise<void> {
    let draft = draftText(await this.ctx.pane.capture());
    for (let attempt = 0; draft && attempt < MAX_CLEAR_KEYS; attempt++) {
      this.ctx.logger.debug({ draft: draft.slice(0, 200) }, "clearing a draft from the input box");
      const before = draft;
      const cleared = this.untilScreen((screen) => draftText(screen) !== before, AbortSignal.any([signal, AbortSignal.timeout(CLEAR_WAIT_MS)]));
      await this.ctx.pane.sendKey("C-u");
      // Then the line break before the emptied line, so the next Ctrl+U reaches the line above.
      await this.ctx.pane.sendKey("BSpace");
      if (!(await cleared.promise.then(() => true, () => false))) break;
      draft = draftText(await this.ctx.pane.capture());
    }
  }

  /** The receipt of a submission: the next UserPromptSubmit of this session. */
  private nextPrompt(signal: AbortSignal): { promise: Promise<string>; waiter: PromptWaiter } {
    let waiter!: PromptWaiter;
    const promise = new Promise<string>((resolve, reject) => {
      const onAbort = () => this.cancelPrompt(waiter, signal.reason);
      waiter = {
        resolve: (prompt) => {
          signal.removeEventListener("abort", onAbort);
          resolve(prompt);
        },
        reject: (reason) => {
          signal.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.promptWaiters.push(waiter);
    });
    // Whoever awaits it sees the rejection; a submission that failed before awaiting it must not leave it unhandled.
    promise.catch(() => undefined);
    return { promise, waiter };
  }

  private cancelPrompt(waiter: PromptWaiter, reason: unknown): void {
    const at = this.promptWaiters.indexOf(waiter);
    if (at >= 0) this.promptWaiters.splice(at, 1);
    waiter.reject(reason);
  }

  // ----------------------------------------------------------------- screen

  /** Resolves once the screen satisfies `test`, looking only when output arrived (at most one look at a time). */
  private untilScreen(test: (screen: string) => boolean, signal: AbortSignal): { promise: Promise<void>; stop: () => void } {
    let stop = () => {};
    const promise = new Promise<void>((resolve, reject) => {
      let looking = false;
      let again = false;
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        stopOutput();
        signal.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const look = () => {
        if (done) return;
        if (looking) {
          again = true;
          return;
        }
        looking = true;
        again = false;
        void this.ctx.pane
          .capture()
          .then((screen) => {
            if (test(screen)) finish();
          })
          .catch((error: unknown) => finish(error))
          .finally(() => {
            looking = false;
            if (again) look();
          });
      };
      const onAbort = () => finish(signal.reason);
      const stopWatching = this.ctx.pane.onOutput(look);
      // Output is the trigger; a slow look as well bounds the wait should the screen settle between looks unseen.
      const slowLook = setInterval(look, SLOW_LOOK_MS);
      const stopOutput = () => {
        stopWatching();
        clearInterval(slowLook);
      };
      stop = () => finish(new Error("stopped"));
      if (signal.aborted) return finish(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    promise.catch(() => undefined);
    return { promise, stop };
  }

  private screenMatters(): boolean {
    const status = this.ctx.status();
    return status === "starting" || status === "busy" || status === "waiting";
  }

  private onOutput(): void {
    if (this.dialogTimer) this.armDialogAnswer();
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
      this.startup(screen);
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

  // ---------------------------------------------------------------- startup

  /** Before SessionStart: answer the dialogs the config says to answer, fail loudly on the others. */
  private startup(screen: ScreenState): void {
    const agent = this.ctx.record().agent;
    const workDir = this.ctx.record().workDir;
    switch (screen.kind) {
      case "trust-dialog":
        if (!this.options.trustWorkDir && !this.trustedOrigin) {
          this.ctx.setStatus("waiting", {
            reason: `Claude Code asks whether to trust the folder ${workDir}. Set agents.${agent}.trustWorkDir to true to answer yes, or run claude in that folder once and trust it`,
          });
        } else {
          this.answerDialog(screen.selected === "yes");
        }
        break;
      case "bypass-dialog":
        if (!bypassesPermissions(this.options)) {
          this.ctx.setStatus("waiting", {
            reason: `Claude Code asks to confirm Bypass Permissions mode, which agents.${agent} did not ask for (its args may). Set agents.${agent}.skipPermissions to true to run that way, or remove the flag`,
          });
        } else {
          this.answerDialog(screen.selected === "accept");
        }
        break;
      case "api-key-dialog":
        this.ctx.setStatus("waiting", {
          reason: `Claude Code asks whether to use the API key in ANTHROPIC_API_KEY. Run claude once and answer yes (it remembers the key), or remove the key from agents.${agent}.env`,
        });
        break;
      case "login":
        this.ctx.setStatus("error", { reason: `Claude Code is not logged in (${screen.detail}). Run claude once and log in, or give ANTHROPIC_API_KEY in agents.${agent}.env` });
        break;
      case "unreachable":
        this.ctx.setStatus("error", { reason: `Claude Code cannot reach the Anthropic API (${screen.detail}). Check the network, proxy or ANTHROPIC_BASE_URL` });
        break;
      case "prompt":
        // Claude Code is up; its SessionStart hook is a moment behind. If it never comes, the hooks cannot run: say so.
        this.hooklessTimer ??= setTimeout(() => {
          if (this.disposed || this.ctx.status() !== "starting") return;
          this.ctx.setStatus("error", {
            reason: `Claude Code shows its prompt, but its SessionStart hook did not arrive within ${HOOKLESS_MS / 1000} s: hooks may be disabled (disableAllHooks in your Claude settings) or its hook command cannot run (see the hooks in ${path.join(this.ctx.instanceDir, SETTINGS_FILE)})`,
          });
        }, HOOKLESS_MS);
        break;
      default:
        clearTimeout(this.dialogTimer);
        this.dialogTimer = undefined;
    }
  }

  /**
   * Move the dialog's cursor to its second option ("Yes, I trust this folder",
   * "Yes, I accept") and confirm it once the dialog is still. Each key is
   * followed by a look at the screen, so a re-render that resets the cursor is
   * seen before Enter is pressed.
   */
  private answerDialog(onYes: boolean): void {
    if (this.dialogKeys >= MAX_DIALOG_KEYS) return;
    if (!onYes) {
      clearTimeout(this.dialogTimer);
      this.dialogTimer = undefined;
      this.pressDialogKey("Down");
      return;
    }
    this.armDialogAnswer();
  }

  /** (Re)start the quiet period after which the dialog is looked at and, if still on yes, confirmed. */
  private armDialogAnswer(): void {
    clearTimeout(this.dialogTimer);
    this.dialogTimer = setTimeout(() => {
      this.dialogTimer = undefined;
      void this.ctx.pane
        .capture()
        .then((text) => {
          const screen = classifyScreen(text, { startup: true });
          if (this.disposed || this.ctx.status() !== "starting") return;
          const onYes = (screen.kind === "trust-dialog" && screen.selected === "yes") || (screen.kind === "bypass-dialog" && screen.selected === "accept");
          if (onYes) this.pressDialogKey("Enter");
          else this.reconcile(screen);
        })
        .catch((error: unknown) => this.ctx.logger.debug({ err: error }, "screen capture failed"));
    }, DIALOG_QUIET_MS);
  }

  private pressDialogKey(key: string): void {
    this.dialogKeys += 1;
    this.ctx.logger.debug({ key, count: this.dialogKeys }, "answering a startup dialog");
    void this.ctx.pane.sendKey(key).catch((error: unknown) => this.ctx.logger.debug({ err: error }, "could not press a key"));
    // Look again only after the quiet period: soon enough to see a reset cursor, late enough not to press twice for one render.
    // A key the dialog ignored makes no output, so this look is also the retry.
    clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
    this.scheduleCheck(DIALOG_QUIET_MS);
  }
}

const PASTED = /^\s*<pasted_content id="([^"]+)">\n([\s\S]*)\n<\/pasted_content id="\1">\s*$/u;

/** The text of a submitted prompt: Claude Code wraps a long paste in `<pasted_content>` tags. */
export function submittedText(prompt: string): string {
  return typedText(PASTED.exec(prompt)?.[2] ?? prompt);
}

/** Text as Claude Code's input box keeps it: CR LF as LF, tabs as four spaces, no surrounding blank space. */
export function typedText(text: string): string {
  return text.replace(/\r\n?/gu, "\n").replaceAll("\t", "    ").trim();
}

function failureReason(error: string | undefined, message: string | undefined): string {
  const kind = error ?? "unknown";
  return message ? `${kind}: ${message}` : `the turn failed (${kind})`;
}
