// Tokens by model, priced from a table: one instance's, and sums of several.
import { modelUsd, priceOf } from "@tmux-claude/agent-claude";
import type { Logger, ModelTokens, TokenUsage } from "@tmux-claude/core";
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
/** One model's tokens summed over instances: unpriced (null) when any part is (a part without tokens costs 0 whatever the model, so only tokens make it null). */
const addUsd = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a + b);
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
    // The one pricing function (the claude adapter's too), with this table: the shipped one and the config's prices.
    const usd = modelUsd(tokens, this.table);
    if (usd === undefined) this.warnUnpriced(tokens);
    return { ...base, usd: usd ?? null };
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
    // The priced part's USD; what has no price is listed and counted, never a silent $0 nor an unknown that hides the rest.
    const usd = merged.reduce((sum, part) => sum + (part.usd ?? 0), 0);
    const unpricedParts = merged.filter((part) => part.usd === null);
    return {
      id,
      models: merged.map(({ model, input, output, cacheWrite, cacheRead, usd: partUsd, longContext }) => ({ model, input, output, cacheWrite, cacheRead, usd: partUsd, ...(longContext ? { longContext } : {}) })),
      tokens: { ...tokens, total: totalOf(tokens) },
      usd,
      partial: unpricedParts.length > 0,
      unpriced: unpricedParts.map(label),
      unpricedTokens: unpricedParts.reduce((sum, part) => sum + totalOf(part), 0),
    };
  }

  private warnUnpriced(tokens: ModelTokens): void {
    const key = label(tokens);
    if (warned.has(key)) return;
    warned.add(key);
    this.logger.warn({ model: tokens.model, ...(tokens.longContext ? { longContext: true } : {}), pricesAsOf: this.asOf }, `${unpricedReason(tokens.model, tokens.longContext === true, this.asOf)}: its tokens are counted and left out of the USD, which is shown as partial. ${priceHint([key])}`);
  }
}

/** Why a model's tokens have no price. */
function unpricedReason(model: string, longContext: boolean, asOf: string): string {
  return longContext ? `no long-context price for model "${model}" (requests over 200K input tokens)` : `no price for model "${model}" in the cost plugin's price table (as of ${asOf})`;
}

/**
 * What to add to the config for these unpriced parts (`model` or `model (long
 * context)`): a price for the model, or long-context rates on its price.
 */
export function priceHint(unpriced: readonly string[]): string {
  const suffix = " (long context)";
  const long = unpriced.filter((part) => part.endsWith(suffix)).map((part) => part.slice(0, -suffix.length));
  const plain = unpriced.filter((part) => !part.endsWith(suffix));
  const hints: string[] = [];
  if (plain.length) hints.push(`add a price for ${plain.map((m) => `"${m}"`).join(", ")}: cost({ prices: { "${plain[0]}": { input, output, cacheWrite, cacheRead } } })`);
  if (long.length) hints.push(`add long-context rates for ${long.map((m) => `"${m}"`).join(", ")}: cost({ prices: { "${long[0]}": { input, output, cacheWrite, cacheRead, longContext: { input, output, cacheWrite, cacheRead } } } }) (its base rates too: a config price replaces the shipped one)`);
  return `To price them, ${hints.join("; and ")}, in USD per million tokens.`;
}
