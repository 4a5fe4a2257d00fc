// The kernel operations the dashboard builds on beyond the original API:
// the store's change feed and the health report (d-kernel's additions).
import type { KernelApi, StoreChange, StoreWatch } from "@tmux-claude/core";
import type { HealthBody } from "../protocol.js";

type FeedKernel = KernelApi & {
  watch?(listener: (change: StoreChange) => void): StoreWatch;
  health?(): Promise<HealthBody>;
};

export function watchStore(kernel: KernelApi, listener: (change: StoreChange) => void): StoreWatch {
  const feed = kernel as FeedKernel;
  if (feed.watch) return feed.watch(listener);
  // TEMPORARY until d-kernel's KernelApi.watch is merged: remove.
  const store = (kernel as unknown as { store?: { watch(l: typeof listener): StoreWatch } }).store;
  if (store) return store.watch(listener);
  throw new Error("This kernel has no watch(): the dashboard needs @tmux-claude/core with KernelApi.watch.");
}

export async function kernelHealth(kernel: KernelApi): Promise<HealthBody> {
  const feed = kernel as FeedKernel;
  if (!feed.health) return { ok: false, checks: [{ name: "kernel", ok: false, detail: "this kernel has no health(): update @tmux-claude/core" }] };
  return feed.health();
}
