/**
 * The state store's contract (StateStore) and the shapes its operations take:
 * changes, documents, leases and locks, queue claims. What it stores (records,
 * messages) is in types.ts, which re-exports this module.
 */
import type { InstanceRecord, QueuedMessage } from "./types.js";

export type StoreChange =
  | { kind: "instance"; id: string }
  | { kind: "queue"; instanceId: string }
  /** A document was written or deleted (see StateStore.updateDoc). */
  | { kind: "doc"; collection: string; key: string };

/** One document of a collection (StateStore.listDocs). */
export interface StoredDoc {
  key: string;
  value: unknown;
}

/**
 * A lock held by one caller: exclusive while its lease runs. The store renews
 * the lease while the holder's process lives and the holder's function runs,
 * so a live holder keeps it for as long as it needs; a holder that died
 * (`kill -9`, a lost machine) stops renewing and the lease expires after
 * `leaseMs`, when a waiter takes the lock over. No waiter ever waits out a
 * dead holder's full operation timeout.
 */
export interface Lease {
  readonly key: string;
  /** Unique to this acquisition; what the store checks before renewing or releasing. */
  readonly token: string;
  /**
   * Aborted when the lease was lost while held: it could not be renewed in
   * time (the process stalled longer than the lease) and may have been taken
   * over. Work under the lock should stop or re-check what it relies on.
   */
  readonly lost: AbortSignal;
}

export interface LockOptions {
  /** How long to wait for the lock before failing with LOCK_TIMEOUT. Default 10 s. */
  timeoutMs?: number;
  /** How long the lock survives its holder without renewal. Default 10 s; renewed every third of it. */
  leaseMs?: number;
}

/** A subscription to store changes. */
export interface StoreWatch {
  /**
   * Resolves once every change made after this moment, by any process, will
   * be reported (a file watch is set up, a pub/sub subscription confirmed).
   * Read the state you care about after awaiting it, so nothing falls
   * between the read and the first event. Rejects when watching failed.
   */
  readonly ready: Promise<void>;
  /** Stop reporting. Calling it again does nothing. */
  stop(): void;
}

/**
 * The right, for one caller, to deliver the oldest message of an instance's
 * queue. Made by `claim`, ended by `ack` (delivered: the message is removed)
 * or `release` (not delivered: it is claimable again). Its lease is renewed
 * by the store while the claimer lives, like a lock's.
 */
export interface QueueClaim {
  readonly message: QueuedMessage;
  readonly token: string;
  /** Aborted when the claim's lease was lost before ack or release. */
  readonly lost: AbortSignal;
  /**
   * Set when an earlier claim of this message ended without ack or release
   * (its claimer died or lost its lease): that claimer may have delivered it
   * before dying. The claimer must look for evidence before delivering again
   * (see the kernel's delivery rule in instances/).
   */
  readonly recovered?: RecoveredClaim;
}

export interface RecoveredClaim {
  /** When the first abandoned claim of this message was taken. */
  readonly claimedAt: string;
  /** The note its claimer stored with it (e.g. a position in the agent's input log). */
  readonly note?: string;
  /** How many claims of this message were abandoned. */
  readonly abandoned: number;
}

export interface ClaimOptions {
  /** Opaque text stored with the claim and handed to whoever recovers it after a crash. */
  note?: string;
  /** How long the claim survives its claimer without renewal. Default 10 s. */
  leaseMs?: number;
}

export type ClaimOutcome =
  | { state: "claimed"; claim: QueueClaim }
  /** Nothing queued. */
  | { state: "empty" }
  /** Another live caller claims the oldest message; ask again once it is acked (a queue change) or at `until` (epoch ms) when its lease would expire. */
  | { state: "held"; until: number };

/**
 * Where the kernel keeps instances, their queued messages and its locks.
 * FileStore (one machine) and MemoryStore (one process, tests) implement it;
 * a shared store (Redis) must keep every promise below, checked by
 * `runStoreContract` in @tmux-claude/testkit.
 *
 * Every method may be called concurrently, from several processes (and, for
 * a shared store, machines) on the same data. Records and messages are
 * copied in and out: mutating a returned object changes nothing stored.
 */
export interface StateStore {
  /** Prepare storage; called once by the kernel before anything else. */
  init(): Promise<void>;
  /** Stop watches and lease renewals. Leases still held then expire as if the process had died. */
  close(): Promise<void>;

