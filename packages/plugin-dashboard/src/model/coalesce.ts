// What the live model and the runs feed share: reading again on a change
// feed without piling reads up, and telling subscribers without letting one
// that throws stop the others.
import type { Logger } from "@tmux-claude/core";

/**
 * Runs `read` one at a time: a change reported during a read makes exactly
 * one more read after it (never alongside, where a slower, staler read could
 * finish last and win), so the result converges on the latest state.
 */
export class CoalescedRead {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly read: () => Promise<void>,
    private readonly failed: (error: unknown) => void,
    private readonly closed: () => boolean,
  ) {}

  schedule(): void {
    if (this.closed()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.read()
      .catch(this.failed)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
  }

  /** Resolves once every change scheduled so far is read. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }
}

export function emitTo<M>(listeners: Iterable<(message: M) => void>, logger: Logger, message: M): void {
  for (const listener of listeners) {
    try {
      listener(message);
    } catch (error) {
      logger.warn({ err: error }, "dashboard: a subscriber failed");
    }
  }
}
