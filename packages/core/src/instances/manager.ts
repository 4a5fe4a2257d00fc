import type { DeliveryReceipt } from "../kernel/hooks.js";
import type { InstanceRecord } from "../store/types.js";
import { Messaging } from "./messaging.js";
import { Reconciler } from "./reconciler.js";
import { Registry } from "./registry.js";
import { Spawner } from "./spawner.js";
import { Terminator } from "./terminator.js";
import type {
  InstanceSummary, ListFilter, ManagerDeps, ReadOptions, ReadResult, SendOptions, SpawnOptions, SpawnResult, TerminateOptions,
} from "./types.js";
import { Views } from "./views.js";

export type * from "./types.js";
export { compareIds } from "./views.js";
export { tailText } from "./output-tail.js";

/**
 * Owns the instances, through one module per job: `Spawner` (spawn,
 * restart), `Messaging` (send, route, queue, delivery), `Terminator`,
 * `Views` (read, list), `Registry` (what this process is attached to and
 * their status) and `Reconciler` (tmux events, other processes' writes).
 * tmux is reached only through the runtime and state only through the store.
 */
export class InstanceManager {
  private readonly registry: Registry;
  private readonly reconciler: Reconciler;
  private readonly messaging: Messaging;
  private readonly terminator: Terminator;
  private readonly spawner: Spawner;
  private readonly views: Views;

  constructor(deps: ManagerDeps) {
    this.registry = new Registry(deps);
    this.reconciler = new Reconciler(deps, this.registry);
    this.messaging = new Messaging(deps, this.registry);
    this.terminator = new Terminator(deps, this.registry);
    this.spawner = new Spawner(deps, this.registry, this.messaging, this.terminator);
    this.views = new Views(deps, this.registry);
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
  }

  async close(): Promise<void> {
    if (this.registry.closed) return;
    this.registry.closed = true;
    this.reconciler.stop();
    for (const live of this.registry.all()) this.registry.detach(live.record.id);
    // A spawn cut short by the detach above removes what it created before we let go of tmux and the store.
    await Promise.allSettled([this.spawner.settled(), this.messaging.settled(), this.registry.allPersisted()]);
    await this.registry.stop();
  }

  output(id: string, listener: (data: Buffer) => void): Promise<{ screen: string; unsubscribe: () => void; ended: Promise<void> }> {
    return this.registry.output(id, listener);
  }

  spawn(options: SpawnOptions, caller: string | null = null): Promise<SpawnResult> {
    return this.spawner.spawn(options, caller);
  }

  restart(id: string): Promise<InstanceRecord> {
    return this.spawner.restart(id);
  }

  send(id: string, text: string, options: SendOptions = {}, caller: string | null = null): Promise<DeliveryReceipt> {
    return this.messaging.send(id, text, options, caller);
  }

  waitDelivered(instanceId: string, messageId: string, timeoutMs: number): Promise<void> {
    return this.messaging.waitDelivered(instanceId, messageId, timeoutMs);
  }

  deliverQueued(instanceId: string, timeoutMs: number): Promise<number> {
    return this.messaging.deliverQueued(instanceId, timeoutMs);
  }

  read(id: string, options: ReadOptions = {}): Promise<ReadResult> {
    return this.views.read(id, options);
  }

  list(filter: ListFilter = {}): Promise<InstanceSummary[]> {
    return this.views.list(filter);
  }

  get(id: string): Promise<InstanceRecord> {
    return this.views.get(id);
  }

  updatePluginState(id: string, plugin: string, updater: (state: unknown) => unknown): Promise<InstanceRecord | undefined> {
    return this.views.updatePluginState(id, plugin, updater);
  }

  terminate(id: string, options: TerminateOptions = {}): Promise<string[]> {
    return this.terminator.terminate(id, options);
  }
}
