import path from "node:path";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError, quoteScreen } from "../errors.js";
import type { DeliveryReceipt } from "../kernel/messages.js";
import type { SpawnPlan } from "../kernel/events.js";
import type { Budget, InstanceRecord } from "../store/types.js";
import { INSTANCE_ENV } from "../kernel/instance-env.js";
import { keepSecrets, restoreSecrets, storedEnv } from "../kernel/secret-env.js";
import { sessionNameFor } from "../tmux/quote.js";
import { currentProcess } from "../os/process-tree.js";
import type { Messaging } from "./messaging.js";
import { openReadyGates } from "./ready-gate.js";
import type { Registry } from "./registry.js";
import { resolveCommand } from "./resolve-command.js";
import { checkBudget } from "./holds.js";
import { takeSpawnSlot } from "./runaway.js";
import { agentForRole, assertDirectory, assertWorkDirAllowed, knownRole, placeSpawn } from "./spawn-policy.js";
import type { Terminator } from "./terminator.js";
import type { UsageLimits } from "./usage-limits.js";
import type { Breakers } from "./breaker.js";
import type { Live, ManagerDeps } from "./deps.js";
import type { SpawnOptions, SpawnResult } from "./types.js";
import { adapterFor, agentConfig, ensureInstanceDir, requireRecord } from "./lookups.js";
import { inPlace, retireSparePooled, type PoolPlace } from "./pools.js";
import { WarmStart } from "./warm-start.js";

/**
 * Brings instances up: checks the request, reserves the id, lets plugins
 * shape the plan (`beforeSpawn`), launches the agent in its own tmux session,
 * waits until it is ready, types the first prompt. A spawn that fails leaves
 * nothing behind. `restart` relaunches an instance in place.
 */
