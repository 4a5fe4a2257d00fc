/**
 * A state store in this process's memory: for tests, and for a kernel that
 * needs no persistence. `peer()` opens another handle on the same data, as
 * another process would see a shared store; `crash()` ends a handle as
 * `kill -9` ends a process (its leases are left to expire). Handles keep to
 * the same contract as FileStore and a Redis store (runStoreContract).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { leaseMsOf } from "./lease-owner.js";
import { DEFAULT_LOCK_TIMEOUT_MS } from "./lock.js";
import { assertCollection, assertDocKey, byKey, encodeDoc } from "./docs.js";
import { keepRenewed, withReentrantLock, type ReleaseLock } from "./reentrant.js";
import { guardListener } from "./watch-listener.js";
import type { InstanceRecord, QueuedMessage } from "./types.js";
import type { ClaimOptions, ClaimOutcome, Lease, LockOptions, QueueClaim, RecoveredClaim, StateStore, StoreChange, StoredDoc, StoreWatch } from "./store-contract.js";

interface HeldLease {
  token: string;
  expiresAt: number;
}

interface StoredClaim extends HeldLease {
  messageId: string;
  claimedAt: string;
  note?: string;
  recovered?: RecoveredClaim;
}

/** What every handle of one memory store shares. */
class MemoryData {
  readonly id = randomUUID();
  readonly records = new Map<string, InstanceRecord>();
  readonly reserved = new Set<string>();
  readonly queues = new Map<string, QueuedMessage[]>();
  readonly claims = new Map<string, StoredClaim>();
  readonly locks = new Map<string, HeldLease>();
  /** Documents as stored JSON text, by collection, then key. */
  readonly docs = new Map<string, Map<string, string>>();
  /** "change" for watchers; "unlock:<key>" when a lock is released. */
  readonly events = new EventEmitter();

  constructor() {
    this.events.setMaxListeners(0);
  }

  changed(change: StoreChange): void {
    // Other stores report changes a moment after they happen, never inside the writer's call.
    queueMicrotask(() => this.events.emit("change", change));
  }
}

function isLive(lease: HeldLease | undefined, now = Date.now()): boolean {
  return lease !== undefined && now <= lease.expiresAt;
}

export class MemoryStore implements StateStore {
  private readonly data: MemoryData;
  private crashed = false;
  /** This handle's lease renewals, stopped by close and crash. */
  private readonly renewals = new Map<string, { stop: () => Promise<void> }>();
  private readonly watches = new Set<StoreWatch>();

  constructor(shared?: MemoryStore) {
    this.data = shared?.data ?? new MemoryData();
  }

  /** Another handle on the same data, like a second process on a shared store. */
  peer(): MemoryStore {
    return new MemoryStore(this);
  }

  /** End this handle like `kill -9`: nothing is released; its leases and claims expire. */
  crash(): void {
    this.crashed = true;
    for (const renewal of this.renewals.values()) void renewal.stop();
    this.renewals.clear();
    for (const watch of [...this.watches]) watch.stop();
  }

  async init(): Promise<void> {
    this.alive();
  }

  async close(): Promise<void> {
    for (const watch of [...this.watches]) watch.stop();
    await Promise.all([...this.renewals.values()].map((renewal) => renewal.stop()));
    this.renewals.clear();
  }

  async reserveId(parentId: string | null, prefix: string): Promise<string> {
    this.alive();
    const base = parentId === null ? prefix : `${parentId}.${prefix}`;
    for (let n = 1; ; n++) {
      const id = `${base}-${n}`;
      if (this.data.reserved.has(id)) continue;
      this.data.reserved.add(id);
      return id;
    }
  }

  async get(id: string): Promise<InstanceRecord | undefined> {
    this.alive();
    const record = this.data.records.get(id);
    return record && structuredClone(record);
  }

  async list(): Promise<InstanceRecord[]> {
    this.alive();
    return [...this.data.records.values()]
      .map((record) => structuredClone(record))
      .sort((a, b) => compare(a.createdAt, b.createdAt) || compare(a.id, b.id));
  }

  async put(record: InstanceRecord): Promise<void> {
    this.alive();
    this.data.reserved.add(record.id);
    this.data.records.set(record.id, structuredClone(record));
    this.data.changed({ kind: "instance", id: record.id });
  }

