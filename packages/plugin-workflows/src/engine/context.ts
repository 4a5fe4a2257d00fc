// What every part of a running workflow shares: the kernel, the run's state
// in the store (read and written through one queue, so the runner's view only
// moves forward), its journal, and the signal that stops its steps.
import type { KernelApi, Logger } from "@tmux-claude/core";
import type { PersistedRun, RunId, Step, StepOutput, StepState, TaskState, Workflow } from "../types.js";
import type { JournalWriter } from "./journal.js";
import type { RunStore } from "./run-store.js";

export interface EngineOptions {
  /** Timeout of a step or task that sets none (ms); undefined: none. */
  readonly stepTimeoutMs?: number;
  /** Where journals go (default `<stateDir>/runs`). */
  readonly journalDir?: string;
}

/** The git plugin's api as far as `merge` steps use it (the plugin is optional: looked up by name). */
export interface GitMergeApi {
  status(id: string): Promise<{ isolation: string; branch: string; base: string } | undefined>;
  merge(id: string, call?: GitMergeCall): Promise<{ status: string; reason?: string; commit?: string; target: string; source: string; conflicts?: readonly { path: string; kind: string }[] }>;
}

/** plugin-git's merge request (its MergeCall) as merge steps make it. */
export interface GitMergeCall {
  readonly into?: string;
  readonly strategy?: "merge" | "squash" | "rebase";
  readonly resolve?: "none" | "ai";
  readonly verify?: string[];
  readonly priority?: number;
  readonly batch?: boolean;
}

export const taskKey = (step: string, index: number): string => `${step}#${index}`;

export class RunContext {
  private queue: Promise<unknown> = Promise.resolve();
  private current: PersistedRun;
  private readonly listeners = new Set<() => void>();
  /** Every instance this runner spawned or re-attached to, known here whatever the store does: a failed run terminates them. */
  readonly instances = new Set<string>();

  constructor(
    readonly kernel: KernelApi,
    readonly store: RunStore,
    readonly journal: JournalWriter,
    readonly logger: Logger,
    readonly options: EngineOptions,
    /** Aborted when the run fails or is interrupted: running steps stop. */
    readonly signal: AbortSignal,
    initial: PersistedRun,
    /** Each spawn step's parent step, or null for the caller (the DSL's parent rule). */
    readonly parents: ReadonlyMap<string, string | null>,
  ) {
    this.current = initial;
  }

  get id(): RunId {
    return this.current.id;
  }
  get workflow(): Workflow {
    return this.current.workflow;
  }
  /** The run's state as last read or written by this runner. */
  get state(): PersistedRun {
    return this.current;
  }

  step(id: string): Step {
    const step = this.workflow.steps.find((s) => s.id === id);
    if (!step) throw new Error(`no step "${id}" in workflow ${this.workflow.name}`);
    return step;
  }

  tasksOf(step: string): TaskState[] {
    return this.current.tasks.filter((t) => t.step === step).sort((a, b) => a.index - b.index);
  }

  /** Change the run's state in the store (atomically; `change` may run more than once: keep it pure). */
  update(change: (run: PersistedRun) => PersistedRun): Promise<PersistedRun> {
    return this.serial(async () => {
      const next = await this.store.runs.update(this.id, (run) => (run ? change(run) : run));
      if (!next) throw new Error(`run ${this.id} vanished from the store while it ran`);
      this.current = next;
      this.changed();
      return next;
    });
  }

  /** Read the run's state again (another process wrote it: a `complete`, a turn's end). */
  refresh(): Promise<PersistedRun> {
    return this.serial(async () => {
      const next = await this.store.runs.get(this.id);
      if (next) this.current = next;
      this.changed();
      return this.current;
    });
  }

  setStep(id: string, fields: { state: StepState; startedAt?: string; endedAt?: string; reason?: string; output?: StepOutput }): Promise<PersistedRun> {
    return this.update((run) => ({ ...run, steps: { ...run.steps, [id]: { ...run.steps[id], ...fields } } }));
  }

  setTask(step: string, index: number, change: (task: TaskState | undefined) => TaskState | undefined): Promise<PersistedRun> {
    return this.update((run) => {
      const at = run.tasks.findIndex((t) => t.step === step && t.index === index);
      const next = change(at === -1 ? undefined : run.tasks[at]);
      if (!next) return run;
      const tasks = [...run.tasks];
      if (at === -1) tasks.push(next);
      else tasks[at] = next;
      return { ...run, tasks };
    });
  }

  /** Be told after every change of the run's state seen here. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when `check` holds for the run's state (checked now and at each change); rejects when `signal` aborts. */
  until(check: (run: PersistedRun) => boolean, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const done = () => {
        off();
        signal.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const off = this.onChange(() => {
        if (!check(this.current)) return;
        done();
        resolve();
      });
      signal.addEventListener("abort", onAbort, { once: true });
      if (check(this.current)) {
        done();
        resolve();
      }
    });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