export class Spawner {
  /** Spawns under way, so close() can let them clean up after themselves. */
  private readonly underWay = new Set<Promise<unknown>>();
  /** Warm pools and reuse: spawns served by running instances. */
  readonly warm: WarmStart;

  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
    private readonly messaging: Messaging,
    private readonly terminator: Terminator,
    private readonly limits: UsageLimits,
    private readonly breakers: Breakers,
  ) {
    this.warm = new WarmStart(
      deps,
      registry,
      messaging,
      (place) => this.track(this.doSpawn({ role: place.role, workDir: place.workDir, parentId: place.parentId, agent: place.agent }, null, place)),
      (id) => terminator.terminate(id),
    );
  }

  spawn(options: SpawnOptions, caller: string | null = null): Promise<SpawnResult> {
    // Without a pool place doSpawn always yields a result or throws.
    return this.track(this.doSpawn(options, caller)) as Promise<SpawnResult>;
  }

  private track<T>(spawning: Promise<T>): Promise<T> {
    this.underWay.add(spawning);
    void spawning.then(
      () => this.underWay.delete(spawning),
      () => this.underWay.delete(spawning),
    );
    return spawning;
  }

  /** Settles once every spawn under way settled (each cleans up after itself). */
  settled(): Promise<void> {
    return Promise.allSettled([...this.underWay]).then(() => undefined);
  }

  /** `fill`: spawn an instance into this warm pool, or nothing (undefined) when it is full or the instances are at limits.maxInstances. */
  private async doSpawn(options: SpawnOptions, caller: string | null, fill?: PoolPlace): Promise<SpawnResult | undefined> {
    const { config, hooks } = this.deps;
    knownRole(config, options.role);
    const parent = options.parentId ? await requireRecord(this.deps.store, options.parentId) : undefined;
    const { roleConfig, parentId, depth } = placeSpawn(config, options.role, options.parentId, parent);
    const agentName = agentForRole(config, options.role, options.agent, this.deps.configPath);
    agentConfig(this.deps, agentName);
    await assertDirectory(options.workDir);
    // What the caller asked for; a plugin's beforeSpawn may still move it (e.g. into a git worktree).
    await assertWorkDirAllowed(options.role, roleConfig, options.workDir, parent);
    if (options.prompt !== undefined && options.prompt.trim() === "") {
      throw new TmuxClaudeError(ErrorCodes.EMPTY_TEXT, "The prompt is empty. Give a prompt with text, or none at all.");
    }
    const budget = options.budget === undefined ? undefined : checkBudget(options.budget, "spawn option budget");
    if (options.reuse !== undefined && options.reuse !== "idle") {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `spawn option reuse ${JSON.stringify(options.reuse)} is not known: give "idle" (reuse an idle instance of the role under the same parent) or leave it out.`, { reuse: options.reuse });
    }
    if (!fill) {
      // Before the id is reserved: a spawn held until a usage limit resets holds no place in limits.maxInstances. Before a
      // take or a reuse too: a prompt handed to an account at its limit would hit it at once. A pool fill does not wait for
      // it: an idle instance uses no tokens.
      await this.limits.beforeSpawn(agentName);
      const first = firstMessage(options.context, options.prompt);
      const warm = await this.warm.start({ ...options, parentId, agent: agentName, workDir: options.workDir, name: options.name, budget, reuse: options.reuse, plugins: options.plugins, first, caller });
      if (warm) return warm;
    }
    // After the usage limit let it through, so a half-open trial is claimed only by a spawn that goes on (one refused
    // or held there would keep the trial from every other spawn); before the id is reserved, so a refused spawn takes
    // no place in limits.maxInstances or limits.spawnRate.
    const ticket = await this.breakers.check(agentName);
    const handBack = async (error: unknown) => {
      // A trial refused here did not try the agent: the next spawn may. The refusal's error stands.
      await this.breakers.failed(ticket, "-", error, false).catch((breakerError: unknown) => this.breakerWriteFailed(agentName, breakerError));
    };
    const reserved = await this.reserve(options, { parentId, depth, agentName, prefix: roleConfig.prefix, budget }, fill).catch(async (error: unknown) => {
      await handBack(error);
      throw error;
    });
    if (!reserved) {
      await handBack(new Error("the pool fill found no room"));
      return undefined;
    }

    let launched = false;
    let ready = false;
    let plan: SpawnPlan = {
      id: reserved.id, role: options.role, parentId, depth, name: options.name, agent: agentName,
      workDir: reserved.workDir, env: {}, args: [], prompt: options.prompt, context: options.context, caller, restart: false,
      plugins: { ...options.plugins },
    };
    try {
      plan = await hooks.beforeSpawn.promise(plan);
      plan.workDir = path.resolve(plan.workDir);
      await assertDirectory(plan.workDir);
      launched = true;
      const launchedAt = Date.now();
      const live = await this.launch(reserved, plan, undefined, movedFrom(reserved.workDir, plan.workDir));
      const record = live.record;
      await this.waitReady(live, { launchedAt, restart: false });
      ready = true;
      // Ready is in the store once the spawn returns: another process (a CLI's list, a reuse) sees the instance idle.
      await this.registry.persisted(record.id);
      // The agent is ready: a breaker the store failed to close must not undo the spawn (the next trial closes it).
      await this.breakers.succeeded(ticket).catch((breakerError: unknown) => this.breakerWriteFailed(agentName, breakerError));
      let receipt: DeliveryReceipt | undefined;
      const text = firstMessage(plan.context, plan.prompt);
      // Its history mark awaited: the record names the prompt typed (turnPrompt) once the spawn returns, also for a caller
      // killed right after (a workflow runner re-attaching its task's instance looks for it).
      if (text !== "") receipt = await this.messaging.send(record.id, text, { whenBusy: "queue" }, caller, true);
      const instance = this.registry.get(record.id)?.record ?? record;
      await hooks.afterSpawn.promise(instance);
      this.deps.logger.info({ instance: instance.id, role: instance.role, agent: instance.agent, pooled: fill !== undefined }, "spawned");
      this.warm.fillUnder(instance);
      return { instance, receipt, source: "cold" };
    } catch (error) {
      await this.discard(reserved.id, launched);
      // Only an agent that was launched and never became ready counts against its breaker: not a plugin's refusal, not
      // tmux failing (no server, a socket error: no fault of the agent, and with a shared store it would open the
      // breaker on every node), nor a spawn cut short by closing the kernel, whose store is going away.
      const agentFailed = launched && !ready && !tmuxFailure(error);
      if (!this.registry.closed) await this.breakers.failed(ticket, reserved.id, error, agentFailed).catch((breakerError: unknown) => this.breakerWriteFailed(agentName, breakerError));
      await this.spawnFailed(plan, error);
      throw error;
    }
  }

  private breakerWriteFailed(agent: string, error: unknown): void {
    this.deps.logger.error({ err: error, agent }, "could not update the agent's circuit breaker (limits.breaker) in the store");
  }

  /** Plugins undo what they made in beforeSpawn; their own failure is logged, the spawn's error stands. */
  private async spawnFailed(plan: SpawnPlan, error: unknown): Promise<void> {
    await this.deps.hooks.spawnFailed
      .promise({ ...this.registry.eventMeta(plan.id), plan, error })
      .catch((tapError: unknown) => this.deps.logger.error({ err: tapError, instance: plan.id }, "a spawnFailed tap failed"));
  }

  /**
   * Count, reserve and register under one lock so concurrent spawns respect
   * limits.maxInstances, and concurrent fills of a pool its count (a fill
   * that would pass either reserves nothing: undefined). A fill takes a
   * limits.spawnRate slot of the parent, a take does not: an agent that
   * spawns without end drains its pool and is then refused.
   */
  private reserve(options: SpawnOptions, place: { parentId: string | null; depth: number; agentName: string; prefix: string; budget: Budget | undefined }, fill?: PoolPlace): Promise<InstanceRecord | undefined> {
    const { config, store } = this.deps;
    let retired: InstanceRecord | undefined;
    const reserved = store.withLock("spawn", async () => {
      const live = (await store.list()).filter((r) => r.status !== "exited");
      const liveCount = live.length;
      if (fill) {
        // A parent being terminated gets no new pooled child (its terminate ends those reserved before its mark).
        const parent = fill.parentId === null ? undefined : live.find((r) => r.id === fill.parentId);
        if ((fill.parentId !== null && (!parent || parent.terminatedAt)) || liveCount >= config.limits.maxInstances || live.filter((r) => inPlace(r, fill)).length >= fill.count) return undefined;
      } else if (liveCount >= config.limits.maxInstances && (retired = await retireSparePooled(store, live, (r) => this.deps.nodes.owns(r)))) {
        // An idle spare gives its place to a spawn with work: it is ended once the new instance holds the place.
      } else if (liveCount >= config.limits.maxInstances) {
        const pooled = live.filter((r) => r.pooled).length;
        throw new TmuxClaudeError(
          ErrorCodes.MAX_INSTANCES,
          `${liveCount} instances are running${pooled ? ` (${pooled} of them idle in warm pools, config pool)` : ""}, the limit (limits.maxInstances) is ${config.limits.maxInstances}. Terminate some${pooled ? ", lower pool" : ""} or raise the limit.`,
          { count: liveCount, pooled, maxInstances: config.limits.maxInstances },
        );
      }
      await takeSpawnSlot(store, config, place.parentId);
      const id = await store.reserveId(place.parentId, place.prefix);
      const now = new Date().toISOString();
      const placeholder: InstanceRecord = {
        id, role: options.role, parentId: place.parentId, depth: place.depth, name: options.name, agent: place.agentName,
        workDir: path.resolve(options.workDir), status: "starting", createdAt: now, updatedAt: now,
        tmux: { node: this.deps.nodes.id, socket: this.deps.runtime.socket, session: sessionNameFor(id), paneId: "", windowId: "", pid: 0 },
        launch: { command: "", args: [], env: {} },
        agentState: { spawner: await currentProcess() },
        ...(place.budget ? { budget: place.budget } : {}),
        ...(fill ? { pooled: { since: now } } : {}),
      };
      await store.put(placeholder);
      return placeholder;
    });
    return reserved.finally(() => {
      if (retired) void this.endRetired(retired);
    });
  }

  /** End a pooled spare that gave its place up (retireSparePooled): its failure is logged, the spawn goes on. */
  private async endRetired(record: InstanceRecord): Promise<void> {
    await this.terminator.terminate(record.id).catch((error: unknown) => this.deps.logger.warn({ err: error, instance: record.id }, "could not end a pooled instance that gave its place up"));
  }

  /** Start the agent's tmux session and record where it lives. */
  /** `workDirOrigin`: where the caller asked to work, when a plugin's beforeSpawn moved the workDir elsewhere. */
  private async launch(reserved: InstanceRecord, plan: SpawnPlan, previous: InstanceRecord | undefined, workDirOrigin: string | undefined): Promise<Live> {
    const { config, runtime } = this.deps;
    const agent = agentConfig(this.deps, plan.agent);
    const adapter = adapterFor(this.deps, plan.agent);
    const instanceDir = await ensureInstanceDir(this.deps.stateDir, reserved.id);
    const planned = { ...config.env, ...agent.env, ...plan.env };
    const spec = await adapter.launch({
      instanceId: reserved.id, role: plan.role, parentId: plan.parentId, roleConfig: config.roles[plan.role]!, agentName: plan.agent, agent,
      workDir: plan.workDir, workDirOrigin, prompt: plan.prompt, context: plan.context, config, previous, instanceDir, env: planned,
    });
    const added: Record<string, string> = {
      ...planned, ...spec.env,
      [INSTANCE_ENV.instanceId]: reserved.id,
      [INSTANCE_ENV.socket]: runtime.socket,
      [INSTANCE_ENV.stateDir]: this.deps.stateDir,
    };
    const env = agentEnvironment(added, runtime.term);
    // The process gets the secrets; the record (and so a shared store) only their digests.
    await keepSecrets(instanceDir, added);
    const program = await resolveCommand(spec.command, env, plan.workDir);
    if (!program) {
      throw new TmuxClaudeError(
        ErrorCodes.AGENT_COMMAND_NOT_FOUND,
        `The command of agent "${plan.agent}" was not found: "${spec.command}" (searched PATH=${env.PATH ?? ""}). Install it or fix agents.${plan.agent}.command${this.deps.configPath ? ` in ${this.deps.configPath}` : " in your config"}.`,
        { agent: plan.agent, command: spec.command },
      );
    }
    const args = [...spec.args, ...plan.args];
    const argv = ["/usr/bin/env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), program, ...args];
    const pane = await runtime.createSession({ name: reserved.tmux.session, cwd: plan.workDir });
    // From the write naming the pane on, a serving kernel here may attach too: it must know the agent is new.
    const attached = this.messaging.launchingHere(reserved.id);
    let live: Live | undefined;
    try {
      live = await this.attachLaunched(reserved, pane, plan, { workDirOrigin, launch: { command: program, args, env: storedEnv(added) }, agentState: spec.agentState });
    } finally {
      attached(live);
    }
    const started = await runtime.exec({ paneId: pane.paneId, cwd: plan.workDir, argv });
    live.record = { ...live.record, tmux: { ...live.record.tmux, pid: started.pid } };
    await this.registry.persist(reserved.id, (r) => ({ ...r, tmux: { ...r.tmux, pid: started.pid } }));
    return live;
  }

  /** Record where the launch lives and attach to it, before the agent starts, so its first output and an early exit are seen. */
  private async attachLaunched(
    reserved: InstanceRecord,
    pane: { paneId: string; windowId: string; pid: number },
    plan: SpawnPlan,
    { workDirOrigin, launch, agentState }: { workDirOrigin: string | undefined; launch: InstanceRecord["launch"]; agentState: Record<string, unknown> | undefined },
  ): Promise<Live> {
    const { runtime, store } = this.deps;
    const updated = await store.update(reserved.id, (r) => ({
      ...r,
      name: plan.name,
      workDir: plan.workDir,
      workDirOrigin,
      status: "starting",
      statusReason: undefined,
      terminatedAt: undefined,
      updatedAt: new Date().toISOString(),
      tmux: { ...r.tmux, node: this.deps.nodes.id, paneId: pane.paneId, windowId: pane.windowId, pid: pane.pid },
      launch,
      agentState: { ...withoutSpawner(r.agentState), ...agentState },
    }));
    if (!updated) {
      await runtime.killSession(reserved.tmux.session);
      throw new TmuxClaudeError(ErrorCodes.SPAWN_FAILED, `Instance "${reserved.id}" was removed (terminated) while it was being launched.`, { id: reserved.id });
    }
    return this.registry.attach(updated);
  }

  /**
   * Ready means: the agent is idle and every plugin's `awaitReady` gate let it
   * through. A gate that fails early fails the spawn at once; otherwise the
   * agent's own failure (with its screen) comes first, then the gates'.
   */
  private async waitReady(live: Live, launch: { launchedAt: number; restart: boolean }): Promise<void> {
    const gates = openReadyGates({
      hooks: this.deps.hooks, store: this.deps.store, instance: live.record, ...launch,
      timeoutMs: this.deps.config.limits.spawnTimeout, gone: live.gone.signal,
    });
    try {
      await Promise.race([this.waitAgentReady(live), gates.failedEarly]);
    } catch (error) {
      gates.cancel(error);
      throw error;
    }
    await gates.done;
  }

  /** Wait until the agent is idle; fail loudly (screen quoted) on a dialog, an exit or the timeout. */
  private async waitAgentReady(live: Live): Promise<void> {
    const { spawnTimeout } = this.deps.config.limits;
    const id = live.record.id;
    try {
      const status = await this.registry.waitForStatus(id, (s) => s !== "starting" && s !== "busy", spawnTimeout, live);
      if (status === "idle") return;
      const reason = live.record.statusReason;
      const screen = await this.registry.screenOf(live);
      throw new TmuxClaudeError(
        ErrorCodes.SPAWN_FAILED,
        `Instance "${id}" (agent ${live.record.agent}) did not become ready: it is ${status}${reason ? ` (${reason})` : ""}. Its screen:\n${quoteScreen(screen)}`,
        { id, status, screen },
      );
    } catch (error) {
      if (error instanceof TmuxClaudeError && error.code === ErrorCodes.READ_TIMEOUT) {
        const screen = await this.registry.screenOf(live);
        throw new TmuxClaudeError(
          ErrorCodes.SPAWN_TIMEOUT,
          `Instance "${id}" (agent ${live.record.agent}) was not ready within limits.spawnTimeout (${spawnTimeout} ms). Its screen:\n${quoteScreen(screen)}\nIf the agent shows a dialog, configure how to answer it; if it is slow to start, raise limits.spawnTimeout.`,
          { id, screen },
        );
      }
      throw error;
    }
  }

  /** Undo a failed spawn: no session, no record, nothing half-created (the id stays reserved). */
  private async discard(id: string, launched: boolean): Promise<void> {
    const record = await this.deps.store.get(id);
    this.registry.detach(id);
    if (launched && record) await this.terminator.stopProcesses(record).catch((error: unknown) => this.deps.logger.warn({ err: error, instance: id }, "cleanup after failed spawn"));
    // A launch whose pane the store never recorded (it refused the write) still has its session, named after the reserved id.
    if (launched && !record?.tmux.paneId) await this.deps.runtime.killSession(sessionNameFor(id)).catch((error: unknown) => this.deps.logger.warn({ err: error, instance: id }, "cleanup after failed spawn"));
    await this.terminator.removeRecord(id);
  }

  /**
   * Relaunch in the same workdir (resuming the conversation where the adapter
   * can), through beforeSpawn and afterSpawn with `plan.restart` set. A
   * beforeSpawn that refuses leaves the running agent alone.
   */
  async restart(id: string): Promise<InstanceRecord> {
    // Earlier state changes of this instance (its exit) are written before the relaunch writes its own.
    await this.registry.persisted(id);
    const previous = await requireRecord(this.deps.store, id);
    let plan: SpawnPlan = {
      id, role: previous.role, parentId: previous.parentId, depth: previous.depth, name: previous.name,
      agent: previous.agent, workDir: previous.workDir, env: await restoreSecrets(await ensureInstanceDir(this.deps.stateDir, id), previous.launch.env), args: [], caller: null, restart: true, plugins: {},
    };
    try {
      plan = await this.deps.hooks.beforeSpawn.promise(plan);
      plan.workDir = path.resolve(plan.workDir);
      await assertDirectory(plan.workDir);
      this.registry.detach(id);
      await this.terminator.stopProcesses(previous);
      const launchedAt = Date.now();
      // The first launch's origin stays the origin: a restart reuses where the plugin put it.
      const live = await this.launch(previous, plan, previous, previous.workDirOrigin ?? movedFrom(previous.workDir, plan.workDir));
      await this.waitReady(live, { launchedAt, restart: true });
      this.messaging.drain(id);
      const instance = this.registry.get(id)?.record ?? live.record;
      await this.deps.hooks.afterSpawn.promise(instance);
      this.deps.logger.info({ instance: id }, "restarted");
      // Its pools were ended when its agent exited: filled again.
      this.warm.fillUnder(instance);
      return instance;
    } catch (error) {
      await this.spawnFailed(plan, error);
      throw error;
    }
  }
}

