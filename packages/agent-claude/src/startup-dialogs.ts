import path from "node:path";
import type { DriverContext } from "@tmux-claude/core";
import { SETTINGS_FILE } from "./launch.js";
import { bypassesPermissions, type ClaudeAgentOptions } from "./options.js";
import { classifyScreen, type ScreenState } from "./screen.js";

/**
 * A startup dialog is answered only after its screen was still this long:
 * right after it appears it re-renders once (resetting its cursor), and
 * Claude Code's dialogs ignore keys that come too soon. Measured: ~150 ms.
 */
const DIALOG_QUIET_MS = 400;
/** Claude Code up without its SessionStart hook for this long means its hooks cannot run. */
const HOOKLESS_MS = 10_000;
/** Keys pressed to answer one dialog before giving up (the spawn then times out with the dialog quoted). */
const MAX_DIALOG_KEYS = 12;

/**
 * What Claude Code shows before its SessionStart hook: the startup dialogs the
 * config says to answer are answered, the others (and a Claude Code whose hooks
 * never run) become a status that says what to do.
 */
export class StartupDialogs {
  private dialogTimer: NodeJS.Timeout | undefined;
  private dialogKeys = 0;
  private hooklessTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  /**
   * @param trustedOrigin The directory whose trust covers this instance's workDir (see ClaudeAgentState.trustedOrigin).
   * @param lookAgainAfter Have the driver look at the screen once after this delay (and not sooner).
   */
  constructor(
    private readonly ctx: DriverContext,
    private readonly options: ClaudeAgentOptions,
    private readonly trustedOrigin: string | undefined,
    private readonly lookAgainAfter: (delayMs: number) => void,
  ) {}

  /** Output while an answer waits for the dialog to be still: the quiet period starts again. */
  onOutput(): void {
    if (this.dialogTimer) this.armDialogAnswer();
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.dialogTimer);
    clearTimeout(this.hooklessTimer);
  }

  /** Before SessionStart: answer the dialogs the config says to answer, fail loudly on the others. */
  handle(screen: ScreenState): void {
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
          else this.handle(screen);
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
    this.lookAgainAfter(DIALOG_QUIET_MS);
  }
}
