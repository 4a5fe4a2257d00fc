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
  if (!feed.watch) throw new Error("This kernel has no watch(): the dashboard needs @tmux-claude/core with KernelApi.watch.");
  return feed.watch(listener);
}

export async function kernelHealth(kernel: KernelApi): Promise<HealthBody> {
  const feed = kernel as FeedKernel;
  if (!feed.health) return { ok: false, checks: [{ name: "kernel", ok: false, detail: "this kernel has no health(): update @tmux-claude/core" }] };
  return feed.health();
}