/** The agent's environment: the launching process's, minus what belongs to its own terminal, plus additions. */
function agentEnvironment(added: Record<string, string>, term: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key === "TMUX" || key === "TMUX_PANE" || key === "TERM" || key === "COLUMNS" || key === "LINES") continue;
    env[key] = value;
  }
  return { ...env, TERM: term, ...added };
}

/** A context without a prompt is the first message itself (`spawn --role manager --context "Build X"`), never dropped; "" for none. */
function firstMessage(context: string | undefined, prompt: string | undefined): string {
  return [context, prompt].filter((part) => part !== undefined && part !== "").join("\n\n");
}

/** The requested workDir when a beforeSpawn tap moved the instance elsewhere (a git worktree, say); else undefined. */
function movedFrom(requested: string, planned: string): string | undefined {
  return path.resolve(requested) === path.resolve(planned) ? undefined : path.resolve(requested);
}

function withoutSpawner(state: Record<string, unknown> | undefined): Record<string, unknown> {
  const { spawner: _spawner, ...rest } = state ?? {};
  return rest;
}

/** tmux itself failed (TC_TMUX_*: not found, a command failed, the control connection dropped), not the agent. */
function tmuxFailure(error: unknown): boolean {
  return isTmuxClaudeError(error) && error.code.startsWith("TC_TMUX_");
}
