/**
 * The store contract's document cases (StateStore.getDoc/updateDoc/putDoc/listDocs):
 * copies in and out, collections kept apart, the same refusals of bad names
 * and values on every store, no lost update when processes update one
 * document at once, and other processes' writes and deletes in `watch`.
 */
import { DOC_SIZE_LIMIT, type StateStore, type StoreChange } from "@tmux-claude/core";
import { expect, it } from "vitest";
import { changeLog } from "./changes.js";
import type { StorePeer } from "./peer.js";

const RUNS = "contract/runs";

/** The error `promise` rejected with (a resolved promise fails the case). */
async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error as { code?: string; message: string },
  );
}

function isDoc(collection: string, key: string): (change: StoreChange) => boolean {
  return (change) => change.kind === "doc" && change.collection === collection && change.key === key;
}

export function docContract(open: () => Promise<StateStore>, peerOf: (store: StateStore) => Promise<StorePeer>): void {
  it("creates, gets, lists, updates and deletes copies of documents, each collection on its own", async () => {
    const store = await open();
    expect(await store.getDoc(RUNS, "run-1")).toBeUndefined();
    expect(await store.listDocs(RUNS)).toEqual([]);
    let seen: unknown = "not called";
    const created = await store.updateDoc<{ state: string; steps: number[] }>(RUNS, "run-1", (current) => ((seen = current), { state: "running", steps: [1] }));
    expect(seen).toBeUndefined();
    expect(created).toEqual({ state: "running", steps: [1] });
    created!.steps.push(2);
    const got = (await store.getDoc(RUNS, "run-1")) as { steps: number[] };
    expect(got).toEqual({ state: "running", steps: [1] });
    got.steps.push(3);
    // An updater may change what it got: that is its own copy.
    const updated = await store.updateDoc<{ state: string; steps: number[] }>(RUNS, "run-1", (current) => {
      current!.steps.push(2);
      return current;
    });
    expect(updated).toEqual({ state: "running", steps: [1, 2] });
    // Keys list in order; the same key in another collection, or in a collection whose name starts alike, is another document.
    await store.updateDoc(RUNS, "a.run", () => "text");
    await store.updateDoc(RUNS, "b_run", () => [1, null, { deep: true }]);
    await store.updateDoc("contract/runs-old", "run-1", () => 0);
    await store.updateDoc("contract", "run-1", () => null);
    expect(await store.listDocs(RUNS)).toEqual([
      { key: "a.run", value: "text" },
      { key: "b_run", value: [1, null, { deep: true }] },
      { key: "run-1", value: { state: "running", steps: [1, 2] } },
    ]);
    expect(await store.listDocs("contract/runs-old")).toEqual([{ key: "run-1", value: 0 }]);
    expect(await store.getDoc("contract", "run-1")).toBeNull();
    // Undefined deletes; for a missing document it writes nothing.
    expect(await store.updateDoc(RUNS, "run-1", () => undefined)).toBeUndefined();
    expect(await store.getDoc(RUNS, "run-1")).toBeUndefined();
    expect(await store.updateDoc(RUNS, "never", () => undefined)).toBeUndefined();
    expect((await store.listDocs(RUNS)).map((doc) => doc.key)).toEqual(["a.run", "b_run"]);
    expect(await store.getDoc("contract/runs-old", "run-1")).toBe(0);
  });

  it("keeps a document whose updater threw, and refuses bad names and values with the value named", async () => {
    const store = await open();
    await store.updateDoc(RUNS, "run-1", () => ({ n: 1 }));
    await expect(store.updateDoc(RUNS, "run-1", () => { throw new Error("updater failed"); })).rejects.toThrow("updater failed");
    for (const collection of ["", "/runs", "runs/", "a//b", "a:b", "a.b", "-runs", "c".repeat(65)]) {
      const error = await rejection(store.getDoc(collection, "run-1"));
      expect(error.code).toBe("TC_INVALID_ARGUMENT");
      expect(error.message).toContain(JSON.stringify(collection));
    }
    for (const key of ["", ".hidden", "a/b", "a:b", "a@b", "k".repeat(129)]) {
      const error = await rejection(store.updateDoc(RUNS, key, () => 1));
      expect(error.code).toBe("TC_INVALID_ARGUMENT");
      expect(error.message).toContain(JSON.stringify(key));
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const bad: [unknown, string][] = [
      [{ at: new Date(0) }, ".at is a Date"],
      [{ n: Number.NaN }, ".n is NaN"],
      [{ list: [1, undefined] }, ".list[1] is undefined"],
      [new Map([["a", 1]]), "is a Map"],
      [{ f: () => 1 }, ".f is a function"],
      [cycle, ".self refers back to itself"],
    ];
    for (const [value, problem] of bad) {
      const error = await rejection(store.updateDoc(RUNS, "run-1", () => value));
      expect(error.code).toBe("TC_INVALID_ARGUMENT");
      expect(error.message).toContain(`"${RUNS}/run-1"`);
      expect(error.message).toContain(problem);
    }
    const big = "x".repeat(DOC_SIZE_LIMIT);
    const tooBig = await rejection(store.updateDoc(RUNS, "run-1", () => ({ big })));
    expect(tooBig.code).toBe("TC_INVALID_ARGUMENT");
    expect(tooBig.message).toContain(`"${RUNS}/run-1" is ${DOC_SIZE_LIMIT + 10} bytes`);
    expect(await store.getDoc(RUNS, "run-1")).toEqual({ n: 1 });
    // An undefined property is left out, as JSON leaves it.
    expect(await store.updateDoc(RUNS, "run-1", () => ({ n: 2, gone: undefined }))).toEqual({ n: 2 });
  });

  it("applies concurrent updates of one document from several processes exactly once each", async () => {
    const store = await open();
    const others = await Promise.all([peerOf(store), peerOf(store), peerOf(store)]);
    const local = async () => {
      for (let i = 0; i < 30; i++) await store.updateDoc<{ n: number }>(RUNS, "counter", (doc) => ({ n: (doc?.n ?? 0) + 1 }));
    };
    await Promise.all([...others.map((peer) => peer.run({ op: "incrementDoc", collection: RUNS, key: "counter", times: 30 })), local()]);
    expect(await store.getDoc(RUNS, "counter")).toEqual({ n: 120 });
  });

  it("puts a document whole (created or replaced, a copy, bad names and values refused), seen by other processes and their watch", async () => {
    const store = await open();
    const value = { text: "first", list: [1] };
    await store.putDoc(RUNS, "put-1", value);
    value.list.push(2);
    expect(await store.getDoc(RUNS, "put-1")).toEqual({ text: "first", list: [1] });
    // Replaced, not merged; updateDoc then sees what was put.
    await store.putDoc(RUNS, "put-1", { text: "second" });
    expect(await store.updateDoc(RUNS, "put-1", (current) => current)).toEqual({ text: "second" });
    expect(await store.listDocs(RUNS)).toEqual([{ key: "put-1", value: { text: "second" } }]);
    const badKey = await rejection(store.putDoc(RUNS, "a/b", 1));
    expect(badKey.code).toBe("TC_INVALID_ARGUMENT");
    expect(badKey.message).toContain('"a/b"');
    const badValue = await rejection(store.putDoc(RUNS, "put-1", { n: Number.NaN }));
    expect(badValue.code).toBe("TC_INVALID_ARGUMENT");
    expect(badValue.message).toContain(".n is NaN");
    expect(await store.getDoc(RUNS, "put-1")).toEqual({ text: "second" });
    const peer = await peerOf(store);
    const { watch, seen, saw } = changeLog(store);
    await watch.ready;
    await peer.run({ op: "putDoc", collection: RUNS, key: "put-2", value: { text: "from a peer" } });
    await saw(isDoc(RUNS, "put-2"));
    expect(await store.getDoc(RUNS, "put-2")).toEqual({ text: "from a peer" });
    seen.length = 0;
    await store.putDoc(RUNS, "put-2", { text: "mine" });
    await saw(isDoc(RUNS, "put-2"));
    expect(await store.getDoc(RUNS, "put-2")).toEqual({ text: "mine" });
    watch.stop();
  });

  it("reports another process's writes and deletes of documents to watch", async () => {
    const store = await open();
    const peer = await peerOf(store);
    const { watch, seen, saw } = changeLog(store);
    await watch.ready;
    await peer.run({ op: "setDoc", collection: RUNS, key: "run-7", value: { state: "running" } });
    await saw(isDoc(RUNS, "run-7"));
    expect(await store.getDoc(RUNS, "run-7")).toEqual({ state: "running" });
    seen.length = 0;
    await peer.run({ op: "setDoc", collection: RUNS, key: "run-7" });
    await saw(isDoc(RUNS, "run-7"));
    expect(await store.getDoc(RUNS, "run-7")).toBeUndefined();
    await peer.run({ op: "setDoc", collection: "contract/budgets", key: "exec-1.mgr-2", value: 5 });
    await saw(isDoc("contract/budgets", "exec-1.mgr-2"));
    // An update that changes nothing is not a change: the next real one arrives with nothing before it.
    seen.length = 0;
    expect(await store.updateDoc("contract/budgets", "exec-1.mgr-2", (n) => n)).toBe(5);
    await peer.run({ op: "setDoc", collection: "contract/budgets", key: "exec-1.mgr-2", value: 5 });
    await store.updateDoc("contract/budgets", "exec-1.mgr-3", () => 6);
    await saw(isDoc("contract/budgets", "exec-1.mgr-3"));
    expect(seen.filter(isDoc("contract/budgets", "exec-1.mgr-2"))).toEqual([]);
    watch.stop();
  });
}
