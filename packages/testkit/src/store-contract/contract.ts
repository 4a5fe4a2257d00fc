/**
 * The store contract as a vitest suite: every StateStore implementation runs
 * it against fresh data (FileStore and MemoryStore in core, a Redis store in
 * its plugin). It checks what the kernel relies on: atomic updates under
 * contention from several processes, exclusive locks under leases that
 * outlive a live holder and expire after a killed one, watches that say when
 * they are ready, and claim -> deliver -> ack queues that hand a killed
 * claimer's message to the next claimer as recovered.
 */
import type { ClaimOutcome, InstanceRecord, QueuedMessage, StateStore } from "@tmux-claude/core";
import { afterEach, describe, expect, it } from "vitest";
import { changeLog } from "./changes.js";
import { docContract } from "./doc-contract.js";
import { counterOf, withCounter, type StorePeer } from "./peer.js";

export interface StoreContractSubject {
  /** A store on fresh, empty data. */
  open(): Promise<StateStore>;
  /**
   * Another participant on the same data as `store`, as another process
   * would be. Stores shared between processes must make it a real child
   * process (childProcessPeer), so that `kill()` is a real `kill -9`.
   */
  peer(store: StateStore): Promise<StorePeer>;
}

const LOCK_TIMEOUT = /LOCK_TIMEOUT$/u;

export function contractRecord(id: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  const now = new Date().toISOString();
  return {
    id,
    role: "specialist",
    parentId: null,
    depth: 1,
    agent: "fake",
    workDir: "/tmp",
    status: "idle",
    createdAt: now,
    updatedAt: now,
    tmux: { socket: "contract", session: id, paneId: "%1", windowId: "@1", pid: 1 },
    launch: { command: "fake", args: [], env: {} },
    ...overrides,
  };
}

export function contractMessage(instanceId: string, id: string): QueuedMessage {
  return { id, instanceId, text: `text of ${id}`, from: null, enqueuedAt: new Date().toISOString() };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "resolved",
    (error: unknown) => String((error as { code?: unknown }).code ?? error),
  );
}

/**
 * Two callers claim at once, again when both found the claim held (at the
 * held claim's expiry: no polling), until one of them gets it.
 */
