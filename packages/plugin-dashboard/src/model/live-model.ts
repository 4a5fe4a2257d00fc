// The dashboard's picture of the hierarchy, kept current from the store's
// change feed (never polled): every change by any process re-reads the list
// once (changes arriving meanwhile coalesce into one more read), diffs the
// views and pushes what changed to every subscriber.
import type { KernelApi, Logger, StoreWatch } from "@tmux-claude/core";
import type { GitView, InstanceView, MessageView, ServerMessage } from "../protocol.js";
import { CoalescedRead, emitTo } from "./coalesce.js";
import { byAttention, instanceViews, messageViews, type RecordLike } from "./views.js";

/** Messages kept in memory, so a terminated instance's stay visible while serve runs. */
export const MESSAGE_LIMIT = 500;

export type ModelListener = (message: ServerMessage) => void;

/** Where git fields come from (plugin-git, when loaded); see git-fields.ts. */
export interface GitSource {
  views(): ReadonlyMap<string, GitView>;
  /** These instances changed: recompute their git fields (debounced by the source). */
  invalidate(ids: readonly string[]): void;
  forget(id: string): void;
}

export class LiveModel {
  private records: RecordLike[] = [];
  private readonly views = new Map<string, { view: InstanceView; json: string }>();
  private readonly messages = new Map<string, { view: MessageView; json: string }>();
  private readonly listeners = new Set<ModelListener>();
  private watch: StoreWatch | undefined;
  private readonly reads = new CoalescedRead(
    () => this.refresh(),
    (error) => {
      if (!this.started) this.startError = error;
      else this.logger.warn({ err: error }, "dashboard: reading the instances failed; the next change retries");
    },
    () => this.closed,
  );
  private readonly changed = new Set<string>();
  private closed = false;
  private started = false;
  private startError: unknown;
  /** While the timeline is full: the newest entry evicted; older entries seen again in an inbox are not taken back in. */
  private floor: { sentAt: string; id: string } | undefined;

  constructor(
    private readonly kernel: KernelApi,
    private readonly logger: Logger,
    private readonly git?: GitSource,
  ) {}

  async start(): Promise<void> {
    this.watch = this.kernel.watch((change) => {
      // Plugins' documents are not instances: nothing on the page changed.
      if (change.kind === "doc") return;
      this.changed.add(change.kind === "instance" ? change.id : change.instanceId);
      this.schedule();
    });
    await this.watch.ready;
    // Through schedule, like every change: a change reported during this first read
    // then reads again after it, rather than alongside it (where the slower, staler
    // read could finish last and win).
    this.schedule();
    await this.settled();
    if (!this.started) throw this.startError;
    this.git?.invalidate(this.records.map((record) => record.id));
  }

  close(): void {
    this.closed = true;
    this.watch?.stop();
    this.listeners.clear();
  }

  subscribe(listener: ModelListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  instances(): InstanceView[] {
    return [...this.views.values()].map((entry) => entry.view).sort(byAttention);
  }

  instance(id: string): InstanceView | undefined {
    return this.views.get(id)?.view;
  }

  /** Oldest first. */
  timeline(): MessageView[] {
    return [...this.messages.values()].map((entry) => entry.view).sort(compareEntries);
  }

  /** Git fields changed (the git source calls it): rebuild the views from the records we have. */
  gitChanged(): void {
    if (!this.closed) this.rebuild();
  }

  /** Resolves once every change reported so far is in the views (tests, actions). */
  settled(): Promise<void> {
    return this.reads.settled();
  }

  private schedule(): void {
    this.reads.schedule();
  }

  private async refresh(): Promise<void> {
    const ids = [...this.changed];
    this.changed.clear();
    this.records = await this.kernel.list();
    if (this.closed) return;
    this.rebuild();
    // Only the changed instances' inboxes can hold new entries (all of them at start).
    this.updateMessages(this.started ? new Set(ids) : undefined);
    this.started = true;
    if (this.git && ids.length > 0) this.git.invalidate(ids.filter((id) => this.views.has(id)));
  }

  private rebuild(): void {
    const next = instanceViews(this.records, this.kernel.node, this.git?.views() ?? new Map());
    const seen = new Set<string>();
    for (const view of next) {
      seen.add(view.id);
      const json = JSON.stringify(view);
      if (this.views.get(view.id)?.json === json) continue;
      this.views.set(view.id, { view, json });
      this.emit({ type: "instance", instance: view });
    }
    for (const id of [...this.views.keys()]) {
      if (seen.has(id)) continue;
      this.views.delete(id);
      this.git?.forget(id);
      this.emit({ type: "removed", id });
      this.dropQueued(id);
    }
  }

  private updateMessages(only: ReadonlySet<string> | undefined): void {
    for (const record of this.records) {
      if (only && !only.has(record.id)) continue;
      for (const view of messageViews(record)) {
        const json = JSON.stringify(view);
        const known = this.messages.get(view.id);
        if (known?.json === json) continue;
        // Inboxes keep 50 each, so an evicted entry comes back with every change of its instance.
        if (!known && this.floor && compareEntries(view, this.floor) <= 0) continue;
        // A message keeps its place in the timeline when its state changes.
        if (known) known.view = view;
        this.messages.set(view.id, { view, json });
        this.emit({ type: "message", message: view });
      }
    }
    if (this.messages.size > MESSAGE_LIMIT) {
      const oldest = [...this.messages.values()].map((entry) => entry.view).sort(compareEntries);
      const evicted = oldest.slice(0, this.messages.size - MESSAGE_LIMIT);
      for (const view of evicted) this.messages.delete(view.id);
      const newest = evicted.at(-1)!;
      this.floor = { sentAt: newest.sentAt, id: newest.id };
    }
  }

  /** A removed (terminated) instance's queue went with it: what it still had queued is never delivered. */
  private dropQueued(id: string): void {
    for (const entry of this.messages.values()) {
      if (entry.view.to !== id || entry.view.state !== "queued") continue;
      entry.view = { ...entry.view, state: "dropped" };
      entry.json = JSON.stringify(entry.view);
      this.emit({ type: "message", message: entry.view });
    }
  }

  private emit(message: ServerMessage): void {
    emitTo(this.listeners, this.logger, message);
  }
}

/** Timeline order: by send time, ties by id, so eviction and the floor agree on which side an entry is. */
function compareEntries(a: { sentAt: string; id: string }, b: { sentAt: string; id: string }): number {
  return a.sentAt.localeCompare(b.sentAt) || a.id.localeCompare(b.id);
}
