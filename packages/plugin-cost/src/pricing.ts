// Tokens by model, priced from a table: one instance's, and sums of several.
import type { Logger, ModelTokens, TokenUsage } from "@tmux-claude/core";
import { priceOf, priced } from "./prices.js";
import type { InstanceCost, ModelCost, Price, Tokens } from "./types.js";

/** The model named for tokens whose model the adapter did not report. */
export const UNKNOWN_MODEL = "unknown";

/**
 * Models already warned about in this process: a model without a price is
 * said once, not at every turn, list or command of a long-lived `serve`.
 */
const warned = new Set<string>();

const ZERO: Tokens = { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };

const addTokens = (a: Tokens, b: Tokens): Tokens => ({ input: a.input + b.input, output: a.output + b.output, cacheWrite: a.cacheWrite + b.cacheWrite, cacheRead: a.cacheRead + b.cacheRead });
const totalOf = (t: Tokens): number => t.input + t.output + t.cacheWrite + t.cacheRead;
/** A sum of costs is known only when every part's is. */
const addUsd = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a + b);
const label = (m: { model: string; longContext?: boolean }): string => (m.longContext ? `${m.model} (long context)` : m.model);

/**
 * The usage's tokens by model: the adapter's breakdown, or, from an adapter
 * that reports none, its totals under the last model it named.
 */
export function modelTokens(usage: TokenUsage | undefined): ModelTokens[] {
  if (!usage) return [];
  if (usage.models) return usage.models;
  const tokens = { input: usage.inputTokens, output: usage.outputTokens, cacheWrite: usage.cacheCreationInputTokens, cacheRead: usage.cacheReadInputTokens };
  return totalOf(tokens) === 0 ? [] : [{ model: usage.model ?? UNKNOWN_MODEL, ...tokens }];
}

export class Pricer {
  constructor(
    /** USD per million tokens, by model id (without a date suffix; see priceOf). */
    readonly table: Readonly<Record<string, Price>>,
    readonly asOf: string,
    private readonly logger: Logger,
  ) {}

  /** One instance's cost from the usage on its record. */
  instance(id: string, usage: TokenUsage | undefined): InstanceCost {
    return this.sum(id, modelTokens(usage).map((tokens) => this.model(tokens)));
  }

  /** Several instances (a subtree, a run) as one: tokens and USD by model, summed. */
  combine(id: string, parts: readonly InstanceCost[]): InstanceCost {
    return this.sum(id, parts.flatMap((part) => part.models));
  }

  private model(tokens: ModelTokens): ModelCost {
    const { model, input, output, cacheWrite, cacheRead } = tokens;
    const counted = { input, output, cacheWrite, cacheRead };
    const base = { model, ...counted, ...(tokens.longContext ? { longContext: true } : {}) };
    // Tokens nobody was billed for cost nothing, whatever the model.
    if (totalOf(counted) === 0) return { ...base, usd: 0 };
    // The shipped table has no long-context rates: unknown rather than too low (see prices.ts).
    if (tokens.longContext) return { ...base, usd: undefined };
    const price = priceOf(model, this.table);
    if (!price) this.warnUnpriced(model);
    return { ...base, usd: price ? priced(price, counted) : undefined };
  }

  private sum(id: string, models: readonly ModelCost[]): InstanceCost {
    const byModel = new Map<string, ModelCost>();
    for (const part of models) {
      const key = label(part);
      const seen = byModel.get(key);
      byModel.set(key, seen ? { ...seen, ...addTokens(seen, part), usd: addUsd(seen.usd, part.usd) } : { ...part });
    }
    const merged = [...byModel.values()].sort((a, b) => label(a).localeCompare(label(b)));
    const tokens = merged.reduce<Tokens>((sum, part) => addTokens(sum, part), ZERO);
    const usd = merged.reduce<number | undefined>((sum, part) => addUsd(sum, part.usd), 0);
    const unpriced = merged.filter((part) => part.usd === undefined).map(label);
    return { id, models: merged.map(({ model, input, output, cacheWrite, cacheRead, usd: partUsd, longContext }) => ({ model, input, output, cacheWrite, cacheRead, usd: partUsd, ...(longContext ? { longContext } : {}) })), tokens: { ...tokens, total: totalOf(tokens) }, usd, unpriced };
  }

  private warnUnpriced(model: string): void {
    if (warned.has(model)) return;
    warned.add(model);
    this.logger.warn(
      { model, pricesAsOf: this.asOf },
      `no price for model "${model}" in the cost plugin's price table (as of ${this.asOf}): its tokens are counted, its cost is shown as unknown. Add it to the config: cost({ prices: { "${model}": { input, output, cacheWrite, cacheRead } } }) in USD per million tokens.`,
    );
  }
}
