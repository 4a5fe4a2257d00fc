// What a step runs with: the run, the task tracker, the step's own signal
// (its timeout, or the run stopping) and `${{ }}` resolution.
import type { StepOutput } from "../../types.js";
import type { RunContext } from "../context.js";
import { fieldText, resolveText, type ExpressionScope } from "../expressions.js";
import type { TaskTracker } from "../tasks.js";

export interface StepEnv {
  readonly run: RunContext;
  readonly tracker: TaskTracker;
  readonly signal: AbortSignal;
  /** The step's own timeout (ms), or the default; undefined: none. */
  readonly timeoutMs: number | undefined;
  /** `${{ }}` in a value of this step resolved now. */
  resolve(text: string, key: string): Promise<string>;
}

/** A failure of a step, with the reason a person reads (the step is named by whoever reports it). */
export class StepFailure extends Error {}

export function expressionScope(run: RunContext): ExpressionScope {
  return {
    vars: run.state.vars,
    async stepField(id: string, field: keyof StepOutput) {
      const output: StepOutput | undefined = run.state.steps[id]?.output;
      const value = fieldText(output, field);
      if (value !== undefined || field !== "reply") return value;
      // Not completed yet: the reply of its one instance so far, where the agent tells it.
      const instance = output?.instance;
      return instance ? (await run.kernel.get(instance).catch(() => undefined))?.lastReply : undefined;
    },
  };
}

export function stepEnv(run: RunContext, tracker: TaskTracker, stepId: string, signal: AbortSignal, timeoutMs: number | undefined): StepEnv {
  const scope = expressionScope(run);
  return {
    run,
    tracker,
    signal,
    timeoutMs,
    resolve: (text, key) => resolveText(text, scope, `step "${stepId}" ${key}`),
  };
}

/** The single instance of a spawn step (for parent, cwd, to), or a failure naming why there is none. */
export function singleInstance(run: RunContext, stepId: string, usedAs: string): string {
  const tasks = run.tasksOf(stepId);
  if (tasks.length > 1) throw new StepFailure(`step "${stepId}" has ${tasks.length} instances; as ${usedAs} it must have one`);
  const id = tasks[0]?.instanceId;
  if (!id) throw new StepFailure(`step "${stepId}" has no instance yet to use as ${usedAs}; put "${stepId}" in needs:`);
  return id;
}
