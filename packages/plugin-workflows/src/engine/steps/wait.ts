// wait: until the tasks of spawn steps completed (all of them, or any one):
// those the wait depends on, or the ones it names (the DSL's waitTargets). A task that fails fails the run on its
// own (see tasks.ts), so a wait only ever sees progress.
import type { PersistedRun, StepOutput, WaitStep } from "../../types.js";
import { expectedTasks } from "../tasks.js";
import { formatMs } from "../format.js";
import type { SpawnStep } from "../../types.js";
import { waitsForAny, waitTargets } from "../../dsl/index.js";
import { StepFailure, type StepEnv } from "./step-env.js";

export async function runWait(step: WaitStep, env: StepEnv): Promise<StepOutput> {
  const { run } = env;
  const targets = waitTargets(run.workflow, step);
  const spawns = run.workflow.steps.filter((s): s is SpawnStep => s.kind === "spawn" && targets.includes(s.id));
  if (spawns.length === 0) throw new StepFailure("there is no spawn step it depends on to wait for; give it needs: or name the spawn steps (wait: [a, b])");
  const any = waitsForAny(step);
  const done = (state: PersistedRun): boolean => {
    const counts = spawns.map((s) => completed(state, s));
    return any ? counts.some((c) => c.done > 0) : counts.every((c) => c.spawned && c.done === c.expected);
  };
  try {
    await run.until(done, env.signal);
  } catch (error) {
    if (env.signal.aborted && env.signal.reason === "timeout") {
      const waiting = run.state.tasks.filter((t) => spawns.some((s) => s.id === t.step) && t.state !== "completed");
      throw new StepFailure(`waited ${formatMs(env.timeoutMs ?? 0)}; still not complete: ${waiting.map((t) => `${t.step} task ${t.index + 1}${t.instanceId ? ` (${t.instanceId}, ${t.state})` : ""}`).join(", ") || "steps not spawned yet"}`);
    }
    throw error;
  }
  const tasks = run.state.tasks.filter((t) => spawns.some((s) => s.id === t.step) && t.state === "completed");
  return { reply: tasks.map((t) => `[${t.step} ${t.index + 1}] ${t.summary ?? ""}`).join("\n\n") };
}

function completed(state: PersistedRun, step: SpawnStep): { spawned: boolean; done: number; expected: number } {
  const tasks = state.tasks.filter((t) => t.step === step.id);
  return { spawned: state.steps[step.id]?.state === "succeeded", done: tasks.filter((t) => t.state === "completed").length, expected: expectedTasks(step) };
}
