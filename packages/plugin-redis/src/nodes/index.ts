/**
 * The plugin's node part: a `serve` registers its node and keeps its
 * heartbeat; every kernel reports the nodes (the kernel's `nodes` hook:
 * unreachable instances, placement) and offers `tmux-claude nodes`.
 */
import type { PluginContext } from "@tmux-claude/core";
import type { RedisStore } from "../redis-store.js";
import { nodesCommand } from "./command.js";
import { NodeRegistry } from "./registry.js";
import { NodeWatcher } from "./watcher.js";

export function installNodes(ctx: PluginContext, store: RedisStore, heartbeatTtlMs: number): NodeRegistry {
  const registry = new NodeRegistry(store, heartbeatTtlMs, ctx.logger);
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
  ctx.hooks.nodes.tapPromise(async (reports) => [...reports, ...(await registry.nodes())]);
  ctx.hooks.commands.tap((commands) => [...commands, nodesCommand(() => registry.nodes())]);
  return registry;
}

export { formatNodes, nodeViews, type NodeView } from "./command.js";
export type { NodeInfo } from "./registry.js";
