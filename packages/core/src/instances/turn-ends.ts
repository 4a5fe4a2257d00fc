/**
 * Each instance's last turn end announced by this process: a drain (and
 * `read` with `wait`) waits for its taps, so a tap that holds delivery at a
 * turn end (a budget crossed, the turn cap) lands before the next queued
 * message would be typed in.
 */
export class TurnEnds {
  private readonly pending = new Map<string, Promise<void>>();

  /** `announcing`: the announcement of a change that ended a turn (it never rejects: taps' failures are logged). */
  add(id: string, announcing: Promise<void>): void {
    this.pending.set(id, announcing);
  }

  /** Settles once the taps of the instance's last turn end ran here, or after `maxMs`. */
  settled(id: string, maxMs: number): Promise<void> {
    const pending = this.pending.get(id);
    if (!pending) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs).unref()));
    const done = () => {
      clearTimeout(timer);
      if (this.pending.get(id) === pending) this.pending.delete(id);
    };
    return Promise.race([pending.then(done, done), bound]);
  }
}
