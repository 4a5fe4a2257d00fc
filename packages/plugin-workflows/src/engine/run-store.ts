// Where a run's state lives: plugin data in the kernel's store (`ctx.data`),
// shared by every process and, with the redis plugin, every node. Two
// collections: "runs" (PersistedRun by run id) and "tasks" (which run, step
// and task an instance works on, by instance id: what `complete` and the
// turn-end tap look up without scanning every run).
import { randomBytes, timingSafeEqual } from "node:crypto";
import { TmuxClaudeError } from "@tmux-claude/core";
import type { PersistedRun, RunId } from "../types.js";
import { RunErrors } from "./errors.js";

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

/** The spawn option: the task, and the token the runner put in the task just before this spawn (TaskState.token). */
export interface TaskBinding extends TaskRef {
  readonly token: string;
}

export function isTaskBinding(value: unknown): value is TaskBinding {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.run === "string" && typeof v.step === "string" && Number.isInteger(v.index) && typeof v.token === "string";
}

/** A fresh token for a task's next spawn: only that spawn can bind the task. */
export function newTaskToken(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * Tie an instance to its task: the run's task gets the instance id (state
 * spawning) and gives up its token, the index gets the instance. Only the
 * runner's own spawn can: the binding must carry the task's token, the spawn
 * must be asked by the run's caller, and the task must still be spawning with
 * no live instance; anything else is refused (nothing written).
 */
export async function bindTask(store: RunStore, binding: TaskBinding, instanceId: string, spawnCaller: string | null, isLive: (id: string) => Promise<boolean>): Promise<void> {
  const what = `task ${binding.index + 1} of step "${binding.step}" in run ${binding.run}`;
  const refuse = (why: string) =>
    new TmuxClaudeError(RunErrors.FORBIDDEN, `${instanceId} may not take ${what}: ${why}. plugins.${SPAWN_OPTION} is the workflow engine's own; leave it out of a spawn.`, { run: binding.run, step: binding.step, index: binding.index });
  const run = await store.runs.get(binding.run);
  const task = run?.tasks.find((t) => t.step === binding.step && t.index === binding.index);
  if (!run || !task) throw refuse("there is no such task");
  if (spawnCaller !== run.caller) throw refuse(`the spawn was asked by ${spawnCaller ?? "the root"}, and the run by ${run.caller ?? "the root"}`);
  if (!task.token || !sameToken(task.token, binding.token)) throw refuse("the token is not the one its runner gave this spawn");
  if (task.state !== "spawning") throw refuse(`it is ${task.state}, not waiting for a spawn`);
  if (task.instanceId && (await isLive(task.instanceId))) throw refuse(`its instance ${task.instanceId} still lives`);
  let raced = false;
  await store.runs.update(binding.run, (current) => {
    const at = current?.tasks.findIndex((t) => t.step === binding.step && t.index === binding.index) ?? -1;
    const now = current?.tasks[at];
    // Bound or changed since it was checked (another spawn with the token, a resume): the check no longer holds.
    raced = !current || !now || now.token !== task.token || now.state !== "spawning" || now.instanceId !== task.instanceId;
    if (raced) return current;
    const tasks = [...current!.tasks];
    tasks[at] = { step: now!.step, index: now!.index, ...(now!.task !== undefined ? { task: now!.task } : {}), instanceId, state: "spawning" };
    return { ...current!, tasks };
  });
  if (raced) throw refuse("it was bound or changed while this spawn was checked");
  await store.tasks.update(instanceId, () => ({ run: binding.run, step: binding.step, index: binding.index }));
}

/** Compared in constant time, so the time a refusal takes tells nothing of the token. */
function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
