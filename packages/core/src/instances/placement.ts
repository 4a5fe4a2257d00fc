import { nodeOf } from "../kernel/node.js";
import type { StateStore } from "../store/store-contract.js";
import type { Nodes } from "./nodes.js";

/** `node.placement` in the config: where a spawn that names no node goes. */
export type Placement = "local" | "least-loaded";

/**
 * The node a spawn without `node` goes to. `local`: this one. `least-loaded`:
 * of this node and the nodes reported live (the `nodes` hook), the one with the
 * fewest instances that have not exited; this node wins a tie (no hop), then
 * the smaller id, so concurrent callers agree.
 */
export async function placeSpawn(nodes: Nodes, store: StateStore, placement: Placement): Promise<string> {
  if (placement === "local") return nodes.id;
  const load = new Map<string, number>([[nodes.id, 0]]);
  for (const report of await nodes.reports()) if (report.state === "live") load.set(report.id, 0);
  for (const record of await store.list()) {
    const node = nodeOf(record);
    if (record.status !== "exited" && load.has(node)) load.set(node, load.get(node)! + 1);
  }
  const rank = (node: string): [number, number, string] => [load.get(node)!, node === nodes.id ? 0 : 1, node];
  return [...load.keys()].sort((a, b) => compareRanks(rank(a), rank(b)))[0]!;
}

function compareRanks(a: [number, number, string], b: [number, number, string]): number {
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}