  /** Optimistic: the updater runs on a snapshot, and again when another writer came first (as a Redis store would). */
  async update(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<InstanceRecord | undefined> {
    for (;;) {
      this.alive();
      const seen = this.data.records.get(id);
      if (!seen) return undefined;
      const next = updater(structuredClone(seen));
      if (next?.id !== id) {
        throw new TmuxClaudeError(
          ErrorCodes.INVALID_ARGUMENT,
          `The updater for instance "${id}" returned a record with id ${JSON.stringify(next?.id)}; an update cannot change the id. Return the record with its id unchanged.`,
        );
      }
      // Let other writers run between the read and the write, so a retry really happens under contention.
      await Promise.resolve();
      if (this.data.records.get(id) !== seen) continue;
      this.data.records.set(id, structuredClone(next));
      this.data.changed({ kind: "instance", id });
      return structuredClone(next);
    }
  }

  async delete(id: string): Promise<void> {
    this.alive();
    const had = this.data.records.delete(id);
    const queued = this.data.queues.delete(id);
    this.data.claims.delete(id);
    if (had) this.data.changed({ kind: "instance", id });
    if (queued) this.data.changed({ kind: "queue", instanceId: id });
  }

  async enqueue(message: QueuedMessage): Promise<void> {
    this.alive();
    const queue = this.data.queues.get(message.instanceId) ?? [];
    if (queue.some((queued) => queued.id === message.id)) return;
    queue.push(structuredClone(message));
    this.data.queues.set(message.instanceId, queue);
    this.data.changed({ kind: "queue", instanceId: message.instanceId });
  }

  async queue(instanceId: string): Promise<QueuedMessage[]> {
    this.alive();
    return (this.data.queues.get(instanceId) ?? []).map((message) => structuredClone(message));
  }

  async dequeue(instanceId: string, messageId: string): Promise<boolean> {
    this.alive();
    return this.remove(instanceId, messageId);
  }

  async claim(instanceId: string, options: ClaimOptions = {}): Promise<ClaimOutcome> {
    this.alive();
    const leaseMs = leaseMsOf(options.leaseMs);
    const head = this.data.queues.get(instanceId)?.[0];
    const previous = this.data.claims.get(instanceId);
    if (!head) {
      this.data.claims.delete(instanceId);
      return { state: "empty" };
    }
    let recovered: RecoveredClaim | undefined;
    if (previous && previous.messageId === head.id) {
      if (isLive(previous)) return { state: "held", until: previous.expiresAt + 1 };
      recovered = previous.recovered
        ? { ...previous.recovered, abandoned: previous.recovered.abandoned + 1 }
        : { claimedAt: previous.claimedAt, abandoned: 1, ...(previous.note === undefined ? {} : { note: previous.note }) };
    }
    const stored: StoredClaim = {
      token: randomUUID(),
      expiresAt: Date.now() + leaseMs,
      messageId: head.id,
      claimedAt: new Date().toISOString(),
      ...(options.note === undefined ? {} : { note: options.note }),
      ...(recovered ? { recovered } : {}),
    };
    this.data.claims.set(instanceId, stored);
    const renewal = this.renew(stored.token, leaseMs, () => this.data.claims.get(instanceId));
    const claim: QueueClaim = { message: structuredClone(head), token: stored.token, lost: renewal.lost, ...(recovered ? { recovered } : {}) };
    return { state: "claimed", claim };
  }

  async ack(claim: QueueClaim): Promise<boolean> {
    this.alive();
    await this.stopRenewal(claim.token);
    const { instanceId, id } = claim.message;
    if (this.data.claims.get(instanceId)?.token !== claim.token) return false;
    this.data.claims.delete(instanceId);
    this.remove(instanceId, id);
    return true;
  }

  async release(claim: QueueClaim): Promise<void> {
    this.alive();
    await this.stopRenewal(claim.token);
    const { instanceId } = claim.message;
    if (this.data.claims.get(instanceId)?.token !== claim.token) return;
    this.data.claims.delete(instanceId);
    this.data.changed({ kind: "queue", instanceId });
  }

  async getDoc(collection: string, key: string): Promise<unknown> {
    this.alive();
    assertCollection(collection);
    assertDocKey(collection, key);
    const json = this.data.docs.get(collection)?.get(key);
    return json === undefined ? undefined : JSON.parse(json);
  }

  /** Optimistic, like update: a writer that came first makes the updater run again. */
  async updateDoc<T = unknown>(collection: string, key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    assertCollection(collection);
    assertDocKey(collection, key);
    for (;;) {
      this.alive();
      const seen = this.data.docs.get(collection)?.get(key);
      const next = updater(seen === undefined ? undefined : (JSON.parse(seen) as T));
      const json = next === undefined ? undefined : encodeDoc(collection, key, next);
      if (json !== undefined && json === seen) return JSON.parse(json) as T;
      // As in update: other writers run between the read and the write, so a retry really happens under contention.
      await Promise.resolve();
      const docs = this.data.docs.get(collection) ?? new Map<string, string>();
      if (docs.get(key) !== seen) continue;
      if (json === undefined) {
        if (seen === undefined) return undefined;
        docs.delete(key);
        if (docs.size === 0) this.data.docs.delete(collection);
      } else {
        docs.set(key, json);
        this.data.docs.set(collection, docs);
      }
      this.data.changed({ kind: "doc", collection, key });
      return json === undefined ? undefined : (JSON.parse(json) as T);
    }
  }

  async putDoc(collection: string, key: string, value: unknown): Promise<void> {
    this.alive();
    assertCollection(collection);
    assertDocKey(collection, key);
    const json = encodeDoc(collection, key, value);
    const docs = this.data.docs.get(collection) ?? new Map<string, string>();
    docs.set(key, json);
    this.data.docs.set(collection, docs);
    this.data.changed({ kind: "doc", collection, key });
  }

  async listDocs(collection: string): Promise<StoredDoc[]> {
    this.alive();
    assertCollection(collection);
    return [...(this.data.docs.get(collection) ?? [])].map(([key, json]) => ({ key, value: JSON.parse(json) as unknown })).sort(byKey);
  }

  withLock<T>(key: string, fn: (lease: Lease) => Promise<T>, options: LockOptions = {}): Promise<T> {
    this.alive();
    const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const leaseMs = leaseMsOf(options.leaseMs);
    return withReentrantLock(`memory:${this.data.id}:${key}`, key, timeoutMs, () => this.acquire(key, timeoutMs, leaseMs), fn);
  }

  watch(listener: (change: StoreChange) => void): StoreWatch {
    const deliver = guardListener(listener);
    this.data.events.on("change", deliver);
    const watch: StoreWatch = {
      ready: Promise.resolve(),
      stop: () => {
        this.data.events.off("change", deliver);
        this.watches.delete(watch);
      },
    };
    this.watches.add(watch);
    return watch;
  }

  /** Wait until the lock is free or its holder's lease ran out: woken by the release or the expiry, never by polling. */
  private async acquire(key: string, timeoutMs: number, leaseMs: number): Promise<{ lease: Lease; release: ReleaseLock }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.alive();
      const holder = this.data.locks.get(key);
      if (!holder || !isLive(holder)) break;
      if (Date.now() >= deadline) {
        throw new TmuxClaudeError(
          ErrorCodes.LOCK_TIMEOUT,
          `Timed out after ${timeoutMs} ms waiting for lock "${key}" in the memory store: another holder's lease runs until ${new Date(holder.expiresAt).toISOString()}. ` +
            `If that holder is stuck, stop it; its lease then expires.`,
          { key, timeoutMs },
        );
      }
      await this.nextUnlock(key, Math.min(deadline, holder.expiresAt + 1));
    }
    const held: HeldLease = { token: randomUUID(), expiresAt: Date.now() + leaseMs };
    this.data.locks.set(key, held);
    const renewal = this.renew(held.token, leaseMs, () => this.data.locks.get(key));
    let released = false;
    return {
      lease: { key, token: held.token, lost: renewal.lost },
      release: async () => {
        if (released) return;
        released = true;
        await this.stopRenewal(held.token);
        if (this.crashed) return;
        if (this.data.locks.get(key)?.token !== held.token) {
          throw new TmuxClaudeError(
            ErrorCodes.STORE_FAILED,
            `The lock "${key}" was taken over while held: its lease (${leaseMs} ms) ran out. The work done under it may have overlapped; pass a longer leaseMs.`,
            { key },
          );
        }
        this.data.locks.delete(key);
        this.data.events.emit(`unlock:${key}`);
      },
    };
  }

  private nextUnlock(key: string, until: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.data.events.off(`unlock:${key}`, done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - Date.now()));
      this.data.events.on(`unlock:${key}`, done);
    });
  }

  /** Keep the lease `token` (as `current()` finds it) renewed while this handle lives. */
  private renew(token: string, leaseMs: number, current: () => HeldLease | undefined) {
    const renewal = keepRenewed(leaseMs, async () => {
      const lease = current();
      if (this.crashed || !lease || lease.token !== token || !isLive(lease)) return false;
      lease.expiresAt = Date.now() + leaseMs;
      return true;
    });
    this.renewals.set(token, renewal);
    return renewal;
  }

  private async stopRenewal(token: string): Promise<void> {
    await this.renewals.get(token)?.stop();
    this.renewals.delete(token);
  }

  private remove(instanceId: string, messageId: string): boolean {
    const queue = this.data.queues.get(instanceId);
    const index = queue?.findIndex((message) => message.id === messageId) ?? -1;
    if (!queue || index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) this.data.queues.delete(instanceId);
    this.data.changed({ kind: "queue", instanceId });
    return true;
  }

  private alive(): void {
    if (this.crashed) {
      throw new TmuxClaudeError(ErrorCodes.STORE_FAILED, "This memory store handle was crashed (crash()): it can do nothing more. Open another with peer().");
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