  /**
   * Reserve and return a fresh id `<parentId>.<prefix>-<n>` (or `<prefix>-<n>`
   * at the top level). Never returns the same id twice, across processes,
   * even after the instance was deleted.
   */
  reserveId(parentId: string | null, prefix: string): Promise<string>;

  get(id: string): Promise<InstanceRecord | undefined>;
  list(): Promise<InstanceRecord[]>;
  /** Create or replace a record. */
  put(record: InstanceRecord): Promise<void>;
  /**
   * Atomic read-modify-write of one record. Returns the new record, or
   * undefined when the record does not exist (the updater is not called).
   *
   * The updater may be called more than once (an optimistic store retries
   * when another writer came first) and only its last result is stored: it
   * must be a pure function of the record it gets, with no side effects. An
   * updater that throws leaves the record unchanged and the error is thrown.
   */
  update(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<InstanceRecord | undefined>;
  /** Remove a record, its queue and its claims. The id stays reserved. */
  delete(id: string): Promise<void>;

  /**
   * Append a message to the instance's queue (FIFO per instance, also across
   * calls made in a row). A message whose id is queued already is not added
   * again: a networked store's client may resend a command whose reply a
   * dropped connection lost, and it must not queue the message twice.
   */
  enqueue(message: QueuedMessage): Promise<void>;
  /** The queued messages of one instance, oldest first, claimed ones included (they are not delivered yet). */
  queue(instanceId: string): Promise<QueuedMessage[]>;
  /** Remove one message without delivering it; true when this caller removed it. */
  dequeue(instanceId: string, messageId: string): Promise<boolean>;
  /**
   * Claim the oldest message of an instance for delivery: claim -> deliver ->
   * ack. At most one live claim per instance, so messages are delivered one
   * at a time in order. A claim whose claimer died is handed to the next
   * caller with `recovered` set, so that a message typed in just before a
   * `kill -9` is not typed again.
   */
  claim(instanceId: string, options?: ClaimOptions): Promise<ClaimOutcome>;
  /** The claimed message was delivered: remove it. False when the claim had been lost (another caller took it over). */
  ack(claim: QueueClaim): Promise<boolean>;
  /** The claimed message was not delivered: end the claim, the message stays first in line. */
  release(claim: QueueClaim): Promise<void>;

  /**
   * Run `fn` holding a named lock shared by every process using this store,
   * under a lease (see Lease). Re-entrant within one async call tree: `fn`
   * (and what it awaits) may take the same key again without waiting for
   * itself.
   */
  withLock<T>(key: string, fn: (lease: Lease) => Promise<T>, options?: LockOptions): Promise<T>;

  /**
   * Documents: JSON values that are not about one instance (a workflow run,
   * a budget), by collection and key, shared like records by every process
   * using this store (and, for a shared store, machine). A collection is
   * names of letters, digits, '_' and '-' joined by '/' (at most 64
   * characters); a key is like an instance id (at most 128); a value is plain
   * JSON of at most DOC_SIZE_LIMIT bytes. Anything else is TC_INVALID_ARGUMENT
   * naming it. Values are copied in and out.
   */
  getDoc(collection: string, key: string): Promise<unknown>;
  /**
   * Atomic read-modify-write of one document: `updater` gets the current value
   * (undefined when there is none) and returns the next one, or undefined to
   * delete it (returning undefined for a missing document writes nothing).
   * Resolves to the stored value, undefined when none is left.
   *
   * As with `update`, the updater may be called more than once and must be a
   * pure function of what it gets; one that throws changes nothing and the
   * error is thrown. Updates of one document by every process are serialised:
   * none is lost. An update that leaves the value as it was writes nothing
   * and reports no change.
   */
  updateDoc<T = unknown>(collection: string, key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined>;
  /**
   * Replace (or create) one document whole, with no read and no lock: for a
   * document whose writers take turns on their own (e.g. under a withLock).
   * Racing puts leave one value whole. Reports a change; names and values as in updateDoc.
   */
  putDoc(collection: string, key: string, value: unknown): Promise<void>;
  /** Every document of a collection, ordered by key. */
  listDocs(collection: string): Promise<StoredDoc[]>;

  /**
   * Be told when records, queues or documents change, also when another process
   * changed them. Listeners run synchronously with the change's discovery and
   * must not throw (a throw is reported as a warning). Events may coalesce or
   * repeat; read the store to learn what changed.
   */
  watch(listener: (change: StoreChange) => void): StoreWatch;
}

