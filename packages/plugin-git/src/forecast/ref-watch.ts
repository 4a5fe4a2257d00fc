// Commits seen as they happen, without polling: git writes a branch's loose
// ref (through a lock file and a rename) and appends to its reflog on every
// update, whoever makes it (an agent's own `git commit` in its worktree, a
// merge, a reset). A recursive watch on both directories of the repository's
// common dir names the branch; refs that were packed still get their reflog.
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { gitValue } from "../git/run.js";
import { commonDirOf } from "../git/repo.js";

export type BranchWritten = (repo: string, branch: string) => void;

export class RefWatch {
  /** repo (main toplevel) -> its watchers; a repo being set up maps to a promise. */
  private readonly repos = new Map<string, Promise<FSWatcher[]>>();
  private closed = false;

  constructor(
    private readonly onBranch: BranchWritten,
    private readonly logger: Logger,
  ) {}

  /** Start watching `repo`'s branches (once per repo; later calls are free). */
  async add(repo: string): Promise<void> {
    if (this.closed || this.repos.has(repo)) return;
    const started = this.start(repo);
    this.repos.set(repo, started);
    // A repository that cannot be watched now (moved, not yet readable) may be tried again later.
    await started.catch((error: unknown) => {
      this.repos.delete(repo);
      throw error;
    });
  }

  private async start(repo: string): Promise<FSWatcher[]> {
    const commonDir = await commonDirOf(repo);
    const watchers: FSWatcher[] = [];
    for (const dir of [path.join(commonDir, "refs", "heads"), path.join(commonDir, "logs", "refs", "heads")]) {
      try {
        const watcher = watch(dir, { recursive: true, persistent: false }, (_event, filename) => {
          if (!filename) return;
          const branch = filename.split(path.sep).join("/").replace(/\.lock$/u, "");
          this.onBranch(repo, branch);
        });
        watcher.on("error", (error) => this.logger.warn({ err: error, dir }, "forecast: a ref watch failed; commits there are seen at turn ends only"));
        watchers.push(watcher);
      } catch (error) {
        // No reflog directory (core.logAllRefUpdates off) is fine while the other directory is watched.
        this.logger.debug({ err: error, dir }, "forecast: cannot watch this ref directory");
      }
    }
    if (this.closed) for (const watcher of watchers) watcher.close();
    return watchers;
  }

  close(): Promise<void> {
    this.closed = true;
    const all = [...this.repos.values()];
    this.repos.clear();
    return Promise.allSettled(all).then((results) => {
      for (const result of results) if (result.status === "fulfilled") for (const watcher of result.value) watcher.close();
    });
  }
}
