/** The shapes the cost plugin's parts and its users (budgets, the command, MCP) agree on. */
import type { ModelPrice } from "@tmux-claude/agent-claude";

/** Tokens by kind. */
export interface Tokens {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/** One model's tokens and what they cost. */
export interface ModelCost extends Tokens {
  model: string;
  /**
   * null: no price for the model (or no long-context rates for these
   * tokens), so these tokens are unpriced. null rather than undefined so that
   * every JSON output (cost --json, read/list --json, MCP) shows the key.
   */
  usd: number | null;
  /** Tokens of requests over the long-context threshold (priced with the model's `longContext` rates). */
  longContext?: boolean;
}

/** One instance's tokens by model, summed, and their cost. */
export interface InstanceCost {
  id: string;
  models: ModelCost[];
  tokens: Tokens & { total: number };
  /** USD of the priced tokens; with `partial`, the unpriced ones are left out (see `unpricedTokens`). */
  usd: number;
  /** True when some tokens have no price: `usd` is a lower bound. */
  partial: boolean;
  /** The models whose tokens have no price (`<model> (long context)` for long-context tokens without such rates). */
  unpriced: string[];
  /** How many tokens (all kinds) `usd` leaves out. */
  unpricedTokens: number;
}

/** The instance and every descendant (exited and terminated ones too, see the cost ledger), summed. */
export interface SubtreeCost extends InstanceCost {
  instances: InstanceCost[];
}

/** A workflow run's instances (its tasks' instances and their descendants), summed. */
export interface RunCost extends Omit<InstanceCost, "id"> {
  run: string;
  workflow: string;
  state: string;
  instances: InstanceCost[];
}

/** USD per million tokens; `longContext`: the rates of requests over 200K input tokens. */
export type Price = ModelPrice;

export interface CostApi {
  instance(id: string): Promise<InstanceCost>;
  subtree(id: string): Promise<SubtreeCost>;
  /** The price table in use: the shipped one with the config's overrides; `asOf`: the shipped table's date. */
  prices(): { asOf: string; models: Record<string, Price> };
  /** A workflow run's cost; undefined without the workflows plugin or when it has no such run. */
  run(id: string): Promise<RunCost | undefined>;
}
