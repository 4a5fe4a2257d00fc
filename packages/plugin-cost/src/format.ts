// How costs read for people: the list column, read's line, the command's table.
import type { InstanceCost } from "./types.js";

/** `$0.0421` (`unknown`: no figure at all). Four decimals: a short turn costs fractions of a cent. */
export function formatUsd(usd: number | undefined): string {
  return usd === undefined ? "unknown" : `$${usd.toFixed(4)}`;
}

/** A cost's USD: `$0.0421`, or `$0.0421 partial` when some of its tokens have no price (left out of the figure). */
export function formatCost(cost: Pick<InstanceCost, "usd" | "partial">): string {
  return `${formatUsd(cost.usd)}${cost.partial ? " partial" : ""}`;
}

const count = new Intl.NumberFormat("en-US");
export const formatCount = (n: number): string => count.format(n);

/**
 * One line: `cost: 12,300 tokens (1,200 in, 300 out, 800 cache write, 10,000 cache read), $0.0421, claude-sonnet-4-5`;
 * partial: `…, $0.0421 partial (1,100 tokens without a price: house-model-1), …`.
 */
export function costLine(cost: InstanceCost): string {
  const { tokens } = cost;
  const kinds = `${formatCount(tokens.input)} in, ${formatCount(tokens.output)} out, ${formatCount(tokens.cacheWrite)} cache write, ${formatCount(tokens.cacheRead)} cache read`;
  const models = cost.models.length ? `, ${cost.models.map((m) => m.model).join(", ")}` : "";
  const unpriced = cost.partial ? ` (${formatCount(cost.unpricedTokens)} tokens without a price: ${cost.unpriced.join(", ")})` : "";
  return `cost: ${formatCount(tokens.total)} tokens (${kinds}), ${formatCost(cost)}${unpriced}${models}`;
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
