import type { InstanceRecord, InstanceStatus, Kernel } from "@tmux-claude/core";

export interface StatusLog {
  /** Every status change of every instance, in order. */
  changes: { id: string; from: InstanceStatus; to: InstanceStatus; reason?: string; at: number; record: InstanceRecord }[];
  /**
   * The record once `accept(status)` holds: now, on a later change, or on a change
   * logged since index `since` (for a change that may beat the call). Rejects after `timeoutMs`.
   */
  waitFor(id: string, accept: (status: InstanceStatus) => boolean, timeoutMs?: number, since?: number): Promise<InstanceRecord>;
}

/** Records a kernel's status changes (its statusChange hook) and waits on them: no polling. */
export function statusLog(kernel: Kernel): StatusLog {
  const changes: StatusLog["changes"] = [];
  const waiters = new Set<(record: InstanceRecord) => void>();
  kernel.hooks.statusChange.tap("test-status-log", (change) => {
    changes.push({ id: change.instance.id, from: change.from, to: change.to, reason: change.reason, at: Date.now(), record: change.instance });
    for (const waiter of [...waiters]) waiter(change.instance);
  });
  return {
    changes,
    waitFor(id, accept, timeoutMs = 10_000, since) {
      return new Promise<InstanceRecord>((resolve, reject) => {
        const seen = since === undefined ? undefined : changes.slice(since).find((c) => c.id === id && accept(c.to));
        if (seen) {
          resolve(seen.record);
          return;
        }
        const waiter = (record: InstanceRecord) => {
          if (record.id !== id || !accept(record.status)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          resolve(record);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          void kernel.get(id).then(
            (record) => reject(new Error(`instance ${id} is still ${record.status} after ${timeoutMs} ms`)),
            (error: unknown) => reject(error),
          );
        }, timeoutMs);
        waiters.add(waiter);
        void kernel.get(id).then(waiter, () => undefined);
      });
    },
  };
}
