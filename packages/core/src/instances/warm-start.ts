import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { ManagerDeps } from "./deps.js";
import type { Messaging } from "./messaging.js";
import { nodePlaces, placesUnder, poolSpecs, takePooled, unwantedPooled, type PoolPlace, type PoolSpec, type TakeRequest } from "./pools.js";
import type { Registry } from "./registry.js";
import { reuseIdle } from "./reuse.js";
import { withSharedState } from "./shared-state.js";
import type { SpawnResult } from "./types.js";

/** What a spawn asks of an instance that is already running. */
export interface WarmRequest extends TakeRequest {
  reuse: "idle" | undefined;
  /** The spawn's plugin options: a running instance was made without them, so any means a cold spawn. */
  plugins: Record<string, unknown> | undefined;
  /** The first message (context and prompt); "" for none. */
  first: string;
}

/**
 * Serves spawns from running instances (a warm pool's, or an idle one
 * reused) and keeps the pools filled. `fill` spawns one pooled instance
 * into a place, or nothing when the place is full (checked under the spawn
 * lock by the spawner).
 */
export class WarmStart {
  private readonly specs: PoolSpec[];
  private readonly fills = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
    private readonly messaging: Messaging,
    private readonly fill: (place: PoolPlace) => Promise<unknown>,
    /** Ends an instance a spawn took but could not hand its first message (terminate). */
    private readonly discard: (id: string) => Promise<unknown>,
  ) {
    this.specs = poolSpecs(deps.config, deps.configPath);
    // A pooled instance that died (not one terminated: its parent may be ending) leaves its pool short: the process that saw it refills.
    if (this.specs.length > 0) {
      deps.hooks.statusChange.tap("pool", ({ instance, from, to }) => {
        if (registry.closed || instance.terminatedAt) return;
        // serve sees every process's spawns and takes here: a parent that became ready gets its pools, an instance that got
        // a task (from a take, or a message to a pooled one) may have left its pool short. Fills check the count themselves.
        if (to === "idle" && from === "starting" && !instance.pooled) return this.fillUnder(instance);
        // Not judged by `instance.pooled`: this process's copy may not have adopted the take's write yet (serve, a CLI took).
        // A fill counts the pool in the store, so a turn of an instance still pooled fills nothing.
        if (to === "busy" && this.specs.some((spec) => spec.role === instance.role)) return this.refill(instance.parentId);
        if (to !== "exited") return;
        // A dead pooled instance is no one's: its record goes (list would show it for good), and its pool refills.
        if (instance.pooled) this.track(this.discard(instance.id).then(() => this.refill(instance.parentId)), `the replacement of the pooled "${instance.id}"`);
        // A parent whose agent exited (not terminated) spawns nothing: its pooled children would wait for good. A restart refills.
        else this.track(this.endPooledUnder((r) => r.parentId === instance.id && r.status !== "exited"), `the ending of the pooled children of "${instance.id}"`);
      });
      // A message to a pooled instance (its parent saw it in list) gives it a task: it leaves the pool, which refills. Last
      // of the beforeSend taps (stage), so one that refuses the message leaves the instance in its pool.
      deps.hooks.beforeSend.tapPromise({ name: "pool", stage: 1_000 }, async (message) => {
        await this.leavePool(message.instanceId);
        return message;
      });
    }
  }

  /** A spawn served by a running instance, or undefined: start a new process. */
  async start(request: WarmRequest): Promise<SpawnResult | undefined> {
    // Plugin options ask plugins for something a running instance was not made with (a worktree setting, a workflow's task).
    if (Object.keys(request.plugins ?? {}).length > 0) return undefined;
    let source: SpawnResult["source"] = "reuse";
    let record = request.reuse === "idle" ? await reuseIdle(this.deps, this.registry, this.messaging, request) : undefined;
    if (!record && this.specs.some((spec) => spec.role === request.role)) {
      source = "pool";
      record = await this.takeLive(request);
    }
    if (!record) {
      // A top-level spawn of a role pooled per node finds its pool short (never filled without serve): fill it for the next one.
      if (request.parentId === null && this.specs.some((spec) => spec.per === "node" && spec.role === request.role)) this.refill(null);
      return undefined;
    }
    let receipt: SpawnResult["receipt"];
    try {
      receipt = request.first === "" ? undefined : await this.messaging.send(record.id, request.first, { whenBusy: "queue" }, request.caller, true);
    } catch (error) {
      // As a cold spawn that fails leaves nothing: the taken (or reset) instance has no task and nobody who owns one; it goes.
      await this.discard(record.id).catch((discardError: unknown) => this.deps.logger.warn({ err: discardError, instance: record.id }, "could not end an instance whose first message failed"));
      if (source === "pool") this.refill(record.parentId);
      throw error;
    }
    // Refilled once the prompt is in (a launch meanwhile would slow the take down): the pool it came from, and its own pools.
    if (source === "pool") {
      this.refill(record.parentId);
      this.fillUnder(record);
    }
    const instance = (await this.deps.store.get(record.id)) ?? record;
    this.deps.logger.info({ instance: instance.id, role: instance.role, agent: instance.agent, source }, "spawned from a running instance");
    // Who took which process (a fill's afterSpawn said only that one was made); an observer's failure is not the spawn's.
    await this.deps.hooks.afterTake
      .promise({ ...this.registry.eventMeta(instance.id), instance, source, caller: request.caller })
      .catch((error: unknown) => this.deps.logger.warn({ err: error, instance: instance.id }, "an afterTake tap failed"));
    return { instance, receipt, source };
  }

  /** A pooled instance that is taken and still alive (one whose pane died is marked exited by the attach; the next is tried). */
  private async takeLive(request: TakeRequest): Promise<InstanceRecord | undefined> {
    // A pooled instance this process saw become ready may not have its idle in the store yet: the take reads the store.
    await this.registry.allPersisted();
    for (;;) {
      const taken = await takePooled(this.deps, request);
      if (!taken) return undefined;
      const live = await this.registry.attach(taken).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, instance: taken.id }, "a pooled instance could not be attached; taking another");
        return undefined;
      });
      if (live) {
        // This process's view of it: taken, with the spawn's name and budget (a send to it must not find it pooled).
        live.record = withSharedState(live.record, taken);
        return taken;
      }
      this.refill(taken.parentId);
    }
  }

  private async leavePool(id: string): Promise<void> {
    // An id names its role by its last part's prefix (`mgr-1.spec-2`): a send to a role with no pool reads nothing more.
    const prefix = id.slice(id.lastIndexOf(".") + 1).replace(/-\d+$/u, "");
    if (!this.specs.some((spec) => this.deps.config.roles[spec.role]?.prefix === prefix)) return;
    const live = this.registry.get(id);
    if (!(live ? live.record.pooled : (await this.deps.store.get(id))?.pooled)) return;
    let left = false;
    const updated = await this.deps.store.update(id, (r) => {
      left = r.pooled !== undefined;
      const { pooled: _pooled, ...rest } = r;
      return rest;
    });
    if (!updated) return;
    if (!left) {
      // A spawn took it between our look and this update: it is that spawn's now, the message was meant for an idle one.
      // Named after this tap, so the hook's wrapper keeps the code (it wraps errors that name no plugin).
      throw new TmuxClaudeError(
        ErrorCodes.INSTANCE_BUSY,
        `Instance "${id}" was idle in a warm pool, but a spawn took it for its own task just now; the message was not sent. Spawn an instance for this task (a spawn that fits takes a pooled one), or send to "${id}" again to add to its new task.`,
        { id, plugin: "pool" },
      );
    }
    if (live) live.record = withSharedState(live.record, updated);
    this.refill(updated.parentId);
  }

  /**
   * Only `serve` fills pools: a one-shot process (the CLI, an MCP stdio
   * server) neither waits for a launch at its exit nor is cut short by
   * Ctrl-C; serve sees its takes and spawns (statusChange) and fills then.
   */
  private get filling(): boolean {
    return this.registry.watchAll && !this.registry.closed;
  }

  /** Bring every pool under `record` to its count, in the background (a pool of another node's parent is that node's to fill). */
  fillUnder(record: InstanceRecord): void {
    if (!this.filling || !this.deps.nodes.owns(record)) return;
    for (const place of placesUnder(this.specs, this.deps.config, record)) {
      for (let i = 0; i < place.count; i += 1) this.fillPlace(place);
    }
  }

  /**
   * Fill this node's pools (per node, and under its running instances): what
   * `serve` does when it starts. First it ends this node's pooled instances
   * no pool wants (unwantedPooled): dead ones, those whose parent exited or
   * is gone (an exit nobody watched), those of a pool lowered or removed in
   * the config.
   */
  async fillAll(): Promise<void> {
    const all = await this.deps.store.list();
    const unwanted = new Set(unwantedPooled(this.specs, this.deps.config, all, (r) => this.deps.nodes.owns(r)).map((r) => r.id));
    await this.endPooledUnder((r) => unwanted.has(r.id), all);
    if (this.specs.length === 0) return;
    this.fillNode();
    for (const record of all) this.fillUnder(record);
  }

  /** Terminate this node's live pooled instances that `under` picks (from `all`, else the store now). */
  private async endPooledUnder(under: (record: InstanceRecord) => boolean, all?: InstanceRecord[]): Promise<void> {
    const pooled = (all ?? (await this.deps.store.list())).filter((r) => r.pooled && !r.terminatedAt && this.deps.nodes.owns(r) && under(r));
    for (const record of pooled) {
      this.deps.logger.info({ instance: record.id, parent: record.parentId, status: record.status }, "ending a pooled instance no pool wants");
      await this.discard(record.id).catch((error: unknown) => this.deps.logger.warn({ err: error, instance: record.id }, "could not end a pooled instance no pool wants"));
    }
  }

  private fillNode(): void {
    if (!this.filling) return;
    for (const place of nodePlaces(this.specs)) {
      for (let i = 0; i < place.count; i += 1) this.fillPlace(place);
    }
  }

  /** Settles once every fill started so far, and every fill those started, settled. */
  async settled(): Promise<void> {
    while (this.fills.size > 0) await Promise.allSettled([...this.fills]);
  }

  private refill(parentId: string | null): void {
    if (!this.filling) return;
    if (parentId === null) return this.fillNode();
    this.track(this.deps.store.get(parentId).then((parent) => parent && this.fillUnder(parent)), `the pools under "${parentId}"`);
  }

  private fillPlace(place: PoolPlace): void {
    this.track(this.fill(place), `the pool of ${place.role} under "${place.parentId}"`);
  }

  private track(work: Promise<unknown>, what: string): void {
    // A fill cut short by serve's close is expected; any other failure is worth a warning (the pool stays short until the next trigger).
    const filling = work.catch((error: unknown) => this.deps.logger[this.registry.closed ? "debug" : "warn"]({ err: error }, `could not fill ${what}`));
    this.fills.add(filling);
    void filling.finally(() => this.fills.delete(filling));
  }
}
