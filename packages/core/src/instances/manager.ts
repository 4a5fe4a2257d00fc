import type { ActivityEvent, OutputOptions, OutputStream } from "../kernel/api.js";
import type { DeliveryReceipt } from "../kernel/messages.js";
import { performLocally, type LocalOperations } from "../kernel/routing.js";
import type { InstanceRecord } from "../store/types.js";
import type { StateStore } from "../store/store-contract.js";
import { Messaging } from "./messaging.js";
import type { Nodes } from "./nodes.js";
import { Reconciler } from "./reconciler.js";
import { Registry } from "./registry.js";
import { Spawner } from "./spawner.js";
import { Breakers } from "./breaker.js";
import { Terminator } from "./terminator.js";
import type { InstanceSummary, ListFilter, ReadOptions, ReadResult, SendOptions, SpawnOptions, SpawnResult, TerminateOptions } from "./types.js";
import type { ManagerDeps } from "./deps.js";
import { UsageLimits } from "./usage-limits.js";
import { Views } from "./views.js";
import { requireRecord } from "./lookups.js";
import { waitDelivered } from "./wait-delivered.js";
import { nodeOf } from "../kernel/node.js";
import { placeSpawn, type Placement } from "./placement.js";
import { Holds } from "./holds.js";
import { ProgressWrites } from "./progress-writes.js";
import type { ProgressInput } from "./progress.js";
import { tapTurnCap } from "./runaway.js";
import type { Budget, InstanceStall } from "../store/types.js";

export type * from "./types.js";
export { compareIds } from "./views.js";
export { tailText } from "./output-tail.js";

/**
 * Owns the instances, through one module per job: `Spawner` (spawn,
 * restart), `Messaging` (send, route, queue, delivery), `Terminator`,
 * `Views` (read, list), `Registry` (what this process is attached to and
 * their status) and `Reconciler` (tmux events, other processes' writes).
 * tmux is reached only through the runtime and state only through the store.
 * An operation on another node's instance goes to that node (`Nodes`);
 * `local` is the entry such routed operations arrive at.
 */
export class InstanceManager {
  private readonly registry: Registry;
  private readonly reconciler: Reconciler;
  private readonly messaging: Messaging;
  private readonly terminator: Terminator;
  private readonly spawner: Spawner;
  /** limits.breaker: per agent, in the store (kernel.breakers / resetBreakers). */
  readonly breakers: Breakers;
  private readonly views: Views;
  private readonly limits: UsageLimits;
  private readonly nodes: Nodes;
  private readonly store: StateStore;
  private readonly placement: Placement;
  private readonly holds: Holds;
  private readonly progress: ProgressWrites;

  constructor(deps: ManagerDeps) {
    this.nodes = deps.nodes;
    this.placement = deps.config.node.placement;
    this.store = deps.store;
    this.registry = new Registry(deps);
    this.reconciler = new Reconciler(deps, this.registry);
    this.messaging = new Messaging(deps, this.registry);
    this.terminator = new Terminator(deps, this.registry);
    this.limits = new UsageLimits(deps, this.registry, (id, text) => this.messaging.send(id, text, { whenBusy: "queue" }, null));
    this.breakers = new Breakers(deps.store, deps.config);
    this.spawner = new Spawner(deps, this.registry, this.messaging, this.terminator, this.limits, this.breakers);
    this.progress = new ProgressWrites(deps, this.registry);
    this.views = new Views(deps, this.registry, (id) => this.progress.written(id));
    // An adapter's report of the agent's own task list (DriverContext.setProgress).
    this.registry.setProgress = (id, report) => this.progress.set(id, report);
    // A released instance's node delivers its queue: here when this node owns it, else that node's serve (it sees the store change).
    this.holds = new Holds(deps.store, async (record) => {
      if (!this.nodes.owns(record) || this.registry.closed) return;
      await this.registry.attach(record).then(
        () => this.messaging.drain(record.id),
        (error: unknown) => deps.logger.warn({ err: error, instance: record.id }, "released, but could not attach to deliver its queue; serve delivers it"),
      );
    });
    tapTurnCap(deps.hooks, deps.store, this.holds, deps.config, deps.logger);
  }

