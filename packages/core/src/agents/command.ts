import path from "node:path";
import { z } from "zod";
import { regexSource } from "../config/regex.js";
import type { AgentAdapter, AgentDriver, DriverContext, SubmissionEvidence, SubmitOptions } from "./adapter.js";
import { waitForOutput } from "./adapter.js";
import { jsonlEvidence } from "./submission-evidence.js";

/**
 * Options of the `command` adapter, in `agents.<name>`. Patterns are regular
 * expression sources. `readyPattern` is tested against the whole screen;
 * the others against the last non-empty line (where prompts live).
 */
export const commandAgentOptions = z.object({
  /** The agent is ready for its first input when the screen matches. */
  readyPattern: regexSource("mu").optional(),
  /** The agent is idle (its prompt is back) when the last line matches. */
  idlePattern: regexSource("u").default("[>$#%❯]\\s*$"),
  /** The agent is busy when the last line matches (default: whenever it is not idle). */
  busyPattern: regexSource("u").optional(),
  /** The agent waits for an answer (a yes/no question) when the screen matches. */
  waitingPattern: regexSource("mu").optional(),
  /** Key that submits input. */
  submitKey: z.string().min(1, 'a tmux key name such as "Enter" or "C-m"').default("Enter"),
  /**
   * An absolute path where the program appends one JSON line with a `text`
   * field for every input it accepted. With it, a queued message whose
   * delivery was cut off by a crash is not typed twice (exactly once);
   * without it, it is typed again (at least once).
   */
  inputLog: z.string().refine((value) => path.isAbsolute(value), "an absolute path").optional(),
  /** Key that empties the input line (e.g. "C-u"), pressed before typing again a message whose earlier attempt was cut off. */
  clearKey: z.string().min(1, 'a tmux key name such as "C-u"').optional(),
});

export type CommandAgentOptions = z.output<typeof commandAgentOptions>;

/** Runs any interactive CLI (bash, a REPL, aider, codex) and reads its state from the screen. */
export const commandAdapter: AgentAdapter = {
  name: "command",
  optionsSchema: commandAgentOptions,
  launch(ctx) {
    return { command: ctx.agent.command, args: [...ctx.agent.args] };
  },
  drive(ctx) {
    return new CommandDriver(ctx, commandAgentOptions.parse(ctx.agent));
  },
};

class CommandDriver implements AgentDriver {
  private readonly ready: RegExp;
  private readonly idle: RegExp;
  private readonly busy: RegExp | undefined;
  private readonly waiting: RegExp | undefined;
  private stopOutput: (() => void) | undefined;
  private evaluating = false;
  /** The screen look under way, if any (see settled). */
  private looking: Promise<void> | undefined;
  private dirty = false;
  /** While typing a submission the prompt line holds unsent text: not a state change. */
  private typing = false;
  private disposed = false;
  readonly evidence: SubmissionEvidence | undefined;

  constructor(
    private readonly ctx: DriverContext,
    private readonly options: CommandAgentOptions,
  ) {
    this.idle = new RegExp(options.idlePattern, "u");
    this.ready = new RegExp(options.readyPattern ?? options.idlePattern, "mu");
    this.busy = options.busyPattern ? new RegExp(options.busyPattern, "u") : undefined;
    this.waiting = options.waitingPattern ? new RegExp(options.waitingPattern, "mu") : undefined;
    this.evidence = options.inputLog
      ? jsonlEvidence(options.inputLog, (line, text) => typeof line === "object" && line !== null && (line as { text?: unknown }).text === text)
      : undefined;
  }

  /** Subscribe to output and look at the screen once, so the first status is known on return. */
  async start(): Promise<void> {
    this.stopOutput = this.ctx.pane.onOutput(() => this.schedule());
    await this.evaluate();
  }

  async submit(text: string, signal: AbortSignal, options: SubmitOptions = {}): Promise<void> {
    this.typing = true;
    try {
      if (options.retyping && this.options.clearKey) await this.ctx.pane.sendKey(this.options.clearKey);
      // Pipelined: the submit key below follows in the same round trip and reports a failure of the text.
      if (text.length) await this.ctx.pane.sendText(text, { pipelined: true });
      // The receipt: the program echoes the line break once it read the submit key.
      const accepted = waitForOutput(this.ctx.pane, (data) => data.includes(0x0a) || data.includes(0x0d), signal);
      // When the key cannot be pressed (tmux died), nobody awaits the receipt: its later rejection must not go unhandled.
      accepted.catch(() => undefined);
      await this.ctx.pane.sendKey(this.options.submitKey);
      await accepted;
    } catch (error) {
      this.typing = false;
      // Output that came while typing was not looked at.
      this.schedule();
      throw error;
    }
    this.typing = false;
    // Inferred: by the time this process handles the receipt, the agent may have answered already
    // (a question at once) and serve, reading the same screen, recorded that.
    this.ctx.setStatus("busy", { inferred: true });
    this.schedule();
  }

  /**
   * Waits for the screen look under way and the one more that output during it
   * asked for; no longer (an agent that prints all the time would never settle).
   */
  async settled(): Promise<void> {
    const current = this.looking;
    if (!current) return;
    await current;
    const next = this.looking;
    if (next && next !== current) await next;
  }

  dispose(): void {
    this.disposed = true;
    this.stopOutput?.();
  }

  /** The screen decides: look at it again. */
  recheck(): void {
    this.schedule();
  }

  /**
   * Look at the screen now; output that arrives while a look is under way
   * causes exactly one more look when it returns. So a burst of output costs
   * at most two captures, and the last state is never missed or delayed.
   */
  private schedule(): void {
    if (this.disposed) return;
    // A look while typing is not classified (the prompt line holds unsent text) and competes with
    // the submission for tmux: submit looks once when it is done.
    if (this.evaluating || this.typing) {
      this.dirty = true;
      return;
    }
    void this.evaluate();
  }

  private evaluate(): Promise<void> {
    const look = this.look();
    this.looking = look;
    void look.finally(() => {
      if (this.looking === look) this.looking = undefined;
    });
    return look;
  }

  private async look(): Promise<void> {
    this.evaluating = true;
    this.dirty = false;
    try {
      const screen = await this.ctx.pane.capture();
      if (!this.disposed && !this.typing) this.classify(screen);
    } catch (error) {
      // The pane vanished between the output and the capture; the exit path reports it.
      this.ctx.logger.debug({ err: error }, "screen capture failed");
    } finally {
      this.evaluating = false;
      if (this.dirty) this.schedule();
    }
  }

  private classify(screen: string): void {
    const current = this.ctx.status();
    if (current === "exited") return;
    const lastLine = screen.split("\n").filter((line) => line.trim() !== "").pop() ?? "";
    if (this.waiting?.test(screen)) {
      this.ctx.setStatus("waiting");
    } else if (current === "starting") {
      if (this.ready.test(screen)) this.ctx.setStatus("idle");
    } else if (this.busy?.test(lastLine)) {
      this.ctx.setStatus("busy");
    } else if (this.idle.test(lastLine)) {
      this.ctx.setStatus("idle");
    } else if (!this.busy) {
      this.ctx.setStatus("busy");
    }
  }
}
