import type { InstanceRecord } from "../store/types.js";
import type { StateStore } from "../store/store-contract.js";
import { KeyedChain } from "./keyed-chain.js";

interface Rider {
  updater(record: InstanceRecord): InstanceRecord;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * This process's writes of instance records: in the order they happened,
 * per instance, each an atomic update of the stored record (so a write by
 * another process is never lost). Shared-state changes (`persistShared`)
 * ride on a write under way instead of costing one of their own.
 */
export class RecordWrites {
  private readonly chain = new KeyedChain();

  constructor(
    private readonly store: StateStore,
    /** A shared-state change was stored: `stored` is the record as written. */
    private readonly onShared: (id: string, stored: InstanceRecord) => void,
  ) {}

  /**
   * Persist changes of one instance in the order they happened. Rejects when
   * the store fails the write, so that an operation awaiting it (spawn,
   * restart, an adapter's state) fails instead of going on with a record
   * nobody else sees; a later write still runs.
   */
  persist(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<void> {
    return this.chain.run(id, () => this.write(id, updater));
  }

  /**
   * Persist a change of what any process may write (the message history, the
   * usage: see withSharedState) and show it in this process's live record.
   * It rides on this process's next write of the instance when one is
   * pending whose update has not read the record yet (a delivery's mark on
   * the status change its receipt brings: no extra write); when none is (that
   * write already stored, a receipt that changed no status) its own write,
   * queued behind the writes under way, stores it.
   * Resolves once it is stored; close() waits for it like for any write.
   */
  persistShared(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const rider: Rider = { updater, resolve, reject };
      this.riders.set(id, [...(this.riders.get(id) ?? []), rider]);
      void this.chain.run(id, async () => {
        if (!this.riders.get(id)?.includes(rider)) return;
        await this.write(id);
      });
    });
  }

  /** Shared-state changes waiting for the next write of their instance (see persistShared). */
  private readonly riders = new Map<string, Rider[]>();

  /**
   * One store update of an instance: the riders waiting at the moment it
   * runs, then `updater`. Without `updater` (a rider's own write) a failure
   * fails the riders; otherwise they wait for their own write.
   */
  private async write(id: string, updater?: (record: InstanceRecord) => InstanceRecord): Promise<void> {
    let carried: Rider[] = [];
    let stored: InstanceRecord | undefined;
    try {
      stored = await this.store.update(id, (record) => {
        // The updater may run again (an optimistic store's retry): what the last run carried is what got stored.
        carried = [...(this.riders.get(id) ?? [])];
        const shared = carried.reduce((current, rider) => rider.updater(current), record);
        return updater ? updater(shared) : shared;
      });
    } catch (error) {
      if (updater) throw error;
      for (const rider of this.takeRiders(id, this.riders.get(id) ?? [])) rider.reject(error);
      return;
    }
    // No record (removed): nothing is left to record for it.
    const done = stored ? carried : updater ? [] : (this.riders.get(id) ?? []);
    for (const rider of this.takeRiders(id, done)) rider.resolve();
    if (stored && carried.length) this.onShared(id, stored);
  }

  private takeRiders(id: string, taken: readonly Rider[]): readonly Rider[] {
    const left = (this.riders.get(id) ?? []).filter((rider) => !taken.includes(rider));
    if (left.length) this.riders.set(id, left);
    else this.riders.delete(id);
    return taken;
  }

  /** Settles once every change of the instance made so far is written. */
  persisted(id: string): Promise<void> {
    return this.chain.idle(id);
  }

  /** Settles once every change made so far, of every instance, is written. */
  allPersisted(): Promise<void> {
    return this.chain.all();
  }
}
