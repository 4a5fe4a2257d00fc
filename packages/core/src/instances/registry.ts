import { EventEmitter } from "node:events";
import type { AgentAdapter, StatusReport } from "../agents/adapter.js";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import type { OutputOptions, OutputStream } from "../kernel/api.js";
import type { EventMeta } from "../kernel/events.js";
import type { InstanceRecord, InstanceStatus } from "../store/types.js";
import { Announcer, implicitTurnEnd } from "./announcer.js";
import { exitedError } from "./failures.js";
import { adapterFor, ensureInstanceDir, requireRecord } from "./lookups.js";
import { driverContext } from "./driver-context.js";
import type { ProgressInput } from "./progress.js";
import { sameLaunch } from "./same-launch.js";
import { waitForStatusChange } from "./wait-status.js";
import { appendTail, tailText } from "./output-tail.js";
import { DELIVERABLE } from "./types.js";
import { RecordWrites } from "./record-writes.js";
import { PendingTurns, writeTurnEnd } from "./turn-marks.js";
import { withSharedState } from "./shared-state.js";
import type { Live, ManagerDeps } from "./deps.js";
import type { ManagerEvents } from "./wait-delivered.js";
import { UnknownAgents } from "./unknown-agent.js";
import { TurnEnds } from "./turn-ends.js";
import { resetTime, withLimit } from "./limit-record.js";
import { unstalled } from "./blocked.js";

/** What `output` sends as the screen without `history`: enough for a glance, small for a reconnect. */
const DEFAULT_SCREEN_LINES = 30;

/**
 * The instances this process is attached to, and their status. Attaching
 * streams an instance's pane here and runs its driver here; every status
 * change goes through `applyStatus`, which persists it (in order) and fires
 * `statusChange`. Only this module writes an attached instance's record.
 */
export class Registry {
  readonly events = new EventEmitter<ManagerEvents>();
  private readonly live = new Map<string, Live>();
  private readonly attaching = new Map<string, Promise<Live>>();
  private readonly byPane = new Map<string, string>();
  /** Attachments whose exit is being recorded (the reason is read from their pane first). */
  private readonly exiting = new Set<Live>();
  private readonly writes: RecordWrites;
  private readonly announcer: Announcer;
  private readonly pendingTurns: PendingTurns;
  private readonly unknownAgents: UnknownAgents;
  /** Serve: every live instance is watched, and followed when another process relaunches it. */
  watchAll = false;
  closed = false;
  /** Where a driver's progress report is written (set by the manager: ProgressWrites). */
  setProgress: (id: string, report: ProgressInput | null) => Promise<unknown> = async () => undefined;
  /** Called when an instance may take input now: its queue is delivered (set by messaging). */
  onDeliverable: (id: string) => void = () => undefined;

  constructor(private readonly deps: ManagerDeps) {
    this.events.setMaxListeners(0);
    this.pendingTurns = new PendingTurns(deps, (id, updater) => this.persist(id, updater), (id) => this.persisted(id));
    this.announcer = new Announcer(
      deps,
      (id, usage) => this.persistShared(id, (record) => ({ ...record, usage })),
      async (record) => (await this.pendingTurns.claim(record.id, record.tmux.paneId, record.updatedAt)) !== undefined,
    );
    this.unknownAgents = new UnknownAgents(deps);
    this.writes = new RecordWrites(deps.store, (id, stored) => {
      const live = this.live.get(id);
      if (live) live.record = withSharedState(live.record, stored);
    });
  }

  /** Take part in deciding who fires observed events; `watchAll` is set by then. */
  async start(): Promise<void> {
    if (this.watchAll) await this.unknownAgents.start();
    await this.announcer.start(this.watchAll);
  }

  /** After the last attachment was let go of: announcements under way finish. */
  stop(): Promise<void> {
    return this.announcer.stop();
  }

  /** What every event carries: a fresh id, the instance, this node, the time. */
  eventMeta(instanceId: string): EventMeta {
    return this.announcer.meta(instanceId);
  }

  /** Does this process act for the node on instances of `agent`: serve, or any process while no serve watches them? */
  ownsEventsOf(agent: string): Promise<boolean> {
    return this.announcer.owns(agent);
  }