  /**
   * Re-attach to what survived: live panes keep their instances, vanished ones
   * are marked exited (never forgotten). With `watchAll`, every live instance
   * is watched and queued messages are delivered as instances become idle.
   */
  async start(options: { watchAll: boolean }): Promise<void> {
    this.registry.watchAll = options.watchAll;
    await this.registry.start();
    await this.reconciler.start();
    await this.limits.start();
    // Pools that ran short while no process was there to refill them (see WarmStart).
    if (options.watchAll) await this.spawner.warm.fillAll();
  }

  async close(): Promise<void> {
    if (this.registry.closed) return;
    // A one-shot process fills no pool (serve does); it ends the pooled children of a parent it saw exit before it exits.
    // serve's close cuts its fills short (they clean up).
    if (!this.registry.watchAll) await this.spawner.warm.settled();
    this.registry.closed = true;
    this.reconciler.stop();
    this.limits.stop();
    for (const live of this.registry.all()) this.registry.detach(live.record.id);
    // A spawn cut short by the detach above removes what it created before we let go of tmux and the store.
    await Promise.allSettled([this.spawner.settled(), this.messaging.settled()]);
    // Then the writes they made on the way (a delivery's mark in the history is not awaited by its sender).
    await this.registry.allPersisted();
    await this.registry.stop();
  }

  output(id: string, listener: (data: Buffer) => void, options?: OutputOptions): Promise<OutputStream> {
    return this.registry.output(id, listener, options);
  }

  async spawn(options: SpawnOptions, caller: string | null = null): Promise<SpawnResult> {
    const node = options.node ?? (await placeSpawn(this.nodes, this.store, this.placement));
    if (node === undefined || node === this.nodes.id) return this.spawner.spawn(options, caller);
    this.nodes.assertNodeId(node);
    return this.nodes.forward({ node, from: this.nodes.id, operation: "spawn", options, caller });
  }

  async restart(id: string): Promise<InstanceRecord> {
    const remote = await this.remoteRecord(id);
    if (remote) return this.nodes.forward({ ...this.nodes.address(remote), operation: "restart" });
    return this.spawner.restart(id);
  }

  send(id: string, text: string, options: SendOptions = {}, caller: string | null = null): Promise<DeliveryReceipt> {
    // Messaging routes it itself: beforeSend runs on the sending node, before the message leaves.
    return this.messaging.send(id, text, options, caller);
  }

  async waitDelivered(instanceId: string, messageId: string, timeoutMs: number): Promise<void> {
    const remote = await this.remoteRecord(instanceId);
    if (!remote) return this.messaging.waitDelivered(instanceId, messageId, timeoutMs);
    const down = (await this.nodes.unreachableNodes()).get(nodeOf(remote));
    if (down) return this.waitForDownNode(remote, messageId, timeoutMs, down);
    await this.nodes.forward({ ...this.nodes.address(remote), operation: "waitDelivered", messageId, timeoutMs }, { down });
  }

  /**
   * A message queued for an instance of a node that is down now is delivered
   * by that node's serve once it runs again: wait for it to leave the queue in
   * the shared store (it cannot be typed from here; its pane is on that node).
   */
  private waitForDownNode(record: InstanceRecord, messageId: string, timeoutMs: number, down: string): Promise<void> {
    const node = nodeOf(record);
    const deps = {
      store: this.store,
      events: this.registry.events,
      live: () => undefined,
      deliver: async () => {},
      gone: () => undefined,
      stillQueuedBecause: `${down}. It stays queued, and node "${node}" delivers it once \`tmux-claude serve\` runs there again.`,
    };
    return waitDelivered(deps, record.id, messageId, timeoutMs);
  }

  async deliverQueued(instanceId: string, timeoutMs: number): Promise<number> {
    const remote = await this.remoteRecord(instanceId);
    if (!remote) return this.messaging.deliverQueued(instanceId, timeoutMs);
    const down = (await this.nodes.unreachableNodes()).get(nodeOf(remote));
    if (!down) return this.nodes.forward({ ...this.nodes.address(remote), operation: "deliverQueued", timeoutMs }, { down });
    const queue = await this.store.queue(instanceId);
    const last = queue.at(-1);
    if (last) await this.waitForDownNode(remote, last.id, timeoutMs, down);
    return queue.length;
  }

