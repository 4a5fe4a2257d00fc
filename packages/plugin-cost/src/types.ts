/** The shapes the cost plugin's parts and its users (budgets, the command, MCP) agree on. */

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
  /** undefined: no price for the model (or its long-context rates), so the cost is unknown. */
  usd: number | undefined;
  /** Tokens of requests over the long-context threshold, which the table has no rates for. */
  longContext?: boolean;
}

/** One instance's tokens by model, summed, and their cost. */
export interface InstanceCost {
  id: string;
  models: ModelCost[];
  tokens: Tokens & { total: number };
  /** undefined when some of its tokens have no price (see `unpriced`). */
  usd: number | undefined;
  /** The models whose tokens have no price. */
  unpriced: string[];
}

/** The instance and every descendant (exited ones too while their records exist), summed. */
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

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

export interface CostApi {
  instance(id: string): Promise<InstanceCost>;
  subtree(id: string): Promise<SubtreeCost>;
  /** The price table in use: the shipped one with the config's overrides; `asOf`: the shipped table's date. */
  prices(): { asOf: string; models: Record<string, Price> };
  /** A workflow run's cost; undefined without the workflows plugin or when it has no such run. */
  run(id: string): Promise<RunCost | undefined>;
}
