import { ErrorCodes, TmuxClaudeError, quoteScreen } from "../errors.js";
import type { InstanceRecord, InstanceStall } from "../store/types.js";
import { withNode } from "../kernel/node.js";
import { tailText } from "./output-tail.js";
import { withSharedState } from "./shared-state.js";
import type { Registry } from "./registry.js";
import type { InstanceSummary, ListFilter, ReadOptions, ReadResult } from "./types.js";
import type { ManagerDeps } from "./deps.js";
import { requireRecord } from "./lookups.js";
import { instanceFields, withFields } from "./fields.js";
import { blockedReason, unstalled } from "./blocked.js";

/** What callers see of instances: one read (screen, status, usage), the list, the tree. */
export class Views {
  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
    /** Settles once the progress reports of an instance made so far are stored (ProgressWrites). */
    private readonly progressWritten: (id: string) => Promise<void> = async () => undefined,
  ) {}

  async read(id: string, options: ReadOptions = {}): Promise<ReadResult> {
    const lines = options.lines ?? 40;
    if (!Number.isInteger(lines) || lines < 1) {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `lines must be a positive integer, got ${String(options.lines)}.`);
    }
    const timeoutMs = options.timeoutMs ?? 600_000;
    // `wait` ends at a usage limit too (status limited, like error): the turn stopped; the result says until when.
    let record = await requireRecord(this.deps.store, id);
    let screen = "";
    if (record.status !== "exited") {
      const live = await this.registry.attach(record);
      if (options.wait) {
        await this.registry.waitForStatus(id, (s) => s !== "busy" && s !== "starting", timeoutMs, live).catch(async (error: unknown) => {
          if (error instanceof TmuxClaudeError && error.code === ErrorCodes.READ_TIMEOUT) {
            // serve's stall flag is in the store: a parent told to read a stalled child learns it here too.
            const stalled = (await this.deps.store.get(id))?.stalled;
            const stall = stalled ? ` and stalled since ${stalled.since} (${stalled.why})` : "";
            throw new TmuxClaudeError(
              ErrorCodes.READ_TIMEOUT,
              `Instance "${id}" is still ${this.registry.get(id)?.record.status ?? "busy"} after ${timeoutMs} ms${stall}. Its screen:\n${quoteScreen(await this.registry.screenOf(live))}`,
              { id, ...(stalled ? { stalled } : {}) },
            );
          }
          throw error;
        });
        // What the turn's end led to (a hold at the turn cap or a budget, the usage) is part of the answer.
        await this.registry.turnEnds.settled(id, this.deps.config.limits.sendTimeout);
      }
      record = this.registry.get(id)?.record ?? (await requireRecord(this.deps.store, id));
      screen = record.status === "exited" ? tailText(live.tail) : await this.registry.screenOf(live, lines);
    }
    const queued = (await this.deps.store.queue(id)).length;
    // The adapter's count now; without an attached driver (an exited instance), the last one announced.
    const usage = (await this.registry.get(id)?.driver.usage?.().catch(() => undefined)) ?? record.usage;
    // The store's word on a hold and the progress: another process may have written them since this one last looked.
    // The adapter reported the turn's task list before its end: stored before this answer.
    await this.progressWritten(id);
    const stored = await this.deps.store.get(id);
    const hold = stored?.hold;
    const progress = stored?.progress;
    // The stall flag is serve's (the store's word); only a busy instance is stalled.
    const stalled = record.status === "busy" ? stored?.stalled : undefined;
    const blocked = blockedReason({ ...record, stalled });
    const shown = withNode(usage ? { ...record, usage } : record);
    const added = await instanceFields(this.deps.hooks, this.deps.logger, "read", [shown]);
    const limit = record.limitedUntil !== undefined ? { limitedUntil: record.limitedUntil } : {};
    return withFields({ id, status: record.status, statusReason: record.statusReason, ...limit, lastReply: record.lastReply, screen, queued, ...(usage ? { usage } : {}), ...(hold ? { paused: hold.reason } : {}), ...(progress ? { progress } : {}), ...(stalled ? { stalled } : {}), ...(blocked ? { blocked } : {}) }, added.get(id));
  }

  async list(filter: ListFilter = {}): Promise<InstanceSummary[]> {
    const [records, reports] = await Promise.all([this.deps.store.list(), this.deps.nodes.reports()]);
    if (!this.registry.watchAll && !this.deps.nodes.servedHere(reports)) {
      // Nobody may have watched these agents since their last change: look now (one screen or event read each).
      // (Not when this node's serve runs: it watches them and its records are current.)
      await Promise.all(
        records
          .filter((r) => r.status !== "exited" && r.tmux.paneId && !this.registry.has(r.id) && this.deps.nodes.owns(r))
          .map((r) => this.registry.attach(r).catch((error: unknown) => this.deps.logger.debug({ err: error, instance: r.id }, "could not attach to refresh its status"))),
      );
    }
    const children = new Map<string, string[]>();
    for (const record of records) {
      if (!record.parentId) continue;
      const list = children.get(record.parentId) ?? [];
      list.push(record.id);
      children.set(record.parentId, list);
    }
    const listed = records
      .map((record) => withNode(withSharedState(this.registry.get(record.id)?.record, record)))
      .filter((r) => filter.role === undefined || r.role === filter.role)
      .filter((r) => filter.parentId === undefined || r.parentId === filter.parentId)
      .filter((r) => filter.status === undefined || r.status === filter.status)
      .filter((r) => !filter.blocked || blockedReason(r) !== undefined)
      .sort((a, b) => compareIds(a.id, b.id));
    const [queues, down] = await Promise.all([
      Promise.all(listed.map((r) => this.deps.store.queue(r.id).then((messages) => messages.map((message) => message.id)))),
      this.deps.nodes.unreachableNodes(reports),
    ]);
    const added = await instanceFields(this.deps.hooks, this.deps.logger, "list", listed);
    return listed.map((r, i) => {
      const unreachable = r.status === "exited" ? undefined : down.get(r.tmux.node!);
      const blocked = blockedReason(r);
      return withFields(
        { ...r, children: (children.get(r.id) ?? []).sort(compareIds), queuedIds: queues[i]!, ...(unreachable ? { unreachable } : {}), ...(blocked ? { blocked } : {}) },
        added.get(r.id),
      );
    });
  }

  async get(id: string): Promise<InstanceRecord> {
    const live = this.registry.get(id);
    if (!live) return withNode(await requireRecord(this.deps.store, id));
    // Without a store watch (one-shot kernels), what another process wrote (plugins' state, messages, usage) is only in the store.
    if (this.registry.watchAll) return withNode(live.record);
    return withNode(withSharedState(live.record, await this.deps.store.get(id)));
  }

  /**
   * Flag a busy instance stalled, or clear the flag (null). Atomic, and only
   * when it changes something: set only while the stored record is busy and
   * not flagged, cleared only while flagged. Resolves true when this write did
   * it (of processes racing, one), so the caller that flagged it tells.
   */
  async setStalled(id: string, stall: InstanceStall | null): Promise<boolean> {
    let changed = false;
    const updated = await this.deps.store.update(id, (r) => {
      changed = stall ? r.status === "busy" && !r.stalled : r.stalled !== undefined;
      if (!changed) return r;
      return stall ? { ...r, stalled: stall } : unstalled(r, true);
    });
    const live = this.registry.get(id);
    if (live && updated && changed) live.record = unstalled({ ...live.record, ...(updated.stalled ? { stalled: updated.stalled } : {}) }, !updated.stalled);
    return changed && updated !== undefined;
  }

  /** Atomically replace one plugin's part of a record (`pluginState[plugin]`); every process sees it through the store. */
  async updatePluginState(id: string, plugin: string, updater: (state: unknown) => unknown): Promise<InstanceRecord | undefined> {
    const updated = await this.deps.store.update(id, (r) => ({ ...r, pluginState: { ...r.pluginState, [plugin]: updater(r.pluginState?.[plugin]) } }));
    const live = this.registry.get(id);
    if (live && updated) live.record = { ...live.record, pluginState: updated.pluginState };
    return updated;
  }
}


/** exec-2 before exec-10; parents before children. */
const idCollator = new Intl.Collator("en", { numeric: true });

export function compareIds(a: string, b: string): number {
  return idCollator.compare(a, b);
}
