/**
 * The cost ledger (`ctx.data("ledger")`): each instance's latest usage with
 * its place in the hierarchy, kept after the instance is terminated (its
 * record, and the usage on it, go then). Roll-ups read it for instances whose
 * records are gone, so terminating a child (or a failed run's instances)
 * does not take its spend out of its parent's subtree, its run or a budget.
 *
 * Written on each `usage` event (fired once across processes, so once per
 * turn) and on `beforeTerminate` (the record's last usage, even when the
 * terminating process saw no usage event, and an entry for an instance
 * without usage, so the parent links of what it spawned still lead up).
 * A run's members need no field here: the workflows plugin keeps its tasks'
 * instance ids, and the parent links give what they spawned.
 *
 * Growth: one entry per instance, rewritten in place; an entry of a
 * terminated instance is dropped LEDGER_RETENTION_DAYS after its terminate
 * (checked at each terminate), and leaves the roll-ups then; one whose record
 * went without a terminate seen here, that long after its last write.
 */
import type { InstanceRecord, PluginData, TokenUsage } from "@tmux-claude/core";

export interface LedgerEntry {
  parentId: string | null;
  /** The top-level instance above it (itself when it has no parent). */
  root: string;
  role: string;
  depth: number;
  /** The latest usage announced or recorded; without `costUsd` (the cost plugin prices it). */
  usage?: TokenUsage;
  /** ISO time of the last write. */
  updatedAt: string;
  /** ISO time it was terminated; an entry without it whose record is gone was terminated where no cost plugin ran. */
  terminatedAt?: string;
}

export const LEDGER_RETENTION_DAYS = 30;
const RETENTION_MS = LEDGER_RETENTION_DAYS * 24 * 60 * 60 * 1000;

/**
 * Entries past the retention as of `now`: terminated over LEDGER_RETENTION_DAYS
 * ago, or (no terminate recorded: the record went where no cost plugin ran)
 * last written that long ago; the latter only once their record is gone.
 */
export function expired(entries: readonly { key: string; value: LedgerEntry }[], now: number): { terminated: string[]; unmarked: string[] } {
  const old = entries.filter(({ value }) => now - Date.parse(value.terminatedAt ?? value.updatedAt) > RETENTION_MS);
  return { terminated: old.filter(({ value }) => value.terminatedAt !== undefined).map(({ key }) => key), unmarked: old.filter(({ value }) => value.terminatedAt === undefined).map(({ key }) => key) };
}

export class Ledger {
  constructor(
    private readonly data: PluginData<LedgerEntry>,
    /** A record by id, or undefined when it is gone. */
    private readonly record: (id: string) => Promise<InstanceRecord | undefined>,
  ) {}

  /** A usage event: the instance's latest usage. */
  async usage(record: InstanceRecord, usage: TokenUsage, at: string): Promise<void> {
    const root = await this.rootOf(record);
    await this.data.update(record.id, (current) => ({ ...place(record, root), ...(current?.terminatedAt ? { terminatedAt: current.terminatedAt } : {}), usage: withoutCost(usage), updatedAt: at }));
  }

  /** Before a terminate: the record's last usage, marked terminated; then entries past the retention go. */
  async terminated(record: InstanceRecord, at: string): Promise<void> {
    const root = await this.rootOf(record);
    await this.data.update(record.id, (current) => {
      const usage = record.usage ?? current?.usage;
      return { ...place(record, root), ...(usage ? { usage: withoutCost(usage) } : {}), updatedAt: at, terminatedAt: at };
    });
    const { terminated, unmarked } = expired(await this.data.list(), Date.parse(at));
    for (const key of terminated) await this.data.delete(key);
    for (const key of unmarked) if ((await this.record(key)) === undefined) await this.data.delete(key);
  }

  async entries(): Promise<Map<string, LedgerEntry>> {
    return new Map((await this.data.list()).map(({ key, value }) => [key, value]));
  }

  /** Up the parent links: a parent's entry names its root; else its record (a parent without usage yet has no entry). */
  private async rootOf(record: InstanceRecord): Promise<string> {
    let id = record.id;
    let parent = record.parentId;
    const seen = new Set([id]);
    while (parent !== null && !seen.has(parent)) {
      seen.add(parent);
      const entry = await this.data.get(parent);
      if (entry) return entry.root;
      id = parent;
      parent = (await this.record(parent))?.parentId ?? null;
    }
    return id;
  }
}

const place = (record: InstanceRecord, root: string) => ({ parentId: record.parentId, root, role: record.role, depth: record.depth });

/** The adapter's own figure would be a second price next to the plugin's. */
function withoutCost(usage: TokenUsage): TokenUsage {
  const { costUsd: _cost, ...rest } = usage;
  return rest;
}
