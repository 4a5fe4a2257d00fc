import { rm } from "node:fs/promises";
import path from "node:path";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import { processTree, signalProcesses, waitForExit } from "../os/process-tree.js";
import type { Registry } from "./registry.js";
import type { ManagerDeps } from "./deps.js";
import type { TerminateOptions } from "./types.js";
import { INSTANCE_ENV } from "../kernel/instance-env.js";
import { requireRecord } from "./lookups.js";
import { TURN_PROMPTS } from "./turn-prompts.js";

/** Ends instances: their agent and every process it started, their session, record, queue and files. */
export class Terminator {
  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
  ) {}

  async terminate(id: string, options: TerminateOptions = {}): Promise<string[]> {
    const record = await requireRecord(this.deps.store, id);
    // A child this process saw exit may not be written yet: judge the children by what list and get already report.
    await this.registry.allPersisted();
    const all = await this.deps.store.list();
    const children = all.filter((r) => r.parentId === id);
    // Its warm pools' idle instances are no children anyone made: they end with it, cascade or not.
    const liveChildren = children.filter((r) => r.status !== "exited" && !r.pooled);
    if (liveChildren.length && !options.cascade) {
      throw new TmuxClaudeError(
        ErrorCodes.HAS_CHILDREN,
        `Instance "${id}" has ${liveChildren.length} running child(ren): ${liveChildren.map((c) => c.id).join(", ")}. Terminate with cascade to end them too, or terminate them first.`,
        { id, children: liveChildren.map((c) => c.id) },
      );
    }
    const terminated: string[] = [];
    const ending = options.cascade ? children : children.filter((r) => r.pooled);
    if (ending.length) {
      const results = await Promise.all(ending.map((child) => this.terminateChild(child, options.plugins)));
      for (const ids of results) terminated.push(...ids);
    }
    const event = { instance: record, cascade: options.cascade ?? false, plugins: options.plugins ?? {} };
    await this.deps.hooks.beforeTerminate.promise(event);
    // Marked first: whoever sees the agent exit next knows it was terminated, and that its queue goes too.
    await this.deps.store.update(id, (r) => ({ ...r, terminatedAt: new Date().toISOString() }));
    // A pool fill that reserved its instance after the children were listed (a fill checks the mark above under the spawn lock, so none comes later).
    const late = (await this.deps.store.list()).filter((r) => r.parentId === id && r.pooled && !terminated.includes(r.id));
    for (const ids of await Promise.all(late.map((child) => this.terminateChild(child, options.plugins)))) terminated.push(...ids);
    this.registry.detach(id, undefined, "it was terminated");
    await this.stopProcesses(record);
    await this.removeRecord(id);
    terminated.push(id);
    await this.deps.hooks.afterTerminate.promise(event);
    this.deps.logger.info({ instance: id }, "terminated");
    return terminated;
  }

  /** A child may live on another node: that node ends it (and its own children). */
  private terminateChild(child: InstanceRecord, plugins: TerminateOptions["plugins"]): Promise<string[]> {
    const { nodes } = this.deps;
    const options: TerminateOptions = plugins ? { cascade: true, plugins } : { cascade: true };
    if (nodes.owns(child)) return this.terminate(child.id, options);
    return nodes.forward({ ...nodes.address(child), operation: "terminate", options });
  }

  /**
   * End the agent and every process it started: SIGHUP (what closing a
   * terminal sends) to the agent and SIGTERM to its descendants, SIGKILL to
   * whatever still runs after limits.terminateGrace, then the session goes.
   */
  async stopProcesses(record: InstanceRecord): Promise<void> {
    const { runtime, config } = this.deps;
    if (!record.tmux.paneId) return;
    const pane = (await runtime.listPanes()).find((p) => p.paneId === record.tmux.paneId && p.session === record.tmux.session);
    if (pane && !pane.dead) {
      const tree = await processTree(pane.pid, { [INSTANCE_ENV.instanceId]: record.id, [INSTANCE_ENV.stateDir]: this.deps.stateDir });
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

  /** The record, its queue, its turn prompt and the adapter's files go; the id stays reserved. */
  async removeRecord(id: string): Promise<void> {
    await this.deps.store.updateDoc(TURN_PROMPTS, id, () => undefined);
    await this.deps.store.delete(id);
    await rm(path.join(this.deps.stateDir, "agents", id), { recursive: true, force: true });
  }
}
