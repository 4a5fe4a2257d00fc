// Git fields of the instance views, when plugin-git is loaded: branch, base,
// ahead/behind, dirty files, forecast conflicts and the merge queue. Computed
// when an instance changes or plugin-git reports a branch change or a
// forecast, debounced; never on a timer of its own.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Logger } from "@tmux-claude/core";
import type { GitView } from "../protocol.js";
import type { GitSource } from "./live-model.js";

const execFileAsync = promisify(execFile);

/** How long events gather before one recomputation: a turn end, an auto-commit and a forecast come together. */
const DEBOUNCE_MS = 150;

/** What the dashboard uses of plugin-git's api (its GitApi), typed here so the dashboard does not depend on the package. */
export interface GitApiLike {
  status(id: string): Promise<GitStateLike | undefined>;
  onBranchChanged(listener: (change: { instanceId: string; branch: string }) => void): () => void;
  mergeQueue(): Promise<readonly { instanceId?: string; target: string; repo: string; done: boolean }[]>;
  merge(id: string, call?: Record<string, unknown>, caller?: { instanceId: string | null; role: string | null }): Promise<unknown>;
  readonly hooks: { readonly conflictForecast: { tapPromise(name: string, fn: (event: { instance: { id: string }; parentId: string | null }) => Promise<void>): void } };
}

interface GitStateLike {
  repo: string;
  worktree: string;
  branch: string;
  base: string;
  forecast?: {
    target: { branch: string; files: readonly { path: string }[] };
    siblings: Readonly<Record<string, { branch: string; files: readonly { path: string }[] }>>;
  };
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
    const state = await this.git.status(id).catch(() => undefined);
    if (!state) return undefined;
    const [counts, dirty] = await Promise.all([aheadBehind(state), dirtyPaths(state.worktree)]);
    const conflicts: GitView["conflicts"] = [];
    const forecast = state.forecast;
    if (forecast && forecast.target.files.length > 0) conflicts.push({ with: forecast.target.branch, files: forecast.target.files.map((file) => file.path) });
    for (const [sibling, pair] of Object.entries(forecast?.siblings ?? {})) {
      if (pair.files.length > 0) conflicts.push({ with: sibling, files: pair.files.map((file) => file.path) });
    }
    const waiting = queue.filter((entry) => !entry.done && entry.target === state.branch && entry.instanceId).map((entry) => entry.instanceId!);
    return { branch: state.branch, base: state.base, ...counts, dirty, conflicts, ...(waiting.length > 0 ? { queue: waiting } : {}) };
  }
}

async function aheadBehind(state: GitStateLike): Promise<{ ahead: number; behind: number }> {
  try {
    const { stdout } = await execFileAsync("git", ["-C", state.repo, "rev-list", "--left-right", "--count", `refs/heads/${state.base}...refs/heads/${state.branch}`]);
    const [behind, ahead] = stdout.trim().split(/\s+/).map(Number);
    return { ahead: ahead ?? 0, behind: behind ?? 0 };
  } catch {
    return { ahead: 0, behind: 0 };
  }
}

async function dirtyPaths(worktree: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync("git", ["-C", worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all"]);
    // Each entry is "XY path"; a rename adds the old path as its own NUL-separated field, which has no status.
    const entries = stdout.split("\0").filter(Boolean);
    const paths: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      paths.push(entry.slice(3));
      if (entry[0] === "R" || entry[0] === "C") i++;
    }
    return paths;
  } catch {
    return [];
  }
}
