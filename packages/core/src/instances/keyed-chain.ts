/**
 * Per-key FIFO of async tasks in this process: a task starts once every
 * earlier task of its key settled (whether it succeeded or failed). Used for
 * an instance's messages (their order is the order of the calls) and for its
 * record writes (persisted in the order they happened).
 */
export class KeyedChain {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }

  /** Settles once every task of `key` queued so far settled. */
  idle(key: string): Promise<void> {
    return this.tails.get(key) ?? Promise.resolve();
  }

  /** Settles once every task queued so far, of every key, settled. */
  all(): Promise<void> {
    return Promise.allSettled([...this.tails.values()]).then(() => undefined);
  }
}
