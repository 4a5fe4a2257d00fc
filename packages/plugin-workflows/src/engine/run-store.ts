// Where a run's state lives: plugin data in the kernel's store (`ctx.data`),
// shared by every process and, with the redis plugin, every node. Two
// collections: "runs" (PersistedRun by run id) and "tasks" (which run, step
// and task an instance works on, by instance id: what `complete` and the
// turn-end tap look up without scanning every run).
import type { PersistedRun, RunId } from "../types.js";

/** One collection of plugin data (`ctx.data(name)`), as the engine uses it. */
export interface DocCollection<T> {
  get(key: string): Promise<T | undefined>;
  /** Atomic across processes; the updater may run more than once (keep it pure); undefined deletes. */
  update(key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined>;
  list(): Promise<{ key: string; value: T }[]>;
  delete(key: string): Promise<unknown>;
  watch(listener: (key: string) => void): { ready: Promise<void>; stop(): void };
}

/** Which task an instance works on. */
export interface TaskRef {
  readonly run: RunId;
  readonly step: string;
  readonly index: number;
}

export interface RunStore {
  readonly runs: DocCollection<PersistedRun>;
  readonly tasks: DocCollection<TaskRef>;
}

/** What the plugin passes to beforeSpawn (`plugins.workflows`) so the instance is tied to its task before its agent starts. */
export const SPAWN_OPTION = "workflows";

export function isTaskRef(value: unknown): value is TaskRef {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.run === "string" && typeof v.step === "string" && Number.isInteger(v.index);
}

/** Tie an instance to its task: the run's task gets the instance id (state spawning), the index gets the instance. */
export async function bindTask(store: RunStore, ref: TaskRef, instanceId: string): Promise<void> {
  await store.tasks.update(instanceId, () => ({ run: ref.run, step: ref.step, index: ref.index }));
  await store.runs.update(ref.run, (run) => {
    if (!run) return run;
    return {
      ...run,
      tasks: run.tasks.map((t) =>
        t.step === ref.step && t.index === ref.index ? { step: t.step, index: t.index, ...(t.task !== undefined ? { task: t.task } : {}), instanceId, state: "spawning" } : t,
      ),
    };
  });
}
