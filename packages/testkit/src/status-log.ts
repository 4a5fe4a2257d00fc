import type { InstanceRecord, InstanceStatus, Kernel } from "@tmux-claude/core";

type Change = { id: string; from: InstanceStatus; to: InstanceStatus; reason?: string; at: number; record: InstanceRecord };

export interface StatusLog {
  /** Every status change of every instance the kernel's statusChange hook fired, in order. */
  changes: Change[];
  /**
   * The record once `accept(status)` holds. Without `since`: now (the record as read) or on a later
   * change. With `since`: only on a change logged since that index, i.e. once the hook fired for it
   * (the kernel fires statusChange after the change is written, so a read may see it first).
   * Rejects after `timeoutMs`.
   */
  waitFor(id: string, accept: (status: InstanceStatus) => boolean, timeoutMs?: number, since?: number): Promise<InstanceRecord>;
  /** Resolves once `holds(changes)` is true (checked now and after each change); rejects after `timeoutMs` with what was logged. */
  until(holds: (changes: Change[]) => boolean, timeoutMs?: number): Promise<void>;
}

/** Records a kernel's status changes (its statusChange hook) and waits on them: no polling. */
export function statusLog(kernel: Kernel): StatusLog {
  const changes: Change[] = [];
  const listeners = new Set<() => void>();
  kernel.hooks.statusChange.tap("test-status-log", (change) => {
    changes.push({ id: change.instance.id, from: change.from, to: change.to, reason: change.reason, at: Date.now(), record: change.instance });
    for (const listener of [...listeners]) listener();
  });
  function until(holds: (logged: Change[]) => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!holds(changes)) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`the status log did not reach the expected state after ${timeoutMs} ms; logged: ${changes.map((c) => `${c.id} ${c.from}->${c.to}`).join(", ")}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  }
  return {
    changes,
    until,
    waitFor(id, accept, timeoutMs = 10_000, since) {
      if (since !== undefined) {
        const found = () => changes.slice(since).find((c) => c.id === id && accept(c.to));
        return until(() => found() !== undefined, timeoutMs).then(
          () => found()!.record,
          async () => {
            throw new Error(`instance ${id} is still ${(await kernel.get(id)).status} after ${timeoutMs} ms`);
          },
        );
      }
      return new Promise<InstanceRecord>((resolve, reject) => {
        const waiter = (record: InstanceRecord) => {
          if (record.id !== id || !accept(record.status)) return;
          listeners.delete(onChange);
          clearTimeout(timer);
          resolve(record);
        };
        const onChange = () => waiter(changes.at(-1)!.record);
        const timer = setTimeout(() => {
          listeners.delete(onChange);
          void kernel.get(id).then(
            (record) => reject(new Error(`instance ${id} is still ${record.status} after ${timeoutMs} ms`)),
            (error: unknown) => reject(error),
          );
        }, timeoutMs);
        listeners.add(onChange);
        void kernel.get(id).then(waiter, () => undefined);
      });
    },
  };
}
