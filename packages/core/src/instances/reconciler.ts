import { ErrorCodes, isTmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { StoreWatch } from "../store/store-contract.js";
import type { PaneInfo, PaneSnapshot } from "../tmux/runtime.js";
import { isSameProcess } from "../os/process-tree.js";
import { tailText } from "./output-tail.js";
import { withSharedState } from "./shared-state.js";
import type { Registry } from "./registry.js";
import type { Live, ManagerDeps } from "./deps.js";

/**
 * Keeps the records true to tmux and to other processes: at start and after
 * a lost tmux connection, instances whose pane is gone are marked exited
 * (never forgotten); pane events mark exits as they happen; with `watchAll`
 * (serve), changes other processes write are followed.
 */
export class Reconciler {
  private storeWatch: StoreWatch | undefined;

  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
  ) {}

  async start(): Promise<void> {
    const { runtime } = this.deps;
    runtime.on("output", this.onOutput);
    runtime.on("panes", this.onPanes);
    runtime.on("disconnect", this.onDisconnect);
    await this.reconcile();
    if (this.registry.watchAll) {
      this.storeWatch = this.deps.store.watch((change) => {
        if (change.kind === "instance") {
          void this.onStoreInstance(change.id).catch((error: unknown) => this.deps.logger.warn({ err: error, instance: change.id }, "could not follow a change of an instance"));
        } else if (change.kind === "queue") this.registry.onDeliverable(change.instanceId);
      });
      // Read the store once every later change will be reported: nothing falls in between.
      await this.storeWatch.ready;
      await this.attachAll();
    }
  }

  stop(): void {
    this.storeWatch?.stop();
    const { runtime } = this.deps;
    runtime.off("output", this.onOutput);
    runtime.off("panes", this.onPanes);
    runtime.off("disconnect", this.onDisconnect);
  }

  /** Compare the store with tmux (or with `known`, the panes that exist): instances whose pane is gone are exited. */
  async reconcile(known?: PaneInfo[]): Promise<void> {
    const { store, runtime, logger } = this.deps;
    const panes = new Map((known ?? (await runtime.listPanes())).map((pane) => [pane.paneId, pane]));
    for (const record of await store.list()) {
      // Another node's instance lives in another tmux server: its absence here says nothing, and only its node may write exited.
      if (record.status === "exited" || !this.deps.nodes.owns(record)) continue;
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
      await this.registry.markExited(record, ownPane?.dead ? await this.exitReason(record, ownPane.deadStatus) : "its tmux session was gone (found when re-attaching)");
    }
  }

  /** Watch every live instance and deliver what is queued for it (serve). */
  private async attachAll(): Promise<void> {
    for (const record of await this.deps.store.list()) {
      await this.registry.follow(record);
    }
  }

  private readonly onOutput = (paneId: string, data: Buffer): void => this.registry.feedOutput(paneId, data);

  /**
   * Windows closed or sessions changed. An instance whose pane is gone has
   * exited. One whose pane lives on only because we linked its window into our
   * monitor session had its session killed: close the window, so killing the
   * session ends the agent as a person expects.
   */
  private readonly onPanes = (snapshot: PaneSnapshot): void => {
    const attached = this.registry.all();
    if (attached.length === 0) return;
    const panes = new Map(snapshot.panes.map((p) => [`${p.session}\u0000${p.paneId}`, p]));
    for (const live of attached) {
      const { session, paneId, windowId } = live.record.tmux;
      const pane = panes.get(`${session}\u0000${paneId}`);
      if (pane && !pane.dead) continue;
      if (!this.registry.beginExit(live)) continue;
      const failed = (error: unknown) => this.deps.logger.error({ err: error, instance: live.record.id }, "could not record that an instance exited");
      if (pane?.dead) {
        void this.exitReason(live, pane.deadStatus).then((reason) => this.registry.markExited(live, reason)).catch(failed);
      } else if (snapshot.windows.has(windowId)) {
        void this.deps.runtime.killWindow(windowId).catch((error: unknown) => this.deps.logger.warn({ err: error }, "could not close an orphaned window"));
        void this.registry.markExited(live, `its tmux session "${session}" was killed`).catch(failed);
      } else {
        void this.exitReason(live).then((reason) => this.registry.markExited(live, reason)).catch(failed);
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
      for (const live of this.registry.all()) this.registry.detach(live.record.id, undefined, why);
      try {
        // A server that is gone takes every pane with it; asking tmux for panes would start a new, empty server,
        // and a kernel whose tmux was killed would look healthy at once. The next operation that needs tmux starts one.
        const running = await this.deps.runtime.serverRunning();
        await this.reconcile(running ? await this.deps.runtime.listPanes({ startServer: false }) : []);
        // Only our client was lost (the server lives on): watch the survivors again.
        if (this.registry.watchAll && !this.registry.closed) await this.attachAll();
      } catch (error) {
        // The server is gone for good (no new one could start): the next operation tries again.
        const expected = isTmuxClaudeError(error, ErrorCodes.TMUX_DISCONNECTED);
        this.deps.logger[expected ? "debug" : "warn"]({ err: error }, "reconcile after tmux disconnect failed");
      }
    })();
  };

  /** Serve follows what other processes write: new instances, their status, plugins' state, relaunches. */
  private async onStoreInstance(id: string): Promise<void> {
    // Compared with the store once this process's own writes are in it: read while its newer status
    // was still on the way, another process's older one would look newer and be adopted.
    await this.registry.persisted(id);
    const record = await this.deps.store.get(id);
    const live = this.registry.get(id);
    if (!record) {
      if (live) this.registry.detach(id);
      return;
    }
    if (!live) return this.registry.follow(record);
    if (await this.registry.relaunchedElsewhere(live)) return;
    // Plugins' state, messages and usage may be written by any process (e.g. serve's MCP endpoint): the store has them.
    const wasHeld = live.record.hold !== undefined;
    live.record = withSharedState(live.record, record);
    // Another process released it (kernel.release): what was queued meanwhile goes in now.
    if (wasHeld && !record.hold) this.registry.onDeliverable(id);
    // Another process changed it (e.g. an agent hook): adopt newer state.
    if (record.updatedAt > live.record.updatedAt && record.status !== live.record.status) {
      void this.registry.applyStatus(id, record.status, { reason: record.statusReason, lastReply: record.lastReply, limitedUntil: record.limitedUntil }, { adopted: record.updatedAt });
      // What the other process saw may be over already (a fast turn this process saw end before the write came):
      // the driver looks again, or the adopted busy would stay with the prompt back.
      live.driver.recheck?.();
    }
    // A turn end the other process recorded and left to serve, which did not see it (the store went busy -> idle between two reads).
    if (record.turnEnd) await this.registry.announcePendingTurn(id);
  }
}
