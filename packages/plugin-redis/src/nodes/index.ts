/**
 * The plugin's node part: a `serve` registers its node and keeps its
 * heartbeat; every kernel reports the nodes (the kernel's `nodes` hook:
 * unreachable instances, placement) and offers `tmux-claude nodes`.
 */
import type { PluginContext } from "@tmux-claude/core";
import type { RedisStore } from "../redis-store.js";
import { nodesCommand } from "./command.js";
import { NodeRegistry, type NodeInfo } from "./registry.js";
import { NodeWatcher } from "./watcher.js";

/** The longest a node view is reused for the kernel's checks (see installNodes). */
const VIEW_MAX_AGE_MS = 250;

export function installNodes(ctx: PluginContext, store: RedisStore, heartbeatTtlMs: number): NodeRegistry {
  const registry = new NodeRegistry(store, heartbeatTtlMs, ctx.logger);
  // The kernel asks before every operation on another node's instance and in every list: a view at most a tenth
  // of the TTL old answers a burst of them with one round trip (a lost node is seen that much later, within 5 s still).
  const maxAgeMs = Math.min(VIEW_MAX_AGE_MS, Math.floor(heartbeatTtlMs / 10));
  let view: { at: number; nodes: Promise<NodeInfo[]> } | undefined;
  const recent = (): Promise<NodeInfo[]> => {
    if (!view || performance.now() - view.at > maxAgeMs) {
      const current = { at: performance.now(), nodes: registry.nodes() };
      current.nodes.catch(() => {
        if (view === current) view = undefined; // a failed read is not kept
      });
      view = current;
    }
    return view.nodes;
  };
  if (ctx.mode === "serve") {
    // In init, before instances are re-attached: a second serve of the same node id stops before it touches a pane.
    ctx.hooks.init.tapPromise((kernel) => registry.register(kernel.node));
    // onClose runs also when a later plugin's init failed, and before the store closes.
    ctx.onClose(() => registry.stop());
    ctx.hooks.health.tap((checks) => [...checks, { name: "node", check: () => registry.health() }]);
    const watcher = new NodeWatcher(
      { nodes: () => registry.nodes(), records: () => store.list(), self: ctx.kernel.node, announce: (ids) => store.announceChanged(ids), logger: ctx.logger },
      Math.max(10, Math.floor(heartbeatTtlMs / 3)),
    );
    ctx.hooks.ready.tap(() => watcher.start());
    ctx.onClose(() => watcher.stop());
  }
  ctx.hooks.nodes.tapPromise(async (reports) => [...reports, ...(await recent())]);
  ctx.hooks.commands.tap((commands) => [...commands, nodesCommand(() => registry.nodes())]);
  return registry;
}

export { formatNodes, nodeViews, type NodeView } from "./command.js";
export type { NodeInfo } from "./registry.js";
