import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { AgentAdapter, AgentDriver, DriverContext, PaneIO, StatusReport, TokenUsage } from "../agents/adapter.js";
import type { AgentConfig, ResolvedConfig } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError, quoteScreen } from "../errors.js";
import type { DeliveryReceipt, KernelHooks, OutgoingMessage, SpawnPlan, WhenBusy } from "../kernel/hooks.js";
import type { InstanceRecord, InstanceStatus, StateStore } from "../store/types.js";
import { sessionNameFor } from "../tmux/quote.js";
import { typeableText } from "../tmux/typeable.js";
import type { PaneSnapshot, TmuxRuntime } from "../tmux/runtime.js";
import { currentProcess, isSameProcess, processTree, signalProcesses, waitForExit } from "../os/process-tree.js";
import { openReadyGates } from "./ready-gate.js";
import { resolveCommand } from "./resolve-command.js";
import { waitDelivered, type ManagerEvents } from "./wait-delivered.js";
import { exitedError } from "./failures.js";
import { agentForRole, assertDirectory, assertWorkDirAllowed } from "./spawn-policy.js";

export interface SpawnOptions {
  role: string;
  workDir: string;
  prompt?: string;
  context?: string;
  /** Parent instance; null or undefined = top level. */
  parentId?: string | null;
  name?: string;
  /** Agent name from config; default `defaultAgent`. */
  agent?: string;
}

export interface SpawnResult {
  instance: InstanceRecord;
  /** Receipt of the first prompt, when one was given. */
  receipt?: DeliveryReceipt;
}

export interface SendOptions {
  /** When the agent is busy: queue until idle (default), type it in now, or refuse. */
  whenBusy?: WhenBusy;
}

export interface ReadOptions {
  /** Lines of screen to return (with scrollback). Default 40. */
  lines?: number;
  /** Block until the current turn ends (the instance is no longer starting or busy). */
  wait?: boolean;
  /** How long `wait` may block; default 10 minutes. */
  timeoutMs?: number;
}

export interface ReadResult {
  id: string;
  status: InstanceStatus;
  statusReason?: string;
  lastReply?: string;
  screen: string;
  queued: number;
  /** Tokens used so far, where the adapter can tell. */
  usage?: TokenUsage;
}

export interface ListFilter {
  role?: string;
  parentId?: string | null;
  status?: InstanceStatus;
}

export interface InstanceSummary extends InstanceRecord {
  children: string[];
}

export interface TerminateOptions {
  /** Also terminate every descendant; without it an instance with live children is refused. */
  cascade?: boolean;
}

export interface ManagerDeps {
  config: ResolvedConfig;
  configPath: string | null;
  store: StateStore;
  runtime: TmuxRuntime;
  hooks: KernelHooks;
  adapters: ReadonlyMap<string, AgentAdapter>;
  logger: Logger;
  stateDir: string;
}

/** An instance this process is attached to: its pane streams here and its driver runs here. */
interface Live {
  record: InstanceRecord;
  driver: AgentDriver;
  listeners: Set<(data: Buffer) => void>;
  /** The last bytes of output, to explain an agent that died. */
  tail: Buffer;
  /** Aborted when the instance exits or is detached. */
  gone: AbortController;
}

const TAIL_BYTES = 8 * 1024;
/** After a failed delivery of a queued message, try again this much later. */
const DRAIN_RETRY_MS = 2_000;
/** Statuses in which the agent takes input without interrupting anything. */
const DELIVERABLE: ReadonlySet<InstanceStatus> = new Set(["idle", "error"]);

/**
 * Owns the instances: spawning, addressing, delivering messages, watching
 * their state, terminating and restarting them. Every path that changes an
 * instance goes through here; tmux is reached only through the runtime and
 * state only through the store.
 */
export class InstanceManager {
  private readonly live = new Map<string, Live>();
  private readonly attaching = new Map<string, Promise<Live>>();
  /** Spawns under way, so close() can let them clean up after themselves. */
  private readonly spawning = new Set<Promise<unknown>>();
  /** Attachments whose exit is being recorded (the reason is read from their pane first). */
  private readonly exiting = new Set<Live>();
  private readonly byPane = new Map<string, string>();
  private readonly byWindow = new Map<string, string>();
  private readonly serials = new Map<string, Promise<unknown>>();
  private readonly persists = new Map<string, Promise<unknown>>();
  private readonly events = new EventEmitter<ManagerEvents>();
  private unwatchStore: (() => void) | undefined;
  private watchAll = false;
  private closed = false;

