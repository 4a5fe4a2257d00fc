/**
 * What Claude models' tokens cost, in US dollars per million tokens: the one
 * price table and the one function that prices tokens with it. The claude
 * adapter prices its `usage.costUsd` here; the cost plugin imports both (its
 * default table, which `cost({ prices })` overrides). It lives in the adapter
 * because these are Claude's prices and model ids, which the kernel does not
 * know, and so that the adapter depends on no plugin.
 *
 * Source: Anthropic's published API prices, "Model pricing" on
 * https://platform.claude.com/docs/en/about-claude/pricing (base input, 5-minute
 * cache writes, cache hits, output), checked on PRICES_AS_OF. Cache writes
 * are priced at the 5-minute rate (1.25x input): the transcript does not say
 * which lifetime a write had, so a 1-hour write (2x input) costs more than
 * shown. Prices change: a model missing here gets no price rather than a guess.
 *
 * Long context: a request with more than LONG_CONTEXT_INPUT_TOKENS input
 * tokens (only possible with a 1M-context model, `[1m]`) is billed at higher
 * rates for some models. Those rates were not found in the pricing text
 * available when this table was checked (that page's table lists the base
 * rates only), so the shipped prices have no `longContext` and such tokens
 * are unpriced rather than priced too low; a price given in the config may
 * carry them.
 */
import type { ModelTokens } from "@tmux-claude/core";

export const PRICES_AS_OF = "2026-12-05";

/** USD per million tokens of each kind. */
export interface Rates {
  input: number;
  output: number;
  /** 5-minute cache writes. */
  cacheWrite: number;
  cacheRead: number;
}

export interface ModelPrice extends Rates {
  /** The rates of a request over LONG_CONTEXT_INPUT_TOKENS input tokens; without them such tokens are unpriced. */
  longContext?: Rates;
}

const OPUS_4_5_ON: ModelPrice = { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 };
const OPUS_4_AND_4_1: ModelPrice = { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 };
const SONNET_4: ModelPrice = { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 };
const HAIKU_4_5: ModelPrice = { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 };
// Older models, so a session still on one keeps a cost (same page, same table).
const HAIKU_3_5: ModelPrice = { input: 0.8, output: 4, cacheWrite: 1, cacheRead: 0.08 };
const HAIKU_3: ModelPrice = { input: 0.25, output: 1.25, cacheWrite: 0.3, cacheRead: 0.03 };

/** By model id without its date (`claude-sonnet-4-5-20250929` is `claude-sonnet-4-5`). */
export const PRICES: Readonly<Record<string, ModelPrice>> = {
  "claude-opus-4-8": OPUS_4_5_ON,
  "claude-opus-4-7": OPUS_4_5_ON,
  "claude-opus-4-6": OPUS_4_5_ON,
  "claude-opus-4-5": OPUS_4_5_ON,
  "claude-opus-4-1": OPUS_4_AND_4_1,
  "claude-opus-4": OPUS_4_AND_4_1,
  "claude-sonnet-4-6": SONNET_4,
  "claude-sonnet-4-5": SONNET_4,
  "claude-sonnet-4": SONNET_4,
  "claude-haiku-4-5": HAIKU_4_5,
  "claude-3-7-sonnet": SONNET_4,
  "claude-3-5-haiku": HAIKU_3_5,
  "claude-3-opus": OPUS_4_AND_4_1,
  "claude-3-haiku": HAIKU_3,
};

/** Input tokens (fresh, cache writes and cache reads together) above which a request is billed at long-context rates. */
export const LONG_CONTEXT_INPUT_TOKENS = 200_000;

/**
 * A provider's id as the API names the model: Bedrock's
 * `[us.|eu.|global.…]anthropic.claude-sonnet-4-5-20250929-v1:0` and Vertex's
 * `claude-sonnet-4-5@20250929` are `claude-sonnet-4-5-20250929`.
 */
export function apiModelId(model: string): string {
  return model
    .replace(/^(?:[a-z]+\.)?anthropic\./u, "")
    .replace(/-v\d+(?::\d+)?$/u, "")
    .replace(/@(\d{8})$/u, "-$1");
}

/**
 * The price of a model id as the API (or Bedrock, or Vertex) reports it: an
 * exact key, or a key followed only by a date (`-20250514`) or `-latest`, and
 * a context tag (`[1m]`). A newer minor version (`claude-opus-4-9`) is not
 * taken for `claude-opus-4`.
 */
export function priceOf(model: string, table: Readonly<Record<string, ModelPrice>> = PRICES): ModelPrice | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  const id = apiModelId(model);
  if (Object.hasOwn(table, id)) return table[id];
  const match = /^(.*?)(?:-\d{8}|-latest)?(?:\[[^\]]*\])?$/u.exec(id);
  return match && Object.hasOwn(table, match[1]!) ? table[match[1]!] : undefined;
}

/**
 * US dollars for one model's tokens (ModelTokens: the adapter's breakdown),
 * or undefined when the table has no price for the model, or no long-context
 * rates for long-context tokens. Tokens nobody was billed for cost nothing.
 */
export function modelUsd(tokens: ModelTokens, table: Readonly<Record<string, ModelPrice>> = PRICES): number | undefined {
  const { input, output, cacheWrite, cacheRead } = tokens;
  if (input + output + cacheWrite + cacheRead === 0) return 0;
  const price = priceOf(tokens.model, table);
  const rates = tokens.longContext ? price?.longContext : price;
  return rates ? (input * rates.input + output * rates.output + cacheWrite * rates.cacheWrite + cacheRead * rates.cacheRead) / 1_000_000 : undefined;
}
