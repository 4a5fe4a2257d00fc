import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Each instance's last turn end announced by this process: a drain (and
 * `read` with `wait`) waits for its taps, so a tap that holds delivery at a
 * turn end (a budget crossed, the turn cap) lands before the next queued
 * message would be typed in.
 */
export class TurnEnds {
  private readonly pending = new Map<string, Promise<void>>();
  /** The instances whose turn end's taps the current async context runs inside: they must not wait for themselves. */
  private readonly announcing = new AsyncLocalStorage<ReadonlySet<string>>();

  /** Announce a change that ended a turn: `announce` starts it (its taps run in a context that knows it); rejections are only waited for. */
  add(id: string, announce: () => Promise<void>): Promise<void> {
    const inside = new Set([...(this.announcing.getStore() ?? []), id]);
    const announcing = this.announcing.run(inside, announce);
    this.pending.set(id, announcing);
    return announcing;
  }

  /**
   * Settles once the taps of the instance's last turn end ran here, or after
   * `maxMs`. At once when called from those very taps (a tap that sends to
   * the instance, or reads it with wait): waiting would wait for itself.
   */
  settled(id: string, maxMs: number): Promise<void> {
    const pending = this.pending.get(id);
    if (!pending || this.announcing.getStore()?.has(id)) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs).unref()));
    const done = () => {
      clearTimeout(timer);
      if (this.pending.get(id) === pending) this.pending.delete(id);
    };
    return Promise.race([pending.then(done, done), bound]);
  }
}