  constructor(private readonly deps: ManagerDeps) {
    this.events.setMaxListeners(0);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Re-attach to what survived: live panes keep their instances, vanished ones
   * are marked exited (never forgotten). With `watchAll`, every live instance
   * is watched and queued messages are delivered as instances become idle.
   */
  async start(options: { watchAll: boolean }): Promise<void> {
    this.watchAll = options.watchAll;
    const { runtime } = this.deps;
    runtime.on("output", this.onOutput);
    runtime.on("panes", this.onPanes);
    runtime.on("disconnect", this.onDisconnect);
    await this.reconcile();
    if (this.watchAll) {
      this.unwatchStore = this.deps.store.watch((change) => {
        if (change.kind === "instance") {
          void this.onStoreInstance(change.id).catch((error: unknown) => this.deps.logger.warn({ err: error, instance: change.id }, "could not follow a change of an instance"));
        }
        else this.drain(change.instanceId);
      });
      await this.attachAll();
    }
  }

  /** Watch every live instance and deliver what is queued for it (serve). */
  private async attachAll(): Promise<void> {
    for (const record of await this.deps.store.list()) {
      if (record.status !== "exited" && record.tmux.paneId && !this.closed) {
        await this.attach(record).then(
          () => this.drain(record.id),
          (error: unknown) => this.deps.logger.warn({ err: error, instance: record.id }, "could not re-attach"),
        );
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatchStore?.();
    const { runtime } = this.deps;
    runtime.off("output", this.onOutput);
    runtime.off("panes", this.onPanes);
    runtime.off("disconnect", this.onDisconnect);
    for (const id of [...this.live.keys()]) this.detach(id);
    // A spawn cut short by the detach above removes what it created before we let go of tmux and the store.
    await Promise.allSettled([...this.spawning, ...this.serials.values(), ...this.persists.values()]);
  }

  /** Compare the store with tmux: instances whose pane is gone are exited. */
  async reconcile(): Promise<void> {
    const { store, runtime, logger } = this.deps;
    const panes = new Map((await runtime.listPanes()).map((pane) => [pane.paneId, pane]));
    for (const record of await store.list()) {
      if (record.status === "exited") continue;
      const pane = record.tmux.paneId ? panes.get(record.tmux.paneId) : undefined;
      if (pane && !pane.dead && pane.session === record.tmux.session) continue;
      const ownPane = pane && pane.session === record.tmux.session ? pane : undefined;
      if (!record.tmux.paneId) {
        // A spawn that never got its pane: harmless while its spawner lives, debris once it died.
        const owner = record.agentState?.spawner as { pid: number; start: string } | undefined;
        if (owner && (await isSameProcess(owner))) continue;
        await store.delete(record.id);
        logger.info({ instance: record.id }, "removed an instance whose spawn never finished");
        continue;
      }
      await this.markExited(record, ownPane?.dead ? await this.exitReason(record, ownPane.deadStatus) : "its tmux session was gone (found when re-attaching)");
    }
  }

  // -------------------------------------------------------------------- spawn

  spawn(options: SpawnOptions, caller: string | null = null): Promise<SpawnResult> {
    const spawning = this.doSpawn(options, caller);
    this.spawning.add(spawning);
    void spawning.then(
      () => this.spawning.delete(spawning),
      () => this.spawning.delete(spawning),
    );
    return spawning;
  }

  private async doSpawn(options: SpawnOptions, caller: string | null): Promise<SpawnResult> {
    const { config, store, hooks } = this.deps;
    const role = config.roles[options.role];
    if (!role) {
      throw new TmuxClaudeError(
        ErrorCodes.UNKNOWN_ROLE,
        `Unknown role "${options.role}". Known roles: ${Object.keys(config.roles).join(", ")}. Use one of them or add it under roles in your config.`,
        { role: options.role },
      );
    }
    if (options.parentId === "") {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, "parentId is empty. Give the parent's id, or null (leave it out) for a top-level instance.");
    }
    const parentId = options.parentId ?? null;
    let depth = 1;
    let parent: InstanceRecord | undefined;
    if (parentId) {
      parent = await this.requireRecord(parentId);
      if (parent.status === "exited") {
        throw new TmuxClaudeError(ErrorCodes.INSTANCE_EXITED, `Parent instance "${parentId}" has exited; restart it or spawn under another parent.`, { id: parentId });
      }
      const allowed = config.roles[parent.role]?.spawns ?? [];
      if (!allowed.includes(options.role)) {
        throw new TmuxClaudeError(
          ErrorCodes.ROLE_NOT_ALLOWED,
          `A ${parent.role} ("${parentId}") may not spawn a ${options.role}. It may spawn: ${allowed.join(", ") || "nothing"}. Change roles.${parent.role}.spawns in your config to allow it.`,
          { role: options.role, parentId, parentRole: parent.role },
        );
      }
      depth = parent.depth + 1;
    } else if (!role.topLevel) {
      throw new TmuxClaudeError(
        ErrorCodes.ROLE_NOT_ALLOWED,
        `A ${options.role} cannot be spawned at the top level; give a parent (parentId) whose role may spawn it, or set roles.${options.role}.topLevel to true.`,
        { role: options.role },
      );
    }
    if (depth > config.limits.maxDepth) {
      throw new TmuxClaudeError(
        ErrorCodes.MAX_DEPTH,
        `Spawning under "${parentId}" would make depth ${depth}, over limits.maxDepth (${config.limits.maxDepth}). Spawn higher in the tree or raise limits.maxDepth.`,
        { depth, maxDepth: config.limits.maxDepth },
      );
    }
    const agentName = agentForRole(config, options.role, options.agent, this.deps.configPath);
    this.agentConfig(agentName);
    await assertDirectory(options.workDir);
    // What the caller asked for; a plugin's beforeSpawn may still move it (e.g. into a git worktree).
    await assertWorkDirAllowed(options.role, role, options.workDir, parent);
    if (options.prompt !== undefined && options.prompt.trim() === "") {
      throw new TmuxClaudeError(ErrorCodes.EMPTY_TEXT, "The prompt is empty. Give a prompt with text, or none at all.");
    }

    // Count, reserve and register under one lock so concurrent spawns respect the limit.
    const reserved = await store.withLock("spawn", async () => {
      const liveCount = (await store.list()).filter((r) => r.status !== "exited").length;
      if (liveCount >= config.limits.maxInstances) {
        throw new TmuxClaudeError(
          ErrorCodes.MAX_INSTANCES,
          `${liveCount} instances are running, the limit (limits.maxInstances) is ${config.limits.maxInstances}. Terminate some or raise the limit.`,
          { count: liveCount, maxInstances: config.limits.maxInstances },
        );
      }
      const id = await store.reserveId(parentId, role.prefix);
      const now = new Date().toISOString();
      const placeholder: InstanceRecord = {
        id, role: options.role, parentId, depth, name: options.name, agent: agentName,
        workDir: path.resolve(options.workDir), status: "starting", createdAt: now, updatedAt: now,
        tmux: { socket: this.deps.runtime.socket, session: sessionNameFor(id), paneId: "", windowId: "", pid: 0 },
        launch: { command: "", args: [], env: {} },
        agentState: { spawner: await currentProcess() },
      };
      await store.put(placeholder);
      return placeholder;
    });

    let launched = false;
    try {
      let plan: SpawnPlan = {
        id: reserved.id, role: options.role, parentId, depth, name: options.name, agent: agentName,
        workDir: reserved.workDir, env: {}, args: [], prompt: options.prompt, context: options.context, caller,
      };
      plan = await hooks.beforeSpawn.promise(plan);
      plan.workDir = path.resolve(plan.workDir);
      await assertDirectory(plan.workDir);
      launched = true;
      const launchedAt = Date.now();
      const live = await this.launch(reserved, plan);
      const record = live.record;
      await this.waitReady(live, { launchedAt, restart: false });
      let receipt: DeliveryReceipt | undefined;
      // A context without a prompt is the first message itself (`spawn --role manager --context "Build X"`), never dropped.
      const first = [plan.context, plan.prompt].filter((part) => part !== undefined && part !== "").join("\n\n");
      if (first !== "" && !live.record.agentState?.promptDelivered) {
        receipt = await this.send(record.id, first, { whenBusy: "queue" }, caller);
      }
      const instance = this.live.get(record.id)?.record ?? record;
      await hooks.afterSpawn.promise(instance);
      this.deps.logger.info({ instance: instance.id, role: instance.role, agent: instance.agent }, "spawned");
      return { instance, receipt };
    } catch (error) {
      await this.discard(reserved.id, launched);
      throw error;
    }
  }

  /** Start the agent's tmux session and record where it lives. */
  private async launch(reserved: InstanceRecord, plan: SpawnPlan, previous?: InstanceRecord): Promise<Live> {
    const { config, runtime, store } = this.deps;
    const agent = this.agentConfig(plan.agent);
    const adapter = this.adapterFor(plan.agent);
    const instanceDir = await this.instanceDir(reserved.id);
    const planned = { ...config.env, ...agent.env, ...plan.env };
    const spec = await adapter.launch({
      instanceId: reserved.id, role: plan.role, parentId: plan.parentId, roleConfig: config.roles[plan.role]!, agentName: plan.agent, agent,
      workDir: plan.workDir, prompt: plan.prompt, context: plan.context, config, previous, instanceDir, env: planned,
    });
    const added: Record<string, string> = {
      ...planned, ...spec.env,
      TMUX_CLAUDE_INSTANCE_ID: reserved.id,
      TMUX_CLAUDE_SOCKET: runtime.socket,
      TMUX_CLAUDE_STATE_DIR: this.deps.stateDir,
    };
    const env = agentEnvironment(added, runtime.term);
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
    const updated = await store.update(reserved.id, (r) => ({
      ...r,
      name: plan.name,
      workDir: plan.workDir,
      status: "starting",
      statusReason: undefined,
      terminatedAt: undefined,
      updatedAt: new Date().toISOString(),
      tmux: { ...r.tmux, paneId: pane.paneId, windowId: pane.windowId, pid: pane.pid },
      launch: { command: program, args, env: added },
      agentState: { ...withoutSpawner(r.agentState), ...spec.agentState, promptDelivered: spec.promptDelivered ?? false },
    }));
    if (!updated) {
      await runtime.killSession(reserved.tmux.session);
      throw new TmuxClaudeError(ErrorCodes.SPAWN_FAILED, `Instance "${reserved.id}" was removed (terminated) while it was being launched.`, { id: reserved.id });
    }
    // Attach before the agent starts, so its first output and an early exit are seen.
    const live = await this.attach(updated);
    const started = await runtime.exec({ paneId: pane.paneId, cwd: plan.workDir, argv });
    live.record = { ...live.record, tmux: { ...live.record.tmux, pid: started.pid } };
    await this.persist(reserved.id, (r) => ({ ...r, tmux: { ...r.tmux, pid: started.pid } }));
    return live;
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
      const status = await this.waitForStatus(id, (s) => s !== "starting" && s !== "busy", spawnTimeout, live);
      if (status === "idle") return;
      const reason = live.record.statusReason;
      throw new TmuxClaudeError(
        ErrorCodes.SPAWN_FAILED,
        `Instance "${id}" (agent ${live.record.agent}) did not become ready: it is ${status}${reason ? ` (${reason})` : ""}. Its screen:\n${quoteScreen(await this.screenOf(live))}`,
        { id, status, screen: await this.screenOf(live) },
      );
    } catch (error) {
      if (error instanceof TmuxClaudeError && error.code === ErrorCodes.READ_TIMEOUT) {
        const screen = await this.screenOf(live);
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
    this.detach(id);
    if (launched && record) await this.stopProcesses(record).catch((error: unknown) => this.deps.logger.warn({ err: error, instance: id }, "cleanup after failed spawn"));
    await this.deps.store.delete(id);
    await rm(path.join(this.deps.stateDir, "agents", id), { recursive: true, force: true });
  }

  // --------------------------------------------------------------------- send

  async send(id: string, text: string, options: SendOptions = {}, caller: string | null = null): Promise<DeliveryReceipt> {
    if (typeof text !== "string" || text.trim() === "") {
      throw new TmuxClaudeError(ErrorCodes.EMPTY_TEXT, `The message to "${id}" is empty. Give the text to send.`, { id });
    }
    const whenBusy = options.whenBusy ?? "queue";
    if (!["queue", "now", "refuse"].includes(whenBusy)) {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `whenBusy must be "queue", "now" or "refuse", got "${String(whenBusy)}".`);
    }
    // Join this instance's line before the first await: messages keep the order of the calls.
    return this.serial(id, () => this.sendNow(id, text, whenBusy, caller));
  }

  private async sendNow(id: string, text: string, whenBusy: WhenBusy, caller: string | null): Promise<DeliveryReceipt> {
    const record = this.live.get(id)?.record ?? (await this.requireRecord(id));
    if (record.status === "exited") throw exitedError(record);
    const { hooks } = this.deps;
    let message: OutgoingMessage = { id: randomUUID(), instanceId: id, text, from: caller, whenBusy };
    message = await hooks.beforeSend.promise(message);
    const receipt = (await hooks.route.promise(message)) ?? (await this.deliverLocal(message, record));
    await hooks.afterSend.promise(message, receipt);
    return receipt;
  }

  /** Deliver on this machine's tmux; runs inside the instance's serial line. */
  private async deliverLocal(message: OutgoingMessage, record: InstanceRecord): Promise<DeliveryReceipt> {
    const { store } = this.deps;
    const id = message.instanceId;
    const live = await this.attach(record);
    return this.sendLock(id, async () => {
        const waiting = await store.queue(id);
        const status = live.record.status;
        if (status === "exited") throw exitedError(live.record);
        const free = DELIVERABLE.has(status) && waiting.length === 0;
        if (!free && message.whenBusy === "refuse") {
          throw new TmuxClaudeError(
            ErrorCodes.INSTANCE_BUSY,
            `Instance "${id}" is ${status}${waiting.length ? ` with ${waiting.length} queued message(s)` : ""}; the message was refused as asked. Send with whenBusy "queue" to deliver it when the agent is idle.`,
            { id, status, queued: waiting.length },
          );
        }
        if (!free && message.whenBusy === "queue") {
          await store.enqueue({ id: message.id, instanceId: id, text: message.text, from: message.from, enqueuedAt: new Date().toISOString() });
          this.deps.logger.debug({ instance: id, message: message.id, status }, "queued");
          return { messageId: message.id, instanceId: id, state: "queued", position: waiting.length + 1 };
        }
        await this.submit(live, message.text);
        return { messageId: message.id, instanceId: id, state: "delivered", acceptedAt: new Date().toISOString() };
    });
  }

  /** Wait until a queued message was delivered; fails at once when it no longer can be (see wait-delivered.ts). */
  waitDelivered(instanceId: string, messageId: string, timeoutMs: number): Promise<void> {
    return waitDelivered(
      {
        store: this.deps.store,
        events: this.events,
        live: (id) => this.live.get(id)?.record,
        deliver: async (id) => {
          await this.attach(await this.requireRecord(id));
          this.drain(id);
        },
        gone: (id) => this.live.get(id)?.gone.signal,
      },
      instanceId,
      messageId,
      timeoutMs,
    );
  }

  /** Wait until every message queued for an instance now was delivered (e.g. those kept while it was exited); returns how many. */
  async deliverQueued(instanceId: string, timeoutMs: number): Promise<number> {
    const queue = await this.deps.store.queue(instanceId);
    const last = queue.at(-1);
    if (last) await this.waitDelivered(instanceId, last.id, timeoutMs);
    return queue.length;
  }

  /** Deliver the oldest queued message if the instance can take it now. */
  private drain(id: string): void {
    const live = this.live.get(id);
    if (!live || this.closed || !DELIVERABLE.has(live.record.status)) return;
    const { store, logger } = this.deps;
    let attempted: string | undefined;
    void this.serial(id, () =>
      this.sendLock(id, async () => {
        const current = this.live.get(id);
        if (!current || !DELIVERABLE.has(current.record.status)) return;
        const [next] = await store.queue(id);
        if (!next) return;
        attempted = next.id;
        await this.submit(current, next.text);
        await store.dequeue(id, next.id);
        logger.debug({ instance: id, message: next.id }, "delivered a queued message");
        this.events.emit("delivered", next.id);
      }),
    ).catch((error: unknown) => {
      logger.warn({ err: error, instance: id }, "delivering a queued message failed; it stays queued and is tried again");
      // A sender waiting for this very message learns now, not at its timeout.
      if (attempted) this.events.emit("deliveryFailed", attempted, error);
      if (this.closed || !this.live.has(id)) return;
      // Nothing else may happen to trigger the next attempt while the agent stays idle.
      const retry = setTimeout(() => this.drain(id), DRAIN_RETRY_MS);
      retry.unref();
    });
  }

  /**
   * Hand text to the driver and wait for its receipt, within limits.sendTimeout.
   * The driver gets the text as the pane will show it (`typeableText`), so what
   * it looks for on the screen is what was typed.
   */
  private async submit(live: Live, text: string): Promise<void> {
    const { sendTimeout } = this.deps.config.limits;
    const timeout = AbortSignal.timeout(sendTimeout);
    try {
      await live.driver.submit(typeableText(text), AbortSignal.any([timeout, live.gone.signal]));
    } catch (error) {
      if (error instanceof TmuxClaudeError) throw error;
      const screen = await this.screenOf(live);
      const why = live.gone.signal.aborted ? "the agent exited" : timeout.aborted ? `no receipt within limits.sendTimeout (${sendTimeout} ms)` : String(error);
      throw new TmuxClaudeError(
        timeout.aborted ? ErrorCodes.SEND_TIMEOUT : ErrorCodes.SEND_FAILED,
        `The message to "${live.record.id}" was not accepted: ${why}. Its screen:\n${quoteScreen(screen)}`,
        { id: live.record.id, screen },
        { cause: error },
      );
    }
  }

  // --------------------------------------------------------------------- read

  async read(id: string, options: ReadOptions = {}): Promise<ReadResult> {
    const lines = options.lines ?? 40;
    if (!Number.isInteger(lines) || lines < 1) {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `lines must be a positive integer, got ${String(options.lines)}.`);
    }
    let record = await this.requireRecord(id);
    let screen = "";
    if (record.status !== "exited") {
      const live = await this.attach(record);
      if (options.wait) {
        await this.waitForStatus(id, (s) => s !== "busy" && s !== "starting", options.timeoutMs ?? 600_000, live).catch(async (error: unknown) => {
          if (error instanceof TmuxClaudeError && error.code === ErrorCodes.READ_TIMEOUT) {
            throw new TmuxClaudeError(
              ErrorCodes.READ_TIMEOUT,
              `Instance "${id}" is still ${this.live.get(id)?.record.status ?? "busy"} after ${options.timeoutMs ?? 600_000} ms. Its screen:\n${quoteScreen(await this.screenOf(live))}`,
              { id },
            );
          }
          throw error;
        });
      }
      record = this.live.get(id)?.record ?? (await this.requireRecord(id));
      screen = record.status === "exited" ? tailText(live.tail) : await this.deps.runtime.capture(record.tmux.paneId, { lines }).catch(() => tailText(live.tail));
    }
    const queued = (await this.deps.store.queue(id)).length;
    const usage = await this.live.get(id)?.driver.usage?.().catch(() => undefined);
    return { id, status: record.status, statusReason: record.statusReason, lastReply: record.lastReply, screen, queued, ...(usage ? { usage } : {}) };
  }

  // --------------------------------------------------------------------- list

  async list(filter: ListFilter = {}): Promise<InstanceSummary[]> {
    const records = await this.deps.store.list();
    if (!this.watchAll) {
      // Nobody may have watched these agents since their last change: look now (one screen or event read each).
      await Promise.all(
        records
          .filter((r) => r.status !== "exited" && r.tmux.paneId && !this.live.has(r.id))
          .map((r) => this.attach(r).catch((error: unknown) => this.deps.logger.debug({ err: error, instance: r.id }, "could not attach to refresh its status"))),
      );
    }
    const children = new Map<string, string[]>();
    for (const record of records) {
      if (!record.parentId) continue;
      const list = children.get(record.parentId) ?? [];
      list.push(record.id);
      children.set(record.parentId, list);
    }
    return records
      .map((record) => withPluginState(this.live.get(record.id)?.record, record))
      .filter((r) => filter.role === undefined || r.role === filter.role)
      .filter((r) => filter.parentId === undefined || r.parentId === filter.parentId)
      .filter((r) => filter.status === undefined || r.status === filter.status)
      .sort((a, b) => compareIds(a.id, b.id))
      .map((r) => ({ ...r, children: (children.get(r.id) ?? []).sort(compareIds) }));
  }

  async get(id: string): Promise<InstanceRecord> {
    const live = this.live.get(id);
    if (!live) return this.requireRecord(id);
    // Without a store watch (one-shot kernels), plugins' state another process wrote is only in the store.
    if (this.watchAll) return live.record;
    return withPluginState(live.record, await this.deps.store.get(id));
  }

  /** Atomically replace one plugin's part of a record (`pluginState[plugin]`); every process sees it through the store. */
  async updatePluginState(id: string, plugin: string, updater: (state: unknown) => unknown): Promise<InstanceRecord | undefined> {
    const updated = await this.deps.store.update(id, (r) => ({ ...r, pluginState: { ...r.pluginState, [plugin]: updater(r.pluginState?.[plugin]) } }));
    const live = this.live.get(id);
    if (live && updated) live.record = { ...live.record, pluginState: updated.pluginState };
    return updated;
  }

  // ---------------------------------------------------------------- terminate

  async terminate(id: string, options: TerminateOptions = {}): Promise<string[]> {
    const record = await this.requireRecord(id);
    const all = await this.deps.store.list();
    const children = all.filter((r) => r.parentId === id);
    const liveChildren = children.filter((r) => r.status !== "exited");
    if (liveChildren.length && !options.cascade) {
      throw new TmuxClaudeError(
        ErrorCodes.HAS_CHILDREN,
        `Instance "${id}" has ${liveChildren.length} running child(ren): ${liveChildren.map((c) => c.id).join(", ")}. Terminate with cascade to end them too, or terminate them first.`,
        { id, children: liveChildren.map((c) => c.id) },
      );
    }
    const terminated: string[] = [];
    if (options.cascade) {
      const results = await Promise.all(children.map((child) => this.terminate(child.id, { cascade: true })));
      for (const ids of results) terminated.push(...ids);
    }
    const event = { instance: record, cascade: options.cascade ?? false };
    await this.deps.hooks.beforeTerminate.promise(event);
    // Marked first: whoever sees the agent exit next knows it was terminated, and that its queue goes too.
    await this.deps.store.update(id, (r) => ({ ...r, terminatedAt: new Date().toISOString() }));
    this.detach(id, undefined, "it was terminated");
    await this.stopProcesses(record);
    await this.deps.store.delete(id);
    await rm(path.join(this.deps.stateDir, "agents", id), { recursive: true, force: true });
    terminated.push(id);
    await this.deps.hooks.afterTerminate.promise(event);
    this.deps.logger.info({ instance: id }, "terminated");
    return terminated;
  }

  /**
   * End the agent and every process it started: SIGHUP (what closing a
   * terminal sends) to the agent and SIGTERM to its descendants, SIGKILL to
   * whatever still runs after limits.terminateGrace, then the session goes.
   */
  private async stopProcesses(record: InstanceRecord): Promise<void> {
    const { runtime, config } = this.deps;
    if (!record.tmux.paneId) return;
    const pane = (await runtime.listPanes()).find((p) => p.paneId === record.tmux.paneId && p.session === record.tmux.session);
    if (pane && !pane.dead) {
      const tree = await processTree(pane.pid, { TMUX_CLAUDE_INSTANCE_ID: record.id, TMUX_CLAUDE_STATE_DIR: this.deps.stateDir });
      if (tree.length) {
        await signalProcesses(tree.slice(0, 1), "SIGHUP");
        await signalProcesses(tree.slice(1), "SIGTERM");
        const survivors = await waitForExit(tree, config.limits.terminateGrace);
        if (survivors.length) {
          this.deps.logger.info({ instance: record.id, pids: survivors.map((p) => p.pid) }, "killing processes that outlived the grace period");
          await signalProcesses(survivors, "SIGKILL");
        }
      }
    }
    await runtime.killSession(record.tmux.session);
  }

  // ------------------------------------------------------------------ restart

  /** Relaunch in the same workdir (resuming the conversation where the adapter can). */
  async restart(id: string): Promise<InstanceRecord> {
    // Earlier state changes of this instance (its exit) are written before the relaunch writes its own.
    await this.persists.get(id);
    const previous = await this.requireRecord(id);
    this.detach(id);
    await this.stopProcesses(previous);
    const plan: SpawnPlan = {
      id, role: previous.role, parentId: previous.parentId, depth: previous.depth, name: previous.name,
      agent: previous.agent, workDir: previous.workDir, env: previous.launch.env, args: [], caller: null,
    };
    await assertDirectory(previous.workDir);
    const launchedAt = Date.now();
    const live = await this.launch(previous, plan, previous);
    const record = live.record;
    await this.waitReady(live, { launchedAt, restart: true });
    this.drain(id);
    this.deps.logger.info({ instance: id }, "restarted");
    return this.live.get(id)?.record ?? record;
  }

  // ------------------------------------------------------------- attachment

  /** Attach this process to a live instance: stream its pane and run its driver here. */
  private attach(record: InstanceRecord): Promise<Live> {
    const existing = this.live.get(record.id);
    if (existing) return Promise.resolve(existing);
    let pending = this.attaching.get(record.id);
    if (!pending) {
      pending = this.doAttach(record).finally(() => this.attaching.delete(record.id));
      this.attaching.set(record.id, pending);
    }
    return pending;
  }

  private async doAttach(record: InstanceRecord): Promise<Live> {
    const { runtime } = this.deps;
    // A spawn that reaches this point after close() began must fail (and clean up), not wait unwatched.
    if (this.closed) throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `The kernel is closing; instance "${record.id}" is not watched any more.`, { id: record.id });
    if (!record.tmux.paneId) {
      throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `Instance "${record.id}" is still being spawned by another process; try again once it is ready.`, { id: record.id });
    }
    const adapter = this.adapterFor(record.agent);
    try {
      await runtime.watch(record.tmux.windowId);
    } catch (error) {
      throw await this.attachFailed(record, error);
    }
    try {
      return await this.startDriver(record, adapter);
    } catch (error) {
      // A window left linked into our monitor would outlive its own session.
      this.detach(record.id);
      await runtime.unwatch(record.tmux.windowId).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A window that cannot be watched: when its pane is gone (the tmux server died since the
   * record was written), the instance has exited, and the caller is told so, not tmux's words.
   */
  private async attachFailed(record: InstanceRecord, error: unknown): Promise<unknown> {
    if (!isTmuxClaudeError(error, ErrorCodes.TMUX_COMMAND_FAILED)) return error;
    const panes = await this.deps.runtime.listPanes().catch(() => undefined);
    if (!panes || panes.some((p) => p.paneId === record.tmux.paneId && p.session === record.tmux.session)) return error;
    await this.markExited(record, "its tmux session was gone when this process attached to it");
    return exitedError((await this.deps.store.get(record.id)) ?? record);
  }

  private async startDriver(record: InstanceRecord, adapter: AgentAdapter): Promise<Live> {
    const { runtime, logger } = this.deps;
    const live: Live = { record, driver: undefined as unknown as AgentDriver, listeners: new Set(), tail: Buffer.alloc(0), gone: new AbortController() };
    const pane: PaneIO = {
      paneId: record.tmux.paneId,
      capture: (options) => runtime.capture(record.tmux.paneId, options),
      sendText: (text) => runtime.sendText(record.tmux.paneId, text),
      sendKey: (key) => runtime.sendKey(record.tmux.paneId, key),
      onOutput: (listener) => {
        live.listeners.add(listener);
        return () => live.listeners.delete(listener);
      },
    };
    const instanceDir = await this.instanceDir(record.id);
    const ctx: DriverContext = {
      instanceId: record.id,
      instanceDir,
      record: () => live.record,
      pane,
      logger: logger.child({ instance: record.id, agent: record.agent }),
      agent: this.agentConfig(record.agent),
      status: () => live.record.status,
      setStatus: (status, report) => this.applyStatus(record.id, status, report),
      get agentState() {
        return live.record.agentState ?? {};
      },
      updateAgentState: async (patch) => {
        live.record = { ...live.record, agentState: { ...live.record.agentState, ...patch } };
        await this.persist(record.id, sameLaunch(record.tmux.paneId, (r) => ({ ...r, agentState: { ...r.agentState, ...patch } })));
      },
    };
    live.driver = adapter.drive(ctx);
    this.live.set(record.id, live);
    this.byPane.set(record.tmux.paneId, record.id);
    this.byWindow.set(record.tmux.windowId, record.id);
    await live.driver.start();
    return live;
  }

  /** Let go of an instance; with `only`, only if that attachment is still the current one (not a newer, restarted one). */
  private detach(id: string, only?: Live, why = "this process let go of it"): void {
    const live = this.live.get(id);
    if (!live || (only && live !== only)) return;
    this.live.delete(id);
    this.byPane.delete(live.record.tmux.paneId);
    this.byWindow.delete(live.record.tmux.windowId);
    live.gone.abort(new TmuxClaudeError(ErrorCodes.INSTANCE_EXITED, `Instance "${id}" is gone: ${why}.`, { id }));
    live.driver.dispose();
    void this.deps.runtime.unwatch(live.record.tmux.windowId).catch(() => undefined);
  }

  // ------------------------------------------------------------------- status

  private applyStatus(id: string, to: InstanceStatus, report: StatusReport = {}): void {
    const live = this.live.get(id);
    if (!live) return;
    const from = live.record.status;
    if (from === to && report.lastReply === undefined && report.reason === live.record.statusReason) return;
    if (from === "exited") return;
    const updatedAt = new Date().toISOString();
    const statusReason = report.reason;
    const lastReply = report.lastReply ?? live.record.lastReply;
    live.record = { ...live.record, status: to, statusReason, lastReply, updatedAt };
    this.events.emit("status", id, live.record);
    void this.persist(id, sameLaunch(live.record.tmux.paneId, (r) => ({ ...r, status: to, statusReason, lastReply, updatedAt })));
    if (from !== to) {
      this.deps.logger.debug({ instance: id, from, to, reason: statusReason }, "status");
      void this.deps.hooks.statusChange
        .promise({ instance: live.record, from, to, reason: statusReason })
        .catch((error: unknown) => this.deps.logger.error({ err: error, instance: id }, "a statusChange tap failed"));
    }
    if (DELIVERABLE.has(to)) this.drain(id);
  }

  /** Persist changes of one instance in the order they happened. */
  private persist(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<void> {
    const previous = this.persists.get(id) ?? Promise.resolve();
    const next = previous
      .then(() => this.deps.store.update(id, updater))
      .then(
        () => undefined,
        (error: unknown) => this.deps.logger.error({ err: error, instance: id }, "could not persist instance state"),
      );
    this.persists.set(id, next);
    void next.then(() => {
      if (this.persists.get(id) === next) this.persists.delete(id);
    });
    return next;
  }

  /**
   * Record that one launch of an instance exited: `of` is the attachment that
   * saw its pane die, or a record whose pane is gone. A launch that is not the
   * instance's any more (restarted since, here or by another process) is left
   * alone: the record is the new launch's.
   */
  private async markExited(of: Live | InstanceRecord, reason: string): Promise<void> {
    if ("driver" in of) return this.markLiveExited(of, reason);
    const live = this.live.get(of.id);
    if (live?.record.tmux.paneId === of.tmux.paneId) return this.markLiveExited(live, reason);
    const before = await this.deps.store.get(of.id);
    const updated = await this.deps.store.update(of.id, sameLaunch(of.tmux.paneId, (r) => ({ ...r, status: "exited", statusReason: reason, updatedAt: new Date().toISOString() })));
    if (before && updated && before.status !== "exited" && updated.status === "exited") {
      await this.deps.hooks.statusChange
        .promise({ instance: updated, from: before.status, to: "exited", reason })
        .catch((error: unknown) => this.deps.logger.error({ err: error, instance: of.id }, "a statusChange tap failed"));
    }
  }

  private async markLiveExited(live: Live, reason: string): Promise<void> {
    this.exiting.delete(live);
    const id = live.record.id;
    if (this.live.get(id) !== live || (await this.relaunchedElsewhere(live))) return;
    this.applyStatus(id, "exited", { reason });
    // Written before letting go, so nobody reads the old status from the store meanwhile.
    await this.persists.get(id);
    this.detach(id, live);
  }

  /** Resolve with the status once `accept(status)` holds; READ_TIMEOUT after `timeoutMs`. */
  private async waitForStatus(id: string, accept: (status: InstanceStatus) => boolean, timeoutMs: number, live?: Live): Promise<InstanceStatus> {
    // A detached Live still holds the last status it had (e.g. exited); the store may not have it yet.
    const current = (live ?? this.live.get(id))?.record.status ?? (await this.requireRecord(id)).status;
    if (accept(current) || current === "exited") return current;
    const gone = (live ?? this.live.get(id))?.gone.signal;
    if (gone?.aborted) throw gone.reason as Error;
    return new Promise<InstanceStatus>((resolve, reject) => {
      const onStatus = (changed: string, record: InstanceRecord) => {
        if (changed !== id) return;
        if (accept(record.status) || record.status === "exited") {
          cleanup();
          resolve(record.status);
        }
      };
      // Let go of (kernel closing, instance terminated): nothing here will see its status change.
      const onGone = () => {
        cleanup();
        reject(gone!.reason as Error);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new TmuxClaudeError(ErrorCodes.READ_TIMEOUT, `Instance "${id}" did not change state within ${timeoutMs} ms.`, { id }));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off("status", onStatus);
        gone?.removeEventListener("abort", onGone);
      };
      this.events.on("status", onStatus);
      gone?.addEventListener("abort", onGone, { once: true });
    });
  }

  // ------------------------------------------------------------------- events

  private readonly onOutput = (paneId: string, data: Buffer): void => {
    const id = this.byPane.get(paneId);
    const live = id ? this.live.get(id) : undefined;
    if (!live) return;
    live.tail = appendTail(live.tail, data);
    for (const listener of live.listeners) listener(data);
  };

  /**
   * Windows closed or sessions changed. An instance whose pane is gone has
   * exited. One whose pane lives on only because we linked its window into our
   * monitor session had its session killed: close the window, so killing the
   * session ends the agent as a person expects.
   */
  private readonly onPanes = (snapshot: PaneSnapshot): void => {
    if (this.live.size === 0) return;
    const panes = new Map(snapshot.panes.map((p) => [`${p.session}\u0000${p.paneId}`, p]));
    for (const live of [...this.live.values()]) {
      const { session, paneId, windowId } = live.record.tmux;
      const pane = panes.get(`${session}\u0000${paneId}`);
      if (pane && !pane.dead) continue;
      if (this.exiting.has(live)) continue;
      this.exiting.add(live);
      const failed = (error: unknown) => this.deps.logger.error({ err: error, instance: live.record.id }, "could not record that an instance exited");
      if (pane?.dead) {
        void this.exitReason(live, pane.deadStatus).then((reason) => this.markExited(live, reason)).catch(failed);
      } else if (snapshot.windows.has(windowId)) {
        void this.deps.runtime.killWindow(windowId).catch((error: unknown) => this.deps.logger.warn({ err: error }, "could not close an orphaned window"));
        void this.markExited(live, `its tmux session "${session}" was killed`).catch(failed);
      } else {
        void this.exitReason(live).then((reason) => this.markExited(live, reason)).catch(failed);
      }
    }
  };

  /** Why an agent exited: its exit status and the last lines it left on its (dead) pane. */
  private async exitReason(live: Live | InstanceRecord, status?: number): Promise<string> {
    const record = "driver" in live ? live.record : live;
    const screen = await this.deps.runtime
      .capture(record.tmux.paneId, { lines: 40 })
      .catch(() => ("driver" in live ? tailText(live.tail) : ""));
    const last = screen
      .split("\n")
      .filter((line) => line.trim() && !line.startsWith("Pane is dead"))
      .slice(-3)
      .join(" / ");
    const how = status === undefined ? "the agent exited" : `the agent exited with status ${status}`;
    return last ? `${how}; its last output: ${last}` : how;
  }

  private readonly onDisconnect = (reason?: string): void => {
    // The tmux server is gone (or our client was killed): what ran there is gone too.
    const why = `the connection to the tmux server ended${reason ? ` (${reason})` : ""}`;
    void (async () => {
      for (const id of [...this.live.keys()]) this.detach(id, undefined, why);
      try {
        await this.reconcile();
        // Only our client was lost (the server lives on): watch the survivors again.
        if (this.watchAll && !this.closed) await this.attachAll();
      } catch (error) {
        // The server is gone for good (no new one could start): the next operation tries again.
        const expected = isTmuxClaudeError(error, ErrorCodes.TMUX_DISCONNECTED);
        this.deps.logger[expected ? "debug" : "warn"]({ err: error }, "reconcile after tmux disconnect failed");
      }
    })();
  };

  /**
   * Another process restarted the instance: the store names a new pane. What
   * this process watched (the old pane) is let go of without a word to the
   * store, which is the new launch's now, and serve follows the new pane.
   */
  private async relaunchedElsewhere(live: Live): Promise<boolean> {
    const record = await this.deps.store.get(live.record.id);
    if (!record?.tmux.paneId || record.tmux.paneId === live.record.tmux.paneId) return false;
    this.deps.logger.debug({ instance: record.id, from: live.record.tmux.paneId, to: record.tmux.paneId }, "relaunched by another process");
    this.detach(record.id, live, "another process relaunched it");
    if (this.watchAll && record.status !== "exited" && !this.closed) {
      await this.attach(record).then(
        () => this.drain(record.id),
        (error: unknown) => this.deps.logger.debug({ err: error, instance: record.id }, "not attached yet"),
      );
    }
    return true;
  }

  private async onStoreInstance(id: string): Promise<void> {
    const record = await this.deps.store.get(id);
    const live = this.live.get(id);
    if (!record) {
      if (live) this.detach(id);
      return;
    }
    if (live && (await this.relaunchedElsewhere(live))) return;
    if (live) {
      // Plugins' state may be written by any process (e.g. serve's MCP endpoint): the store has it.
      if (record.pluginState !== undefined) live.record = { ...live.record, pluginState: record.pluginState };
      // Another process changed it (e.g. an agent hook): adopt newer state.
      if (record.updatedAt > live.record.updatedAt && record.status !== live.record.status) {
        this.applyStatus(id, record.status, { reason: record.statusReason, lastReply: record.lastReply });
      }
      return;
    }
    if (this.watchAll && record.status !== "exited" && record.tmux.paneId && !this.closed) {
      await this.attach(record).then(
        () => this.drain(id),
        (error: unknown) => this.deps.logger.debug({ err: error, instance: id }, "not attached yet"),
      );
    }
  }

  // ------------------------------------------------------------------ helpers

  private async requireRecord(id: string): Promise<InstanceRecord> {
    if (typeof id !== "string" || id === "") {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, "An instance id is required (see tmux-claude list).");
    }
    const record = await this.deps.store.get(id);
    if (!record) {
      throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `No instance "${id}". See tmux-claude list for the instances that exist.`, { id });
    }
    return record;
  }

  private agentConfig(name: string): AgentConfig {
    const agent = this.deps.config.agents[name];
    if (!agent) {
      const known = Object.keys(this.deps.config.agents);
      throw new TmuxClaudeError(
        ErrorCodes.UNKNOWN_AGENT,
        `Unknown agent "${name}". Configured agents: ${known.join(", ") || "(none)"}. Define it under agents in ${this.deps.configPath ?? "tmuxclaude.config.ts (tmux-claude init writes one)"}.`,
        { agent: name },
      );
    }
    return agent;
  }

  private adapterFor(agentName: string): AgentAdapter {
    const agent = this.agentConfig(agentName);
    const adapter = this.deps.adapters.get(agent.adapter);
    if (!adapter) {
      throw new TmuxClaudeError(
        ErrorCodes.UNKNOWN_AGENT,
        `Agent "${agentName}" uses adapter "${agent.adapter}", which is not available. Available adapters: ${[...this.deps.adapters.keys()].join(", ")}. Add the plugin that provides it.`,
        { agent: agentName, adapter: agent.adapter },
      );
    }
    return adapter;
  }

  private async screenOf(live: Live): Promise<string> {
    try {
      return await this.deps.runtime.capture(live.record.tmux.paneId, { lines: 30 });
    } catch {
      return tailText(live.tail);
    }
  }

  /**
   * Sends to one instance from any process happen one at a time, so text and
   * Enter of two messages never interleave. A holder may wait up to a whole
   * send timeout for its receipt, so waiters wait longer than that.
   */
  private sendLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.deps.store.withLock(`send:${id}`, fn, { timeoutMs: this.deps.config.limits.sendTimeout * 2 + 5_000 });
  }

  /** `<stateDir>/agents/<id>`: where adapters keep an instance's files. Removed with the instance. */
  private async instanceDir(id: string): Promise<string> {
    const dir = path.join(this.deps.stateDir, "agents", id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** Run `fn` after every earlier task of the same instance in this process. */
  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.serials.get(id) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.serials.set(id, settled);
    void settled.then(() => {
      if (this.serials.get(id) === settled) this.serials.delete(id);
    });
    return next;
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

/** The live view of a record with the plugins' state as stored (any process may write it). */
function withPluginState(live: InstanceRecord | undefined, stored: InstanceRecord | undefined): InstanceRecord {
  if (!live) return stored!;
  return stored?.pluginState === undefined ? live : { ...live, pluginState: stored.pluginState };
}

function withoutSpawner(state: Record<string, unknown> | undefined): Record<string, unknown> {
  const { spawner: _spawner, ...rest } = state ?? {};
  return rest;
}

function appendTail(tail: Buffer, data: Buffer): Buffer {
  const joined = tail.length ? Buffer.concat([tail, data]) : data;
  return joined.length > TAIL_BYTES ? Buffer.from(joined.subarray(joined.length - TAIL_BYTES)) : joined;
}

/** Terminal output as plain text: escape sequences removed, line endings normalized. */
export function tailText(tail: Buffer): string {
  return tail
    .toString("utf8")
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/gu, "")
    .replace(/\u001b[\]P^_][^\u0007\u001b]*(\u0007|\u001b\\)/gu, "")
    .replace(/\u001b./gu, "")
    .replace(/\r\n?/gu, "\n")
    .replace(/[\u0000-\u0008\u000b-\u001f]/gu, "");
}

/** exec-2 before exec-10; parents before children. */
const idCollator = new Intl.Collator("en", { numeric: true });

export function compareIds(a: string, b: string): number {
  return idCollator.compare(a, b);
}

/** An update of one launch's record that leaves it alone once the instance was relaunched (a new pane). */
function sameLaunch(paneId: string, updater: (record: InstanceRecord) => InstanceRecord): (record: InstanceRecord) => InstanceRecord {
  return (record) => (record.tmux.paneId === paneId ? updater(record) : record);
}
