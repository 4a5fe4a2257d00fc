/**
 * A serve notices when another node is lost or comes back, and tells its own
 * store watchers about that node's instances: their records do not change
 * (only their node's heartbeat key expired), yet `list` now shows them
 * `unreachable` (or live again), so a dashboard in this serve must read them
 * again. It looks once per heartbeat interval (one script round trip riding
 * on the beat's rhythm), so a change shows within the TTL plus one beat.
 */
import type { InstanceRecord, Logger } from "@tmux-claude/core";
import type { NodeInfo } from "./registry.js";

export interface NodeWatcherDeps {
  nodes(): Promise<NodeInfo[]>;
  records(): Promise<InstanceRecord[]>;
  /** This node's id: its own instances are always reachable here. */
  self: string;
  announce(ids: readonly string[]): void;
  logger: Logger;
}

export class NodeWatcher {
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  /** Each node's state at the last look; undefined before the first. */
  private known: Map<string, string> | undefined;

  constructor(
    private readonly deps: NodeWatcherDeps,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.looking ??= this.look().finally(() => (this.looking = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.looking;
  }

  private async look(): Promise<void> {
    let nodes: NodeInfo[];
    try {
      nodes = await this.deps.nodes();
    } catch {
      return; // Redis away: the heartbeat already says so; look again next time
    }
    const now = new Map(nodes.map((node) => [node.id, node.state]));
    const before = this.known;
    this.known = now;
    if (!before) return;
    const changed = new Set([...now].filter(([id, state]) => id !== this.deps.self && before.get(id) !== state).map(([id]) => id));
    if (changed.size === 0) return;
    const ids = (await this.deps.records().catch(() => [])).filter((record) => record.tmux.node !== undefined && changed.has(record.tmux.node)).map((record) => record.id);
    this.deps.logger.info({ nodes: Object.fromEntries([...changed].map((id) => [id, now.get(id)])), instances: ids.length }, "node state changed");
    if (ids.length > 0) this.deps.announce(ids);
  }
}
