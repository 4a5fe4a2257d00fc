import type { InstanceStall, InstanceStatus, KernelApi, Logger } from "@tmux-claude/core";

/**
 * Flags busy instances that went silent: no report from their adapter (for
 * Claude Code, no hook event) and no output (for adapters whose output is
 * activity; Claude Code's spinner is not) for `stallAfterMs`, or, after a
 * report that expects a silence (`quietForMs`: a shell command and its
 * timeout), for that long plus `stallAfterMs`. Runs in
 * `serve`, which is attached to every instance of its node and so sees every
 * report and output chunk (kernel.activity). One timer per busy instance,
 * re-armed (`refresh`) by its activity and cleared when it stops being busy:
 * no polling, and nothing is ever typed into the agent. The flag is a field
 * of the record (kernel.setStalled), not a status: the agent is not
 * interrupted, and its next report or output clears it.
 */
export class StallWatcher {
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; last: number; quietForMs: number }>();
  /** Instances flagged stalled (by this watcher, or found flagged at start): their next activity clears the flag. */
  private readonly flagged = new Set<string>();
  /**
   * Instances whose flag output cleared, by when: their blocker episode goes
   * on until they stay active for `stallAfterMs` (or report, or change
   * status). A trickle of output slower than the stall time (one line a
   * cycle) re-stalls first, so its parent is told once, not once a cycle.
   */
  private readonly resuming = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly kernel: KernelApi,
    private readonly stallAfterMs: number,
    private readonly logger: Logger,
    private readonly events: { stalled(id: string, stall: InstanceStall): Promise<void>; resumed(id: string): Promise<void> },
  ) {}

  /** At serve's `ready`: follow activity, and arm a timer for each instance of this node that is busy now. */
  async start(): Promise<void> {
    this.unsubscribe = this.kernel.activity(({ instanceId, status, quietForMs, source }) => this.active(instanceId, status, quietForMs ?? 0, source === "report"));
    for (const instance of await this.kernel.list()) {
      if (instance.tmux.node !== this.kernel.node) continue;
      if (instance.stalled) this.flagged.add(instance.id);
      if (instance.status === "busy") this.arm(instance.id);
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.resuming.clear();
  }

  /** A status change (statusChange): busy arms, anything else disarms; the change cleared a stall flag in its own write. */
  statusChanged(id: string, to: InstanceStatus): void {
    this.flagged.delete(id);
    // The statusChange itself ends (or re-decides) the episode.
    this.resuming.delete(id);
    if (to === "busy") this.arm(id);
    else this.disarm(id);
  }

  /**
   * Called on the output path: only timer bookkeeping here; the store is
   * written only when a flag must go. An adapter's report (a hook event) ends
   * the episode at once; output ends it once sustained for `stallAfterMs`.
   */
  private active(id: string, status: InstanceStatus, quietForMs: number, report: boolean): void {
    if (status === "busy") this.arm(id, quietForMs);
    else this.disarm(id);
    if (this.flagged.has(id)) {
      void this.clear(id, report);
      return;
    }
    const since = this.resuming.get(id);
    if (since !== undefined && (report || Date.now() - since >= this.stallAfterMs)) {
      this.resuming.delete(id);
      void this.resumed(id);
    }
  }

  /** `quietForMs`: the silence the agent said to expect from now; each activity sets it anew (0: none). */
  private arm(id: string, quietForMs = 0): void {
    if (this.stopped) return;
    const armed = this.timers.get(id);
    // The hot path (every report or counted chunk): the same delay re-arms the same timer.
    if (armed && armed.quietForMs === quietForMs) {
      armed.last = Date.now();
      armed.timer.refresh();
      return;
    }
    if (armed) clearTimeout(armed.timer);
    const timer = setTimeout(() => void this.fire(id), quietForMs + this.stallAfterMs);
    // serve stays up for its own reasons; a timer must not keep a process alive.
    timer.unref();
    this.timers.set(id, { timer, last: Date.now(), quietForMs });
  }

  private disarm(id: string): void {
    const armed = this.timers.get(id);
    if (!armed) return;
    clearTimeout(armed.timer);
    this.timers.delete(id);
  }

  private async fire(id: string): Promise<void> {
    const armed = this.timers.get(id);
    this.timers.delete(id);
    if (!armed || this.stopped) return;
    // Stalled again before it resumed for real: the same episode (its kind is claimed, so nobody is told again).
    this.resuming.delete(id);
    const stall: InstanceStall = {
      since: new Date(armed.last).toISOString(),
      why: `busy with no event from its agent and no output counted as activity for ${duration(Date.now() - armed.last)} (supervision.stallAfterMs is ${this.stallAfterMs} ms${armed.quietForMs ? `, after its agent said to expect ${duration(armed.quietForMs)} of silence` : ""})`,
    };
    try {
      // Set only while the store still has it busy and unflagged: of racing writers, one tells.
      if (!(await this.kernel.setStalled(id, stall))) return;
      this.flagged.add(id);
      this.logger.warn({ instance: id, since: stall.since }, "instance stalled");
      await this.events.stalled(id, stall);
    } catch (error) {
      this.logger.warn({ err: error, instance: id }, "could not flag a stalled instance");
    }
  }

  /** The flag goes at once (it is doing something); the episode ends now after a report, else once the activity is sustained. */
  private async clear(id: string, report: boolean): Promise<void> {
    this.flagged.delete(id);
    try {
      if (!(await this.kernel.setStalled(id, null))) return;
      if (report) await this.events.resumed(id);
      else this.resuming.set(id, Date.now());
    } catch (error) {
      this.logger.debug({ err: error, instance: id }, "could not clear a stall flag");
    }
  }

  private async resumed(id: string): Promise<void> {
    try {
      await this.events.resumed(id);
    } catch (error) {
      this.logger.debug({ err: error, instance: id }, "could not end a blocker episode");
    }
  }
}

/** 300000 -> "5m 0s", 1500 -> "1.5s". */
export function duration(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}
