// Git fields of the instance views, when plugin-git is loaded: branch, base,
// ahead/behind, dirty files, forecast conflicts and the merge queue. Computed
// when an instance changes or plugin-git reports a branch change or a
// forecast, debounced; never on a timer of its own.
import type { Logger } from "@tmux-claude/core";
import type { GitView } from "../protocol.js";
import type { GitSource } from "./live-model.js";

/** How long events gather before one recomputation: a turn end, an auto-commit and a forecast come together. */
const DEBOUNCE_MS = 150;

/** What the dashboard uses of plugin-git's api (its GitApi), typed here so the dashboard does not depend on the package. */
export interface GitApiLike {
  /** Ahead/behind, dirty files and forecast, computed by plugin-git (one implementation, read without taking index.lock). */
  branchStatus(id: string): Promise<BranchStatusLike | undefined>;
  onBranchChanged(listener: (change: { instanceId: string; branch: string }) => void): () => void;
  mergeQueue(): Promise<readonly { instanceId?: string; target: string; repo: string; done: boolean }[]>;
  merge(id: string, call?: Record<string, unknown>, caller?: { instanceId: string | null; role: string | null }): Promise<unknown>;
  readonly hooks: { readonly conflictForecast: { tapPromise(name: string, fn: (event: { instance: { id: string }; parentId: string | null }) => Promise<void>): void } };
}

/** plugin-git's InstanceGitStatus, the fields shown. */
interface BranchStatusLike {
  branch: string;
  base: string;
  /** Null when the branch or its base is gone. */
  ahead: number | null;
  behind: number | null;
  /** Null when the worktree is gone. */
  dirty: readonly string[] | null;
  forecast: {
    target: { branch: string; files: readonly { path: string }[] };
    siblings: Readonly<Record<string, { branch: string; files: readonly { path: string }[] }>>;
  } | null;
}

export class GitFields implements GitSource {
  private readonly fields = new Map<string, GitView>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly stopBranch: () => void;
  private closed = false;

  constructor(
    private readonly git: GitApiLike,
    private readonly logger: Logger,
    private readonly changed: () => void,
  ) {
    this.stopBranch = git.onBranchChanged((change) => this.invalidate(this.related(change.instanceId, change.branch)));
    git.hooks.conflictForecast.tapPromise("dashboard", async (event) => {
      this.invalidate([event.instance.id, ...(event.parentId ? [event.parentId] : [])]);
    });
  }

  views(): ReadonlyMap<string, GitView> {
    return this.fields;
  }

  invalidate(ids: readonly string[]): void {
    if (this.closed || ids.length === 0) return;
    for (const id of ids) this.pending.add(id);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  forget(id: string): void {
    this.fields.delete(id);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.stopBranch();
  }

  /** The instance whose branch moved, its children (their base moved) and whoever it merges into. */
  private related(id: string, branch: string): string[] {
    const ids = [id];
    for (const [other, view] of this.fields) if (view.base === branch || view.branch === this.fields.get(id)?.base) ids.push(other);
    return ids;
  }

  private flush(): void {
    this.timer = undefined;
    if (this.running) {
      // One recomputation at a time; the ids stay pending for the next.
      void this.running.then(() => this.invalidate([...this.pending]));
      return;
    }
    const ids = [...this.pending];
    this.pending.clear();
    this.running = this.compute(ids)
      .catch((error: unknown) => this.logger.warn({ err: error }, "dashboard: reading git state failed"))
      .finally(() => (this.running = undefined));
  }

  private async compute(ids: readonly string[]): Promise<void> {
    const queue = await this.git.mergeQueue().catch(() => []);
    let any = false;
    for (const id of ids) {
      if (this.closed) return;
      const view = await this.viewOf(id, queue);
      const before = JSON.stringify(this.fields.get(id));
      if (view) this.fields.set(id, view);
      else this.fields.delete(id);
      any ||= before !== JSON.stringify(view);
    }
    if (any && !this.closed) this.changed();
  }

  private async viewOf(id: string, queue: Awaited<ReturnType<GitApiLike["mergeQueue"]>>): Promise<GitView | undefined> {
    const status = await this.git.branchStatus(id).catch(() => undefined);
    if (!status) return undefined;
    const conflicts: GitView["conflicts"] = [];
    const forecast = status.forecast;
    if (forecast && forecast.target.files.length > 0) conflicts.push({ with: forecast.target.branch, files: forecast.target.files.map((file) => file.path) });
    for (const [sibling, pair] of Object.entries(forecast?.siblings ?? {})) {
      if (pair.files.length > 0) conflicts.push({ with: sibling, files: pair.files.map((file) => file.path) });
    }
    const waiting = queue.filter((entry) => !entry.done && entry.target === status.branch && entry.instanceId).map((entry) => entry.instanceId!);
    return {
      branch: status.branch,
      base: status.base,
      ahead: status.ahead ?? 0,
      behind: status.behind ?? 0,
      dirty: [...(status.dirty ?? [])],
      conflicts,
      ...(waiting.length > 0 ? { queue: waiting } : {}),
    };
  }
}
