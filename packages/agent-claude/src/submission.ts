import { ErrorCodes, PasteModeTracker, TmuxClaudeError, type DriverContext } from "@tmux-claude/core";
import { claudeInputText, hasVisibleText } from "./input-text.js";
import { boxShows, draftText, enterBecameLineBreak, inputBox } from "./screen.js";

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

interface PromptWaiter {
  resolve: (prompt: string) => void;
  reject: (reason: unknown) => void;
}

/**
 * Types a message into Claude Code's input box and submits it, until Claude
 * Code confirms the prompt (its UserPromptSubmit hook, which the driver hands
 * to `received`) or, for a built-in command, empties the box.
 */
export class PromptSubmission {
  private readonly promptWaiters: PromptWaiter[] = [];
  private pasteMode: PasteModeTracker | undefined;

  constructor(private readonly ctx: DriverContext) {}

  start(): void {
    // Watched from its first byte when starting; a kernel re-attaching finds Claude Code long up, paste mode on.
    this.pasteMode = new PasteModeTracker(this.ctx.pane, this.ctx.status() !== "starting");
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
    const landed = untilScreen(this.ctx.pane, (screen) => boxShows(screen, text, before), signal);
    const accepted = this.nextPrompt(signal);
    // A built-in command (`/clear`, `/model`) is no prompt and fires no UserPromptSubmit: its receipt is the emptied input box.
    let command: { promise: Promise<void>; stop: () => void } | undefined;
    try {
      await this.ctx.pane.sendText(text);
      await landed.promise;
      command = /^\s*\//u.test(text) ? untilScreen(this.ctx.pane, (screen) => inputBox(screen) === before, signal) : undefined;
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

  /** The receipt of the oldest submission still waiting: this session's UserPromptSubmit. */
  received(prompt: string): void {
    this.promptWaiters.shift()?.resolve(prompt);
  }

  dispose(): void {
    this.pasteMode?.dispose();
    for (const waiter of this.promptWaiters.splice(0)) waiter.reject(new Error("the driver was disposed"));
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
      const broke = untilScreen(this.ctx.pane, (screen) => enterBecameLineBreak(screen, text), signal);
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
      const restored = untilScreen(this.ctx.pane, (screen) => !enterBecameLineBreak(screen, text), signal);
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
      const cleared = untilScreen(this.ctx.pane, (screen) => draftText(screen) !== before, AbortSignal.any([signal, AbortSignal.timeout(CLEAR_WAIT_MS)]));
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
}

/** Resolves once the screen satisfies `test`, looking only when output arrived (at most one look at a time). */
function untilScreen(pane: DriverContext["pane"], test: (screen: string) => boolean, signal: AbortSignal): { promise: Promise<void>; stop: () => void } {
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
      void pane
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
    const stopWatching = pane.onOutput(look);
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

const PASTED = /^\s*<pasted_content id="([^"]+)">\n([\s\S]*)\n<\/pasted_content id="\1">\s*$/u;

/** The text of a submitted prompt: Claude Code wraps a long paste in `<pasted_content>` tags. */
export function submittedText(prompt: string): string {
  return typedText(PASTED.exec(prompt)?.[2] ?? prompt);
}

/** Text as Claude Code's input box keeps it: CR LF as LF, tabs as four spaces, no surrounding blank space. */
export function typedText(text: string): string {
  return text.replace(/\r\n?/gu, "\n").replaceAll("\t", "    ").trim();
}
