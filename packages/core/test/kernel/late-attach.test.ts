// A turn that ends before serve attaches to a new instance another process
// spawned (issue 14, second trial: with serve running, a workflow's turn-end
// task sometimes never completed). The one-shot kernel recorded the turn's end
// but left it to serve, which attached after it and saw the instance idle only:
// nobody announced it. Serve's attachment is held back here by holding back
// what its store watch reports (a plugin's store), so the turn ends first every time.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { FileStore, type Plugin, type StateStore, type StoreChange } from "../../src/index.js";
import { readRecorded, recorder, type Recorded } from "../fixtures/recorder-plugin.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { start: false });
});
afterAll(async () => {
  await h?.close();
});

/** A store whose watch reports nothing until `release` is called (then what it held back, and everything after). */
function heldWatch(stateDir: string): { plugin: Plugin; release: () => void } {
  const inner = new FileStore(stateDir);
  let held: (() => void)[] | undefined = [];
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key !== "watch") {
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      return (listener: (change: StoreChange) => void) => target.watch((change) => (held ? held.push(() => listener(change)) : listener(change)));
    },
  }) as StateStore;
  const release = () => {
    const pending = held ?? [];
    held = undefined;
    for (const report of pending) report();
  };
  return { plugin: { name: "held-watch", apply: (ctx) => ctx.useStore(store) }, release };
}

async function turnsOf(file: string, id: string): Promise<Recorded[]> {
  return readRecorded(await readFile(file, "utf8").catch(() => "")).filter((e) => e.id === id && e.hook === "turnEnded");
}

/** One serve whose attachment to a new instance comes after its first turn ended; the turns' turnEnded events. */
async function lateServe(label: string): Promise<Recorded[]> {
  const file = path.join(h.dir, `${label}.jsonl`);
  const held = heldWatch(h.stateDir);
  const serve = await h.startKernel({ watch: "all", config: { plugins: [held.plugin, recorder({ file, who: "serve" })] } });
  const oneShot = await h.startKernel({ watch: "on-demand", config: { plugins: [recorder({ file, who: "oneshot" })] } });
  try {
    const { instance } = await oneShot.spawn({ role: "executive", workDir: h.workDir });
    await oneShot.send(instance.id, "first");
    const read = await oneShot.read(instance.id, { wait: true, timeoutMs: 10_000 });
    expect(read.status).toBe("idle");
    // The turn is over and written (the read answers before the write is done); serve learns of the instance only now.
    await eventually(async () => (await serve.list()).find((r) => r.id === instance.id)?.status === "idle", 5_000, "the idle status stored");
    held.release();
    await eventually(async () => (await turnsOf(file, instance.id)).some((e) => e.prompt === "first"), 10_000, "the first turn's turnEnded");
    // A second turn, serve attached by now: announced once too, and once it is, the first one was not announced again.
    await oneShot.send(instance.id, "second");
    await oneShot.read(instance.id, { wait: true, timeoutMs: 10_000 });
    const turns = await eventually(async () => {
      const all = await turnsOf(file, instance.id);
      return all.some((e) => e.prompt === "second") && all;
    }, 10_000, "the second turn's turnEnded");
    await oneShot.terminate(instance.id);
    return turns;
  } finally {
    await oneShot.close();
    await serve.close();
  }
}

// Serve's store may still answer an older record when it attaches (then it sees the turn end itself): three
// serves, so that the turn ending before the attachment is met (without the fix, 2 runs of 3 failed alone).
test("a turn that ended before serve attached is announced once, by serve", async () => {
  for (const label of ["late-1", "late-2", "late-3"]) {
    const turns = await lateServe(label);
    expect(turns.filter((e) => e.prompt === "first").map((e) => [e.who, e.reason])).toEqual([["serve", "stop"]]);
    // The second turn, seen by serve attached, is there too. (Not asserted once: a one-shot kernel's busy written
    // after serve recorded that turn's end, the command adapter's inferred busy, is another defect, branch n-fix.)
    expect(turns.filter((e) => e.prompt === "second").map((e) => e.who)).toContain("serve");
    expect(turns.every((e) => e.who === "serve")).toBe(true);
  }
});