  /**
   * Follow an instance's output: raw bytes as tmux streams them (no polling),
   * from now until it exits, restarts or this process lets go of it
   * (`ended`). Starts with a snapshot of its screen (with `history` lines of
   * scrollback above it) and the pane's size.
   */
  async output(id: string, listener: (data: Buffer) => void, options: OutputOptions = {}): Promise<OutputStream> {
    const live = await this.attach(await requireRecord(this.deps.store, id));
    live.listeners.add(listener);
    const unsubscribe = () => void live.listeners.delete(listener);
    const ended = new Promise<void>((resolve) => {
      if (live.gone.signal.aborted) resolve();
      else live.gone.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    void ended.then(unsubscribe);
    const { runtime } = this.deps;
    // A pane tmux no longer answers for was created at the runtime's size.
    const size = await runtime.paneSize(live.record.tmux.paneId).catch(() => ({ cols: runtime.options.width, rows: runtime.options.height }));
    const screen = await this.screenOf(live, options.history === undefined ? DEFAULT_SCREEN_LINES : options.history + size.rows);
    return { screen, size, unsubscribe, ended };
  }

  get(id: string): Live | undefined {
    return this.live.get(id);
  }

  has(id: string): boolean {
    return this.live.has(id);
  }

  all(): Live[] {
    return [...this.live.values()];
  }

  /** Feed a pane's output to the instance attached to it. */
  feedOutput(paneId: string, data: Buffer): void {
    const id = this.byPane.get(paneId);
    const live = id ? this.live.get(id) : undefined;
    if (!live) return;
    live.tail = appendTail(live.tail, data);
    for (const listener of live.listeners) listener(data);
    if (live.outputIsActivity) this.events.emit("activity", id!, "output", live.record);
  }

  /** Mark an attachment as having its exit recorded; false when it already is. */
  beginExit(live: Live): boolean {
    if (this.exiting.has(live)) return false;
    this.exiting.add(live);
    return true;
  }

  // ------------------------------------------------------------- attachment

  /** Attach this process to a live instance: stream its pane and run its driver here. */
  attach(record: InstanceRecord): Promise<Live> {
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
    // Its pane id names a pane of another node's tmux server: the same id here is someone else's pane.
    this.deps.nodes.assertOwned(record, "attach to");
    if (!record.tmux.paneId) {
      throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `Instance "${record.id}" is still being spawned by another process; try again once it is ready.`, { id: record.id });
    }
    const adapter = adapterFor(this.deps, record.agent);
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
    const live: Live = { record, driver: undefined as unknown as Live["driver"], listeners: new Set(), outputIsActivity: adapter.outputIsActivity !== false, tail: Buffer.alloc(0), gone: new AbortController() };
    const instanceDir = await ensureInstanceDir(this.deps.stateDir, record.id);
    const ctx = driverContext(this.deps, this, live, instanceDir);
    live.driver = adapter.drive(ctx);
    this.live.set(record.id, live);
    this.byPane.set(record.tmux.paneId, record.id);
    await live.driver.start();
    this.events.emit("attached", record.id, live.record);
    return live;
  }

  /** Let go of an instance; with `only`, only if that attachment is still the current one (not a newer, restarted one). */
  detach(id: string, only?: Live, why = "this process let go of it"): void {
    const live = this.live.get(id);
    if (!live || (only && live !== only)) return;
    this.live.delete(id);
    this.byPane.delete(live.record.tmux.paneId);
    live.gone.abort(new TmuxClaudeError(ErrorCodes.INSTANCE_EXITED, `Instance "${id}" is gone: ${why}.`, { id }));
    live.driver.dispose();
    void this.deps.runtime.unwatch(live.record.tmux.windowId).catch(() => undefined);
  }

  /**
   * Another process restarted the instance: the store names a new pane. What
   * this process watched (the old pane) is let go of without a word to the
   * store, which is the new launch's now, and serve follows the new pane.
   */
  async relaunchedElsewhere(live: Live): Promise<boolean> {
    const record = await this.deps.store.get(live.record.id);
    if (!record?.tmux.paneId || record.tmux.paneId === live.record.tmux.paneId) return false;
    this.deps.logger.debug({ instance: record.id, from: live.record.tmux.paneId, to: record.tmux.paneId }, "relaunched by another process");
    this.detach(record.id, live, "another process relaunched it");
    if (this.watchAll) await this.follow(record);
    return true;
  }

  /** Serve: watch a live instance another process started, and deliver its queue. */
  async follow(record: InstanceRecord): Promise<void> {
    if (record.status === "exited" || !record.tmux.paneId || this.closed || !this.deps.nodes.owns(record)) return;
    if (await this.unknownAgents.check(record)) return;
    await this.attach(record).then(
      () => {
        this.onDeliverable(record.id);
        return this.announcePendingTurn(record.id);
      },
      (error: unknown) => this.deps.logger.debug({ err: error, instance: record.id }, "not attached yet"),
    );
  }

  /** Serve: announce a turn end another process recorded and left to serve, which did not see it (see PendingTurns). */
  async announcePendingTurn(id: string): Promise<void> {
    const live = this.live.get(id);
    if (this.watchAll && live) await this.pendingTurns.announce(live, this.announcer);
  }

  // ------------------------------------------------------------------- status

  /**
   * Resolves (never rejects) with whether this process's write made the change: of processes applying
   * the same change one gets true. `guard.only`: applies only to a stored record it accepts (a limit's
   * reset); `guard.adopted`: the updatedAt of the stored record the status was taken from (serve following
   * another process's write).
   */
  applyStatus(id: string, to: InstanceStatus, report: StatusReport = {}, guard: { only?: (stored: InstanceRecord) => boolean; adopted?: string } = {}): Promise<boolean> {
    const { only, adopted } = guard;
    const live = this.live.get(id);
    if (!live) return Promise.resolve(false);
    const from = live.record.status;
    const limitedUntil = to === "limited" ? resetTime(report.limitedUntil, this.deps.config.limits.usage.unknownResetMs) : undefined;
    if (from === to && report.lastReply === undefined && report.reason === live.record.statusReason && limitedUntil === live.record.limitedUntil) return Promise.resolve(false);
    if (from === "exited") return Promise.resolve(false);
    const updatedAt = new Date().toISOString();
    const statusReason = report.reason;
    const lastReply = report.lastReply ?? live.record.lastReply;
    const change = (r: InstanceRecord): InstanceRecord => withLimit(unstalled({ ...r, status: to, statusReason, lastReply, updatedAt }, r.status !== to), limitedUntil);
    live.record = change(live.record);
    const record = live.record;
    this.events.emit("status", id, record);
    let recordedHere = false;
    let claimed = false;
    let stale = false;
    const turn = from !== to ? (report.turn ?? implicitTurnEnd(from, to)) : undefined;
    // A status change comes from the agent, with no caller to fail: a write the store refused is logged, and it is not announced as recorded here.
    const written = this.persist(id, sameLaunch(record.tmux.paneId, (r) => {
      // An inferred status (a submit's busy) changed from a status the store no longer holds is stale:
      // another process watching the pane recorded what the agent did since (serve saw the question the
      // input brought). Written, it would turn the store back to busy, and serve, adopting that newer
      // write, would announce waiting -> busy and, on its next look, waiting a second time.
      const inferredStale = report.inferred === true && r.status !== from;
      // Updaters may run again on a retry: the last run tells.
      claimed = false;
      // Adopted from a record the store no longer holds: what came since (the turn's end the other process recorded
      // while this one read) is not undone, nor this stale status announced as this process's.
      stale = adopted !== undefined && r.updatedAt !== adopted;
      const refused = only !== undefined && !only(r);
      recordedHere = !stale && !inferredStale && !refused && r.status !== to;
      if (stale || inferredStale || refused) return r;
      const next = change(r);
      if (!turn) return next;
      // A turn end is marked pending, or its mark taken (see EventOwner).
      const marked = writeTurnEnd(r, next, { from, to, ...(statusReason !== undefined ? { reason: statusReason } : {}), turn, at: updatedAt }, this.watchAll);
      claimed = marked.claimed;
      return marked.record;
    })).catch((error: unknown) => {
      recordedHere = false;
      claimed = false;
      this.deps.logger.error({ err: error, instance: id, status: to }, "could not persist a status change");
    });
    if (from !== to) {
      this.deps.logger.debug({ instance: id, from, to, reason: statusReason }, "status");
      // A guarded change (`only`) that the store refused did not happen: nothing to announce.
      const announce = () =>
        this.announcer.announce(record, { from, to, reason: statusReason, turn, driver: live.driver }, written.then(() => ({ observed: only ? recordedHere : !stale, recordedHere, claimed })));
      if (turn) void this.turnEnds.add(id, announce);
      else void announce();
    }
    if (DELIVERABLE.has(to)) this.onDeliverable(id);
    return written.then(() => recordedHere);
  }

  /** An adapter's report (driverContext.setStatus or activity), after applyStatus took it into the live record. */
  reported(id: string, quietForMs?: number): void {
    const live = this.live.get(id);
    if (live) this.events.emit("activity", id, "report", live.record, quietForMs);
  }

  /** Each instance's last turn end announced here: drains wait for its taps (see TurnEnds). */
  readonly turnEnds = new TurnEnds();

  /**
   * Persist changes of one instance in the order they happened. Rejects when
   * the store fails the write, so that an operation awaiting it (spawn,
   * restart, an adapter's state) fails instead of going on with a record
   * nobody else sees; a later write still runs.
   */
  persist(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<void> {
    return this.writes.persist(id, updater);
  }

  /**
   * Persist a change of what any process may write (the message history, the
   * usage), riding on the instance's next write when one is under way; this
   * process's live record shows it once stored (see RecordWrites).
   */
  persistShared(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<void> {
    return this.writes.persistShared(id, updater);
  }

  /** Settles once every change of the instance made so far is written. */
  persisted(id: string): Promise<void> {
    return this.writes.persisted(id);
  }

  /** Settles once every change made so far, of every instance, is written. */
  allPersisted(): Promise<void> {
    return this.writes.allPersisted();
  }

  /**
   * Record that one launch of an instance exited: `of` is the attachment that
   * saw its pane die, or a record whose pane is gone. A launch that is not the
   * instance's any more (restarted since, here or by another process) is left
   * alone: the record is the new launch's.
   */
  async markExited(of: Live | InstanceRecord, reason: string): Promise<void> {
    if ("driver" in of) return this.markLiveExited(of, reason);
    // Only the owning node sees its panes; to any other node they always look gone.
    if (!this.deps.nodes.owns(of)) return;
    const live = this.live.get(of.id);
    if (live?.record.tmux.paneId === of.tmux.paneId) return this.markLiveExited(live, reason);
    let from: InstanceStatus | undefined;
    const updated = await this.deps.store.update(of.id, sameLaunch(of.tmux.paneId, (r) => {
      from = r.status;
      return r.status === "exited" ? r : { ...r, status: "exited", statusReason: reason, updatedAt: new Date().toISOString() };
    }));
    if (updated && from !== undefined && from !== "exited" && updated.status === "exited") {
      await this.announcer.announce(updated, { from, to: "exited", reason }, Promise.resolve({ observed: false, recordedHere: true }));
    }
  }

  private async markLiveExited(live: Live, reason: string): Promise<void> {
    this.exiting.delete(live);
    const id = live.record.id;
    if (this.live.get(id) !== live || (await this.relaunchedElsewhere(live))) return;
    void this.applyStatus(id, "exited", { reason });
    // Written before letting go, so nobody reads the old status from the store meanwhile.
    await this.persisted(id);
    this.detach(id, live);
  }

  /** Resolve with the status once `accept(status)` holds; READ_TIMEOUT after `timeoutMs`. */
  async waitForStatus(id: string, accept: (status: InstanceStatus) => boolean, timeoutMs: number, live?: Live): Promise<InstanceStatus> {
    // A detached Live still holds the last status it had (e.g. exited); the store may not have it yet.
    const current = (live ?? this.live.get(id))?.record.status ?? (await requireRecord(this.deps.store, id)).status;
    return waitForStatusChange(this.events, id, current, accept, timeoutMs, (live ?? this.live.get(id))?.gone.signal);
  }

  /** The screen of an attached instance, or its last output once the pane is gone. */
  async screenOf(live: Live, lines = DEFAULT_SCREEN_LINES): Promise<string> {
    try {
      return await this.deps.runtime.capture(live.record.tmux.paneId, { lines });
    } catch {
      return tailText(live.tail);
    }
  }
}
