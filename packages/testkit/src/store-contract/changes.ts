/** A store's change feed as the contract's watch cases read it: every change seen, and a wait for one that matches. */
import type { StateStore, StoreChange, StoreWatch } from "@tmux-claude/core";

export interface ChangeLog {
  readonly watch: StoreWatch;
  /** Every change reported so far (a case may empty it). */
  readonly seen: StoreChange[];
  /** Resolves once a change matching `test` was seen (also one seen before the call); rejects after `timeoutMs`. */
  saw(test: (change: StoreChange) => boolean, timeoutMs?: number): Promise<void>;
}

export function changeLog(store: StateStore): ChangeLog {
  const seen: StoreChange[] = [];
  let wake: (() => void) | undefined;
  const watch = store.watch((change) => {
    seen.push(change);
    wake?.();
  });
  return {
    watch,
    seen,
    saw: (test, timeoutMs = 5_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no such change within ${timeoutMs} ms among ${JSON.stringify(seen)}`)), timeoutMs);
        const check = () => {
          if (!seen.some(test)) return;
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        wake = check;
        check();
      }),
  };
}
