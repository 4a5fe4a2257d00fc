import { randomUUID } from "node:crypto";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord, Progress } from "../store/types.js";
import type { ManagerDeps } from "./deps.js";
import { KeyedChain } from "./keyed-chain.js";
import { requireRecord } from "./lookups.js";
import { checkProgress, sameProgress, type ProgressInput } from "./progress.js";
import type { Registry } from "./registry.js";

/**
 * Writes an instance's progress (kernel.setProgress, an adapter's report) and
 * fires the `progress` hook once across processes: a report is written in
 * one atomic update only when it differs from the stored one, and only the
 * process whose update changed it fires. Several processes attached to the
 * same agent all see its task list change; the first to write it announces it.
 */
export class ProgressWrites {
  /** Reports of one instance are written in the order they were made. */
  private readonly chain = new KeyedChain();

  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
  ) {}

  /** Settles once the reports of `id` made so far are written (a read after a turn's end shows the task list the turn left). */
  written(id: string): Promise<void> {
    return this.chain.idle(id);
  }

  /** Check and store `input` (null: remove the progress); returns the record as stored. Bad input throws before anything is written. */
  async set(id: string, input: ProgressInput | null): Promise<InstanceRecord> {
    const checked = input === null ? undefined : checkProgress(input, `setProgress("${id}")`);
    return this.chain.run(id, async () => {
      await requireRecord(this.deps.store, id);
      let written: Progress | undefined;
      let changed = false;
      const updated = await this.deps.store.update(id, (r) => {
        changed = !sameProgress(r.progress, checked);
        if (!changed) return r;
        const { progress: _old, ...rest } = r;
        written = checked ? { ...checked, at: new Date().toISOString() } : undefined;
        return written ? { ...rest, progress: written } : rest;
      });
      if (!updated) throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `No instance "${id}" (it was removed while its progress was written).`, { id });
      const live = this.registry.get(id);
      if (live && changed) {
        const { progress: _old, ...rest } = live.record;
        live.record = written ? { ...rest, progress: written } : rest;
      }
      if (changed) {
        const event = { eventId: randomUUID(), instanceId: id, node: this.deps.nodes.id, at: new Date().toISOString(), instance: updated, progress: written ?? null };
        await this.deps.hooks.progress.promise(event).catch((error: unknown) => this.deps.logger.error({ err: error, instance: id }, "a progress tap failed"));
      }
      return updated;
    });
  }
}
