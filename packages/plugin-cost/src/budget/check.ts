// Which budgets bound an instance, and whether a subtree's cost crossed one (pure).
import { effectiveBudget, type InstanceRecord, type Settings } from "@tmux-claude/core";
import { formatCount, formatUsd } from "../format.js";
import type { InstanceCost } from "../types.js";

export type Bound = NonNullable<ReturnType<typeof effectiveBudget>>;

/** A budget that bounds one subtree: the instance whose subtree it is, and the budget. */
export interface SubtreeBudget {
  root: InstanceRecord;
  budget: Bound;
}

/** A record by id (undefined: none), from a list already read or from the store. */
export type Lookup = (id: string) => InstanceRecord | undefined | Promise<InstanceRecord | undefined>;

/**
 * The budgets over `id`: its own subtree's, then each ancestor's that has
 * one, nearest first. Walks up the parents one record at a time: after every
 * turn of every instance this is all there is to do when no budget applies.
 */
export async function budgetsOver(config: Settings, lookup: Lookup, id: string): Promise<SubtreeBudget[]> {
  const found: SubtreeBudget[] = [];
  const seen = new Set<string>();
  for (let current = await lookup(id); current && !seen.has(current.id); current = current.parentId ? await lookup(current.parentId) : undefined) {
    seen.add(current.id);
    const budget = effectiveBudget(config, current);
    if (budget) found.push({ root: current, budget });
  }
  return found;
}

/** A lookup over one list of instances. */
export function inList(instances: readonly InstanceRecord[]): Lookup {
  const byId = new Map(instances.map((instance) => [instance.id, instance]));
  return (id) => byId.get(id);
}

/**
 * How `spent` stands against `budget`, for people: "12,400 of 10,000 tokens"
 * and/or "$5.12 of $5.00" for each limit reached (spent at or over it);
 * undefined while under every limit. A USD limit with the cost unknown (a
 * model without a price) is not reached: its tokens limit, if any, still is.
 */
export function crossed(budget: Bound, spent: Pick<InstanceCost, "tokens" | "usd">): string | undefined {
  const parts: string[] = [];
  if (budget.tokens !== undefined && spent.tokens.total >= budget.tokens) parts.push(`${formatCount(spent.tokens.total)} of ${formatCount(budget.tokens)} tokens`);
  if (budget.usd !== undefined && spent.usd !== undefined && spent.usd >= budget.usd) parts.push(`${formatUsd(spent.usd)} of ${formatUsd(budget.usd)}`);
  return parts.length ? parts.join(", ") : undefined;
}

/** The figures of a subtree against its budget, for messages and notices' data. */
export function figures(budget: Bound, spent: Pick<InstanceCost, "tokens" | "usd">): Record<string, unknown> {
  return {
    budget: { ...(budget.usd !== undefined ? { usd: budget.usd } : {}), ...(budget.tokens !== undefined ? { tokens: budget.tokens } : {}), action: budget.action, source: budget.source },
    spent: { tokens: spent.tokens.total, usd: spent.usd ?? null },
  };
}

/** Names one budget value: a crossing is acted on once per value, so raising it and crossing again acts again. */
export function budgetKey(budget: Bound): string {
  return `usd=${budget.usd ?? "-"},tokens=${budget.tokens ?? "-"}`;
}
