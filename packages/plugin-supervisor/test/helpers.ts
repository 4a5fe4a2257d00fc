// What the supervisor's tests wait for: a record in a state, the supervisor's messages in a parent's inbox (store change feed, no polling).
import type { InstanceRecord, Kernel } from "@tmux-claude/core";

/** Resolves with the record once `accept` holds for it, checked now and at each store change (the change feed, no polling). */
export function untilRecord(kernel: Kernel, id: string, accept: (record: InstanceRecord) => boolean, timeoutMs = 10_000): Promise<InstanceRecord> {
  return new Promise((resolve, reject) => {
    let done = false;
    // list() has what the store holds (get() in serve is the live record, which may learn of a plugin's write a moment later).
    const read = async () => (await kernel.list()).find((r) => r.id === id)!;
    const check = () =>
      void read().then((record) => {
        if (done || !accept(record)) return;
        done = true;
        clearTimeout(timer);
        watch.stop();
        resolve(record);
      }, () => undefined);
    const watch = kernel.watch((change) => change.kind === "instance" && change.id === id && check());
    const timer = setTimeout(() => {
      done = true;
      watch.stop();
      void kernel.get(id).then((record) => reject(new Error(`${id} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify({ status: record.status, stalled: record.stalled, pluginState: record.pluginState })}`)));
    }, timeoutMs);
    void watch.ready.then(check);
  });
}

/** Resolves once the parent's inbox holds `count` supervisor messages about `child`, with their texts. */
export async function untilTold(kernel: Kernel, parent: string, child: string, count: number): Promise<string[]> {
  const about = (r: InstanceRecord) => (r.messages ?? []).filter((m) => m.text.startsWith(`[supervisor] ${child} `)).map((m) => m.text);
  return about(await untilRecord(kernel, parent, (r) => about(r).length >= count));
}

/** The messages the parent's inbox got from the supervisor about `child`. */
export async function blockerMessages(kernel: Kernel, parent: string, child: string): Promise<string[]> {
  const record = (await kernel.list()).find((r) => r.id === parent)!;
  return (record.messages ?? []).filter((m) => m.text.startsWith(`[supervisor] ${child} `)).map((m) => m.text);
}
