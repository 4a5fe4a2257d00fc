// Warm pool tests' looks at the store: the idle pooled instances under a parent, and waiting for a pool to be full.
import { eventually } from "@tmux-claude/testkit";
import type { InstanceSummary, Kernel } from "../../src/index.js";

export const pooledUnder = (list: InstanceSummary[], parentId: string) => list.filter((r) => r.parentId === parentId && r.pooled && r.status === "idle");

/** Wait until `count` pooled instances are idle under the parent (the fills run in the background). */
export async function poolReady(kernel: Kernel, parentId: string, count: number): Promise<InstanceSummary[]> {
  return eventually(async () => {
    const pooled = pooledUnder(await kernel.list(), parentId);
    return pooled.length === count ? pooled : undefined;
  }, 20_000, `${count} pooled instances under ${parentId}`);
}