async function racingClaims(store: StateStore, instanceId: string, timeoutMs: number): Promise<ClaimOutcome[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcomes = await Promise.all([store.claim(instanceId, { leaseMs: 300 }), store.claim(instanceId, { leaseMs: 300 })]);
    const until = Math.max(...outcomes.map((outcome) => (outcome.state === "held" ? outcome.until : 0)));
    if (outcomes.some((outcome) => outcome.state !== "held")) return outcomes;
    if (Date.now() > deadline) throw new Error(`the claim on ${instanceId} was still held after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now())));
  }
}

export function runStoreContract(name: string, subject: StoreContractSubject): void {
  const stores: StateStore[] = [];
  const peers: StorePeer[] = [];

  async function open(): Promise<StateStore> {
    const store = await subject.open();
    stores.push(store);
    await store.init();
    return store;
  }

  async function peerOf(store: StateStore): Promise<StorePeer> {
    const peer = await subject.peer(store);
    peers.push(peer);
    return peer;
  }

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((peer) => peer.kill()));
    for (const store of stores.splice(0)) await store.close();
  });

  describe(`${name}: the store contract`, () => {
    describe("records", () => {
      it("puts, gets, lists, updates and deletes copies of records", async () => {
        const store = await open();
        const record = contractRecord("exec-1");
        await store.put(record);
        record.role = "changed after put";
        const got = await store.get("exec-1");
        expect(got?.role).toBe("specialist");
        got!.role = "changed after get";
        expect((await store.list()).map((r) => [r.id, r.role])).toEqual([["exec-1", "specialist"]]);
        const updated = await store.update("exec-1", (r) => ({ ...r, status: "busy" }));
        expect(updated?.status).toBe("busy");
        expect((await store.get("exec-1"))?.status).toBe("busy");
        await store.delete("exec-1");
        expect(await store.get("exec-1")).toBeUndefined();
        expect(await store.list()).toEqual([]);
      });

      it("does not call the updater of a missing record, and keeps a record whose updater threw", async () => {
        const store = await open();
        let called = false;
        expect(await store.update("missing-1", (r) => ((called = true), r))).toBeUndefined();
        expect(called).toBe(false);
        await store.put(contractRecord("exec-1"));
        await expect(store.update("exec-1", () => { throw new Error("updater failed"); })).rejects.toThrow("updater failed");
        expect((await store.get("exec-1"))?.status).toBe("idle");
      });

      it("applies concurrent updaters from several processes exactly once each", async () => {
        const store = await open();
        await store.put(contractRecord("exec-1"));
        const others = await Promise.all([peerOf(store), peerOf(store), peerOf(store)]);
        const increment = { op: "increment", id: "exec-1", times: 30 } as const;
        const local = async () => {
          for (let i = 0; i < 30; i++) await store.update("exec-1", (r) => withCounter(r, counterOf(r) + 1));
        };
        await Promise.all([...others.map((peer) => peer.run(increment)), local()]);
        expect(counterOf(await store.get("exec-1"))).toBe(120);
      });

      it("never reserves the same id twice, even after the record was deleted", async () => {
        const store = await open();
        const ids = await Promise.all(Array.from({ length: 20 }, () => store.reserveId(null, "exec")));
        expect(new Set(ids).size).toBe(20);
        await store.put(contractRecord(ids[0]!));
        await store.delete(ids[0]!);
        expect(ids).not.toContain(await store.reserveId(null, "exec"));
        expect(await store.reserveId("exec-1", "mgr")).toBe("exec-1.mgr-1");
      });
    });

    describe("queues: claim -> deliver -> ack", () => {
      it("keeps FIFO order and removes a message for exactly one dequeuer", async () => {
        const store = await open();
        for (let i = 0; i < 50; i++) await store.enqueue(contractMessage("exec-1", `m-${i}`));
        expect((await store.queue("exec-1")).map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => `m-${i}`));
        const results = await Promise.all([store.dequeue("exec-1", "m-3"), store.dequeue("exec-1", "m-3")]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.queue("exec-2")).toEqual([]);
      });

      it("does not queue a message twice: an enqueue of an id that is queued already is a no-op", async () => {
        const store = await open();
        await store.enqueue(contractMessage("exec-1", "a"));
        await store.enqueue(contractMessage("exec-1", "b"));
        await store.enqueue({ ...contractMessage("exec-1", "a"), text: "resent" });
        expect((await store.queue("exec-1")).map((m) => [m.id, m.text])).toEqual([
          ["a", "text of a"],
          ["b", "text of b"],
        ]);
        // The same id for another instance is another message.
        await store.enqueue(contractMessage("exec-2", "a"));
        expect((await store.queue("exec-2")).map((m) => m.id)).toEqual(["a"]);
      });

      it("claims the oldest message for one caller at a time; ack removes it, release gives it back", async () => {
        const store = await open();
        expect(await store.claim("exec-1")).toEqual({ state: "empty" });
        await store.enqueue(contractMessage("exec-1", "a"));
        await store.enqueue(contractMessage("exec-1", "b"));
        const first = await store.claim("exec-1");
        if (first.state !== "claimed") throw new Error(`expected a claim, got ${first.state}`);
        expect(first.claim.message.id).toBe("a");
        expect(first.claim.recovered).toBeUndefined();
        const second = await store.claim("exec-1");
        expect(second.state).toBe("held");
        if (second.state === "held") expect(second.until).toBeGreaterThan(Date.now());
        // A claimed message is still queued: it is not delivered yet.
        expect((await store.queue("exec-1")).map((m) => m.id)).toEqual(["a", "b"]);
        expect(await store.ack(first.claim)).toBe(true);
        expect(await store.ack(first.claim)).toBe(false);
        expect((await store.queue("exec-1")).map((m) => m.id)).toEqual(["b"]);
        const third = await store.claim("exec-1");
        if (third.state !== "claimed") throw new Error(`expected a claim, got ${third.state}`);
        await store.release(third.claim);
        const again = await store.claim("exec-1");
        if (again.state !== "claimed") throw new Error(`expected a claim, got ${again.state}`);
        expect(again.claim.message.id).toBe("b");
        expect(again.claim.recovered).toBeUndefined();
        expect(again.claim.lost.aborted).toBe(false);
        await store.ack(again.claim);
        expect(await store.claim("exec-1")).toEqual({ state: "empty" });
      });

      it("hands the claim of a claimer killed before ack to the next claimer as recovered, with its note", async () => {
        const store = await open();
        await store.enqueue(contractMessage("exec-1", "a"));
        await store.enqueue(contractMessage("exec-1", "b"));
        const peer = await peerOf(store);
        expect(await peer.run({ op: "claim", instanceId: "exec-1", leaseMs: 600, note: "input-log@42" })).toEqual({ state: "claimed", messageId: "a" });
        // A live claimer keeps its claim past its lease.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect((await store.claim("exec-1")).state).toBe("held");
        await peer.kill();
        const started = Date.now();
        // Two claimers race over the dead claim: one gets it, and it knows the message may have been delivered.
        const outcomes = await racingClaims(store, "exec-1", 5_000);
        expect(Date.now() - started).toBeLessThan(600 + 1_500);
        expect(outcomes.map((o) => o.state).sort()).toEqual(["claimed", "held"]);
        const outcome = outcomes.find((o) => o.state === "claimed");
        if (outcome?.state !== "claimed") throw new Error("expected a claim");
        expect(outcome.claim.message.id).toBe("a");
        expect(outcome.claim.recovered).toMatchObject({ note: "input-log@42", abandoned: 1 });
        expect(Date.parse(outcome.claim.recovered!.claimedAt)).toBeLessThanOrEqual(Date.now());
        expect(await store.ack(outcome.claim)).toBe(true);
        const next = await store.claim("exec-1");
        expect(next.state === "claimed" && next.claim.message.id === "b" && next.claim.recovered === undefined).toBe(true);
      });

      it("removes an instance's queue and claim with its record", async () => {
        const store = await open();
        await store.put(contractRecord("exec-1"));
        await store.enqueue(contractMessage("exec-1", "a"));
        expect((await store.claim("exec-1")).state).toBe("claimed");
        await store.delete("exec-1");
        expect(await store.queue("exec-1")).toEqual([]);
        await store.enqueue(contractMessage("exec-1", "b"));
        const outcome = await store.claim("exec-1");
        expect(outcome.state === "claimed" && outcome.claim.message.id === "b" && outcome.claim.recovered === undefined).toBe(true);
      });
    });

    describe("locks under leases", () => {
      it("excludes several processes from each other", async () => {
        const store = await open();
        await store.put(contractRecord("exec-1"));
        const others = await Promise.all([peerOf(store), peerOf(store)]);
        const command = { op: "incrementUnderLock", id: "exec-1", key: "counter", times: 20 } as const;
        await Promise.all(others.map((peer) => peer.run(command)));
        expect(counterOf(await store.get("exec-1"))).toBe(40);
      });

      it("is re-entrant within one call tree and released when fn throws", async () => {
        const store = await open();
        const nested = await store.withLock("job", () => store.withLock("job", async (lease) => lease.key), { timeoutMs: 1_000 });
        expect(nested).toBe("job");
        await expect(store.withLock("job", async () => { throw new Error("fn failed"); })).rejects.toThrow("fn failed");
        expect(await store.withLock("job", async () => "ran", { timeoutMs: 500 })).toBe("ran");
      });

      it("keeps a live holder's lock past its lease, renewing it", async () => {
        const store = await open();
        const peer = await peerOf(store);
        expect(await peer.run({ op: "hold", key: "job", leaseMs: 400 })).toBe("held");
        expect(await codeOf(store.withLock("job", async () => "stolen", { timeoutMs: 1_500 }))).toMatch(LOCK_TIMEOUT);
      });

      it("takes over the lock of a holder killed with -9 once its lease expired", async () => {
        const store = await open();
        const peer = await peerOf(store);
        expect(await peer.run({ op: "hold", key: "job", leaseMs: 300 })).toBe("held");
        await peer.kill();
        const started = Date.now();
        expect(await store.withLock("job", async (lease) => (lease.lost.aborted ? "lost" : "ran"), { timeoutMs: 5_000 })).toBe("ran");
        expect(Date.now() - started).toBeLessThan(300 + 1_500);
      });

      it("holds a lock for longer than its lease without losing it", async () => {
        const store = await open();
        const lost = await store.withLock("job", async (lease) => {
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          return lease.lost.aborted;
        }, { leaseMs: 300 });
        expect(lost).toBe(false);
      });
    });

    describe("watch", () => {
      it("says when it is ready, then reports another process's changes until stopped", async () => {
        const store = await open();
        const peer = await peerOf(store);
        const { watch, seen, saw } = changeLog(store);
        await watch.ready;
        await peer.run({ op: "put", record: contractRecord("exec-7") });
        await saw((c) => c.kind === "instance" && c.id === "exec-7");
        await peer.run({ op: "enqueue", message: contractMessage("exec-7", "m-1") });
        await saw((c) => c.kind === "queue" && c.instanceId === "exec-7");
        watch.stop();
        watch.stop();
        seen.length = 0;
        // A second watch shows when the change arrived: by then the stopped one would have reported it too.
        let arrived!: () => void;
        const second = store.watch((change) => change.kind === "instance" && change.id === "exec-8" && arrived());
        const arrival = new Promise<void>((resolve) => (arrived = resolve));
        await second.ready;
        await peer.run({ op: "put", record: contractRecord("exec-8") });
        await arrival;
        second.stop();
        expect(seen).toEqual([]);
      });
    });

    describe("documents", () => docContract(open, peerOf));
  });
}
