import type { InstanceRecord, PendingTurnEnd } from "../store/types.js";
import type { Announcer } from "./announcer.js";
import type { Live, ManagerDeps } from "./deps.js";

/**
 * The pending turn-end mark on a record (InstanceRecord.turnEnd; see
 * EventOwner for why): what a status write that ends a turn does to it, and
 * its removal by the process that announces it. Both run inside one atomic
 * store update, so of the processes racing for a mark one removes it.
 */

/**
 * A status write of a change that ends a turn (`next` is `stored` with the new status).
 * A one-shot kernel whose write made the change marks it pending; serve, writing a
 * turn end the store already holds with its mark, takes it (`claimed`): the same turn.
 * Serve's own turn end removes a mark too.
 */
export function writeTurnEnd(stored: InstanceRecord, next: InstanceRecord, end: PendingTurnEnd, serving: boolean): { record: InstanceRecord; claimed: boolean } {
  const recordedHere = stored.status !== end.to;
  if (!serving) return { record: recordedHere ? { ...next, turnEnd: end } : next, claimed: false };
  if (stored.turnEnd === undefined) return { record: next, claimed: false };
  // Serve recording a turn end while one is marked: the marked one is this turn, which serve saw late
  // (the other process wrote busy and idle before serve's look said busy): announced once, as serve's.
  if (recordedHere) return { record: unmarked(next), claimed: false };
  return { record: unmarked(next), claimed: stored.turnEnd.to === end.to };
}

/** The record without its mark, and the mark it had: none when `at` names another change than the marked one. */
export function takeTurnEnd(stored: InstanceRecord, at?: string): { record: InstanceRecord; mark?: PendingTurnEnd } {
  const mark = stored.turnEnd;
  if (!mark || (at !== undefined && mark.at !== at)) return { record: stored };
  return { record: unmarked(stored), mark };
}

function unmarked(record: InstanceRecord): InstanceRecord {
  const { turnEnd: _, ...rest } = record;
  return rest;
}

/** Serve's claims of the marks other processes left, and the one-shot kernel's of its own. */
export class PendingTurns {
  constructor(
    private readonly deps: ManagerDeps,
    /** The registry's ordered, atomic write of an instance's record. */
    private readonly persist: (id: string, updater: (record: InstanceRecord) => InstanceRecord) => Promise<void>,
    /** Settles once this process's writes of the instance so far are stored. */
    private readonly persisted: (id: string) => Promise<void>,
  ) {}

  /**
   * Serve: announce the turn end marked on an attached instance's record, one
   * serve did not see happen (it ended before serve attached, or between two
   * of serve's reads of the store).
   */
  async announce(live: Live, announcer: Announcer): Promise<void> {
    const id = live.record.id;
    if (!(await this.deps.store.get(id))?.turnEnd) return;
    // Serve may see the same turn late (its output comes to serve after the other process recorded the turn's
    // end): one more look, whose capture answers after the output tmux sent before it, and the look that output
    // asks for; then serve's writes of what it saw, the last of a turn's taking the mark (writeTurnEnd). A turn
    // serve still sees in progress is left to that write.
    live.driver.recheck?.();
    await live.driver.settled?.();
    await this.persisted(id);
    if (live.record.status === "busy" || live.record.status === "waiting") return;
    const claimed = await this.claim(id, live.record.tmux.paneId);
    if (!claimed) return;
    const { mark, record } = claimed;
    this.deps.logger.debug({ instance: id, from: mark.from, to: mark.to }, "a turn end recorded by another process");
    const change = { from: mark.from, to: mark.to, reason: mark.reason, turn: mark.turn, driver: live.driver };
    await announcer.announce(record, change, Promise.resolve({ observed: false, recordedHere: false, claimed: true }));
  }

  /** Remove an instance's mark (of the change written at `at`, else any) while `paneId` is its launch: the mark and the record, when this call removed it. */
  async claim(id: string, paneId: string, at?: string): Promise<{ mark: PendingTurnEnd; record: InstanceRecord } | undefined> {
    let claimed: { mark: PendingTurnEnd; record: InstanceRecord } | undefined;
    await this.persist(id, (stored) => {
      // Updaters may run again on a retry: the last run tells.
      claimed = undefined;
      if (stored.tmux.paneId !== paneId) return stored;
      const { record, mark } = takeTurnEnd(stored, at);
      if (mark) claimed = { mark, record };
      return record;
    }).catch((error: unknown) => this.deps.logger.error({ err: error, instance: id }, "could not claim a turn end"));
    return claimed;
  }
}