  async read(id: string, options: ReadOptions = {}): Promise<ReadResult> {
    const remote = await this.remoteRecord(id);
    if (remote) return this.nodes.forward({ ...this.nodes.address(remote), operation: "read", options });
    return this.views.read(id, options);
  }

  list(filter: ListFilter = {}): Promise<InstanceSummary[]> {
    return this.views.list(filter);
  }

  get(id: string): Promise<InstanceRecord> {
    return this.views.get(id);
  }

  /** Hold delivery to an instance (see Holds). */
  hold(id: string, reason: string, kind?: string): Promise<InstanceRecord> {
    return this.holds.hold(id, reason, kind);
  }

  /** Lift its hold (of `kind`, when given) and deliver what waits. */
  release(id: string, kind?: string): Promise<boolean> {
    return this.holds.release(id, kind);
  }

  setBudget(id: string, budget: Budget | null): Promise<InstanceRecord> {
    return this.holds.setBudget(id, budget);
  }

  /** Set (null: remove) an instance's progress; fires `progress` when it changed. */
  setProgress(id: string, progress: ProgressInput | null): Promise<InstanceRecord> {
    return this.progress.set(id, progress);
  }

  setStalled(id: string, stall: InstanceStall | null): Promise<boolean> {
    return this.views.setStalled(id, stall);
  }

  /** Be told of every adapter report and output chunk of the instances this process is attached to; returns the unsubscribe. */
  activity(listener: (event: ActivityEvent) => void): () => void {
    const forward = (instanceId: string, source: "report" | "output", record: InstanceRecord, quietForMs?: number) =>
      listener({ instanceId, source, status: record.status, ...(quietForMs !== undefined ? { quietForMs } : {}) });
    this.registry.events.on("activity", forward);
    return () => void this.registry.events.off("activity", forward);
  }

  updatePluginState(id: string, plugin: string, updater: (state: unknown) => unknown): Promise<InstanceRecord | undefined> {
    return this.views.updatePluginState(id, plugin, updater);
  }

  async terminate(id: string, options: TerminateOptions = {}): Promise<string[]> {
    const remote = await this.remoteRecord(id);
    if (remote) return this.nodes.forward({ ...this.nodes.address(remote), operation: "terminate", options });
    return this.terminator.terminate(id, options);
  }

  /** Where routed operations arrive: performed here, never routed again (see LocalOperations). */
  readonly local: LocalOperations = {
    perform: (request) => performLocally(this.local, request),
    send: (message) => this.messaging.sendHere(message),
    read: async (id, options = {}) => {
      await this.ownRecord(id, "read");
      return this.views.read(id, options);
    },
    terminate: async (id, options = {}) => {
      await this.ownRecord(id, "terminate");
      return this.terminator.terminate(id, options);
    },
    restart: async (id) => {
      await this.ownRecord(id, "restart");
      return this.spawner.restart(id);
    },
    waitDelivered: async (instanceId, messageId, timeoutMs) => {
      await this.ownRecord(instanceId, "wait for a delivery to");
      return this.messaging.waitDelivered(instanceId, messageId, timeoutMs);
    },
    deliverQueued: async (instanceId, timeoutMs) => {
      await this.ownRecord(instanceId, "deliver the queue of");
      return this.messaging.deliverQueued(instanceId, timeoutMs);
    },
    spawn: async (options, caller = null) => {
      this.nodes.assertSpawnHere(options.node);
      return this.spawner.spawn({ ...options, node: undefined }, caller).catch((error: unknown) => Promise.reject(this.nodes.placedSpawnFailed(error)));
    },
  };

  /** The record of an instance of another node; undefined for this node's (and unknown ids, which the local path reports). */
  private async remoteRecord(id: string): Promise<InstanceRecord | undefined> {
    if (typeof id !== "string" || id === "" || this.registry.has(id)) return undefined;
    const record = await this.store.get(id);
    return record && !this.nodes.owns(record) ? record : undefined;
  }

  private async ownRecord(id: string, operation: string): Promise<void> {
    const record = this.registry.get(id)?.record ?? (await requireRecord(this.store, id));
    this.nodes.assertOwned(record, operation);
  }
}
