// Workflow runs, when the workflows plugin is loaded: the list from its api
// (re-read when the store reports a change of a run's document, by any
// process) and word that a run's journal grew (a watch on the journals'
// directory on this node), pushed to every subscriber. Never polled.
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { KernelApi, Logger } from "@tmux-claude/core";
import type { RunEventView, RunView } from "../protocol.js";
import { DocFeed } from "./doc-feed.js";

/** The store collection of runs: the workflows plugin's `ctx.data("runs")`. */
export const RUNS_COLLECTION = "workflows/runs";

/** Appends come line by line: their file events gather this long into one `journal` frame. */
const JOURNAL_DEBOUNCE_MS = 50;

/** What the dashboard uses of the workflows plugin's api (its WorkflowsApi), typed here so the dashboard does not depend on the package. */
export interface WorkflowsApiLike {
  runs(): Promise<readonly RunLike[]>;
  journal(run: string): Promise<readonly EventLike[]>;
}

/** The workflows plugin's PersistedRun, the fields shown. */
export interface RunLike {
  id: string;
  workflow: { name: string; source: string; steps: readonly { id: string; kind: string; needs: readonly string[] }[] };
  state: RunView["state"];
  startedAt: string;
  endedAt?: string;
  runner: { node: string };
  steps: Readonly<Record<string, { state: string; startedAt?: string; endedAt?: string; reason?: string }>>;
  tasks: readonly { step: string; index: number; task?: string; instanceId?: string; state: string; summary?: string; reason?: string }[];
  failure?: { step: string; reason: string };
  /** The journal file's path on the runner's node. */
  journal: string;
}

/** The workflows plugin's JournalEvent. */
export type EventLike = { at: string; type: string } & Record<string, unknown>;

export function runView(run: RunLike): RunView {
  const view: RunView = {
    id: run.id,
    workflow: run.workflow.name,
    source: run.workflow.source,
    state: run.state,
    startedAt: run.startedAt,
    node: run.runner.node,
    steps: run.workflow.steps.map((step) => {
      const stored = run.steps[step.id];
      return { id: step.id, kind: step.kind, needs: [...step.needs], state: stored?.state ?? "pending", ...(stored ? pick(stored, ["startedAt", "endedAt", "reason"]) : {}) };
    }),
    tasks: run.tasks.map((task) => ({ step: task.step, index: task.index, state: task.state, ...pick(task, ["task", "instanceId", "summary", "reason"]) })),
  };
  if (run.endedAt) {
    view.endedAt = run.endedAt;
    view.durationMs = Date.parse(run.endedAt) - Date.parse(run.startedAt);
  }
  if (run.failure) view.failure = { step: run.failure.step, reason: run.failure.reason };
  return view;
}

/** A journal line for the page: `run-started` loses what may be secret (see RunEventView). */
export function eventView(event: EventLike): RunEventView {
  if (event.type !== "run-started") return event as RunEventView;
  const { workflow, vars, ...rest } = event as EventLike & { workflow?: RunLike["workflow"]; vars?: Record<string, string> };
  return {
    ...rest,
    workflow: { name: workflow?.name, source: workflow?.source, steps: (workflow?.steps ?? []).map((s) => ({ id: s.id, kind: s.kind, needs: [...s.needs] })) },
    vars: Object.keys(vars ?? {}),
  } as RunEventView;
}

export class RunsFeed extends DocFeed {
  private readonly views = new Map<string, { view: RunView; json: string }>();
  /** Journal directories watched, by path (one watch each; normally just `<stateDir>/runs`). */
  private readonly dirs = new Map<string, FSWatcher>();
  private readonly grown = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly api: WorkflowsApiLike,
    kernel: KernelApi,
    logger: Logger,
  ) {
    super(kernel, logger, new Set([RUNS_COLLECTION]), "the workflow runs");
  }

  runs(): RunView[] {
    return [...this.views.values()].map((entry) => entry.view).sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.id.localeCompare(b.id));
  }

  override close(): void {
    super.close();
    for (const watcher of this.dirs.values()) watcher.close();
    for (const timer of this.grown.values()) clearTimeout(timer);
  }

  protected async read(): Promise<void> {
    const runs = await this.api.runs();
    if (this.closed) return;
    // The plugin never removes a run; one removed by hand leaves the list the next reconnect or reload.
    const ids = new Set(runs.map((run) => run.id));
    for (const id of this.views.keys()) if (!ids.has(id)) this.views.delete(id);
    for (const run of runs) {
      if (run.state === "running" && run.runner.node === this.kernel.node) this.watchJournals(path.dirname(run.journal));
      const view = runView(run);
      const json = JSON.stringify(view);
      if (this.views.get(run.id)?.json === json) continue;
      this.views.set(run.id, { view, json });
      this.emit({ type: "run", run: view });
    }
  }

  /**
   * A running run's journal grows between its document's changes (messages,
   * replies, usage) and after the last one (run-finished is written after
   * the final state), so its directory is watched. Not there yet (the first
   * run's first line is still being written): the run's next change tries again.
   */
  private watchJournals(dir: string): void {
    if (this.dirs.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (_event, file) => {
        if (file?.endsWith(".jsonl")) this.journalGrew(file.slice(0, -".jsonl".length));
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.logger.warn({ err: error, dir }, "dashboard: cannot watch the workflow journals; the Runs view updates with the runs' documents only");
      return;
    }
    watcher.on("error", (error) => {
      this.logger.warn({ err: error, dir }, "dashboard: watching the workflow journals failed");
      watcher.close();
      this.dirs.delete(dir);
    });
    this.dirs.set(dir, watcher);
  }

  private journalGrew(id: string): void {
    if (this.closed || this.grown.has(id)) return;
    this.grown.set(
      id,
      setTimeout(() => {
        this.grown.delete(id);
        this.emit({ type: "journal", id });
      }, JOURNAL_DEBOUNCE_MS),
    );
  }

}

function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
