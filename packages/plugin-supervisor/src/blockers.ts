import { ErrorCodes, isTmuxClaudeError, type InstanceRecord, type PluginContext } from "@tmux-claude/core";

/** The supervisor's state on an instance (`pluginState.supervisor`): the blocking episode its parent was told of. */
export interface BlockerState {
  blocker?: {
    /** Why, as last told. */
    why: string;
    /** When the episode began (its first claim). */
    since: string;
    /** Who was told: the parent's id, or null (the root: a notice). */
    told: string | null;
    /** The kinds told in this episode (the blocked status: waiting, error, limited; busy for stalled): one message each. */
    kinds?: string[];
  };
}

/**
 * Tells the parent of a blocked instance, once per blocking episode and
 * kind (a stall that turns into a question is told again: the question is
 * what someone can act on): a queued message (it never interrupts the
 * parent), or, for a top-level instance (the root has no inbox), a notice
 * (`ctx.notice`, kind `blocked`). Each (episode, kind) is claimed in the
 * store (`ctx.state`, an atomic update), so of the processes that see it
 * only one tells; the episode ends when the instance is neither blocked nor
 * stalled any more.
 */
export class Blockers {
  constructor(private readonly ctx: PluginContext) {}

  /** `record` carries the blocked status (busy: stalled), which is the kind. */
  async blocked(record: InstanceRecord, why: string): Promise<void> {
    const kind = record.status;
    const now = new Date().toISOString();
    let since = now;
    let claimed = false;
    await this.ctx.state<BlockerState>(record.id).update((state) => {
      // The updater may run more than once: the last run tells.
      const episode = state?.blocker;
      const kinds = episode?.kinds ?? [];
      claimed = !kinds.includes(kind);
      since = episode?.since ?? now;
      return claimed ? { ...state, blocker: { why, since, told: record.parentId, kinds: [...kinds, kind] } } : state!;
    });
    if (claimed) await this.tell(record, why, since);
  }

  /** This process's claim of the kind it could not tell is given back, so a later process tells (the episode goes on). */
  private async release(id: string, kind: string): Promise<void> {
    await this.ctx.state<BlockerState>(id).update((state) => {
      const episode = state?.blocker;
      if (!episode?.kinds?.includes(kind)) return state!;
      const kinds = episode.kinds.filter((k) => k !== kind);
      if (kinds.length) return { ...state, blocker: { ...episode, kinds } };
      const { blocker: _blocker, ...rest } = state!;
      return rest;
    });
  }

  /** The instance is neither blocked nor stalled: its episode is over (a later one is told again). */
  async unblocked(id: string): Promise<void> {
    const state = this.ctx.state<BlockerState>(id);
    if (!(await state.get())?.blocker) return;
    await state.update(({ blocker: _blocker, ...rest } = {}) => rest);
  }

  private async tell(record: InstanceRecord, why: string, since: string): Promise<void> {
    const text = blockerMessage(record, why);
    if (record.parentId) {
      try {
        await this.ctx.kernel.send(record.parentId, text, { whenBusy: "queue" }, null);
        this.ctx.logger.info({ instance: record.id, parent: record.parentId, why }, "told the parent of a blocked instance");
        return;
      } catch (error) {
        if (isTmuxClaudeError(error, ErrorCodes.KERNEL_STATE)) {
          // This process is closing (serve stopping): not the parent's fault. The next process that starts tells.
          this.ctx.logger.info({ instance: record.id, parent: record.parentId }, "closing before the parent of a blocked instance was told; the next process tells it");
          await this.release(record.id, record.status);
          return;
        }
        // A parent that is gone or unreachable: a person hears of it instead.
        this.ctx.logger.warn({ err: error, instance: record.id, parent: record.parentId }, "could not tell the parent of a blocked instance; raising a notice");
      }
    }
    await this.ctx.notice({
      kind: "blocked",
      severity: "warning",
      title: text,
      instanceId: record.id,
      eventId: `blocked-${record.id}-${Date.parse(since)}-${record.status}`,
      data: { why, since, parentId: record.parentId },
    });
  }
}

/** What the parent reads: which child, why, and what to do. */
export function blockerMessage(record: Pick<InstanceRecord, "id" | "role" | "status">, why: string): string {
  const { id } = record;
  const read = `tmux-claude read ${id} (MCP: read)`;
  const advice: Record<string, string> = {
    waiting: `Read its question: ${read}, then answer it: tmux-claude send ${id} "<answer>" (MCP: send).`,
    error: `Read what went wrong: ${read}; send it a message to go on, or restart or terminate it.`,
    limited: `It goes on after the reset when limits.usage.resumeOnReset is on, or when sent a message then; nothing to do unless the work cannot wait.`,
    busy: `Nothing was typed into it. Look at its screen: ${read}; then wait, send it a message, or restart or terminate it.`,
  };
  return `[supervisor] ${id} (${record.role}) is blocked: ${why}. ${advice[record.status] ?? `Look at it: ${read}.`} (You are told once until it is unblocked.)`;
}
