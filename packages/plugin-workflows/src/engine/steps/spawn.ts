// spawn: one instance per task (or `count` alike), in parallel or one after
// another (each after the one before completed), each told to call the MCP
// tool `complete` when done (completion: tool). A task that already has a live instance (a
// resumed run) is re-attached, never spawned again.
import { agentForRole, type InstanceRecord } from "@tmux-claude/core";
import { callsTools } from "../../dsl/warnings.js";
import type { CompletionMode, SpawnStep, StepOutput, TaskState } from "../../types.js";
import { recordCompletion } from "../recorder.js";
import { newTaskToken, SPAWN_OPTION, type TaskBinding } from "../run-store.js";
import { expectedTasks, type TaskTracker } from "../tasks.js";
import type { RunContext } from "../context.js";
import { sendOnce } from "./send.js";
import { singleInstance, StepFailure, type StepEnv } from "./step-env.js";

/**
 * Appended to a task's prompt when it completes by the tool. Not with
 * turn-end (the agent then need not be told anything), nor for an agent whose
 * adapter does not call MCP tools: a shell would run the sentence as input
 * (the dry run and the run's first lines warn of such a step instead).
 */
export function completionInstruction(mode: CompletionMode, adapter: string | undefined): string | undefined {
  // An agent the config does not describe is not judged (the dry run does not warn of it either): it is told.
  if (mode !== "tool" || (adapter !== undefined && !callsTools(adapter))) return undefined;
  return 'When the task is done, call the MCP tool "complete" (server tmux-claude) with a short summary and status "ok"; if you cannot do it, call it with status "failed" and the reason.';
}

export async function runSpawn(step: SpawnStep, env: StepEnv): Promise<StepOutput> {
  const { run } = env;
  const count = expectedTasks(step);
  // The task list is in the run's state before any spawn, so `complete` and a resume find it.
  for (let index = 0; index < count; index++) {
    const task = step.tasks[index] !== undefined ? await env.resolve(step.tasks[index]!, `tasks[${index}]`) : undefined;
    await run.setTask(step.id, index, (current) => current ?? { step: step.id, index, ...(task !== undefined ? { task } : {}), state: "spawning" });
  }
  // The parent rule (the DSL's resolveParents): a step's instance, or whoever runs the workflow.
  const parentStep = run.parents.get(step.id) ?? null;
  const parentId = parentStep ? singleInstance(run, parentStep, `the parent of "${step.id}"`) : run.state.caller;
  const parent = parentId ? await run.kernel.get(parentId) : undefined;
  // Under a step's instance: where it works; the caller's own children: the run's workDir (the caller's, unless run_workflow set one).
  const workDir = parentStep ? parent!.workDir : run.state.workDir;
  const context = step.context !== undefined ? await env.resolve(step.context, "context") : undefined;
  const prompt = step.prompt !== undefined ? await env.resolve(step.prompt, "prompt") : undefined;
  const completion = step.completion ?? run.workflow.completion;
  const config = run.kernel.config;
  const instruction = completionInstruction(completion, config.agents[agentForRole(config, step.role, step.agent, null)]?.adapter);

  const one = async (index: number): Promise<string> => {
    const task = run.tasksOf(step.id).find((t) => t.index === index)!;
    // Done before the runner stopped: never again.
    if (task.state === "completed" && task.instanceId) return task.instanceId;
    const text = [prompt, task.task, instruction].filter((part): part is string => part !== undefined && part !== "").join("\n\n");
    const live = await liveInstance(run, task);
    if (live) {
      await reattach(env.run, env.tracker, task, live, env.timeoutMs);
      if (task.state === "spawning") {
        // Its runner died between the agent being ready and its first message: send it (once, by its id).
        if (!live.messages?.length) await sendOnce(env, step.id, live.id, [context, text].filter(Boolean).join("\n\n"));
        await run.setTask(step.id, index, (t) => (t?.state === "spawning" ? { ...t, state: "working" } : undefined));
      }
      return live.id;
    }
    // This spawn's token, in the store before the spawn: only it can bind the task (bindTask).
    const token = newTaskToken();
    await run.setTask(step.id, index, (t) => (t ? { ...t, state: "spawning", token } : undefined));
    const ref: TaskBinding = { run: run.id, step: step.id, index, token };
    const { instance, receipt } = await run.kernel
      .spawn(
        {
          role: step.role,
          workDir,
          ...(context !== undefined ? { context } : {}),
          // Nothing to say (no prompt, no task, no instruction for an agent that cannot call tools): no first message.
          ...(text !== "" ? { prompt: text } : {}),
          parentId,
          ...(step.agent ? { agent: step.agent } : {}),
          ...(step.node ? { node: step.node } : {}),
          plugins: { ...step.plugins, [SPAWN_OPTION]: ref },
        },
        run.state.caller,
      )
      .catch((error: unknown) => {
        throw new StepFailure(`spawning task ${index + 1}${task.task ? ` ("${task.task}")` : ""} failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    run.instances.add(instance.id);
    run.journal.write({ type: "spawned", step: step.id, index, instanceId: instance.id, role: instance.role, parentId: instance.parentId, node: instance.tmux.node ?? run.kernel.node });
    if (receipt) {
      run.journal.write({ type: "message", step: step.id, instanceId: instance.id, messageId: receipt.messageId, text: [context, text].filter(Boolean).join("\n\n"), receipt: receipt.state });
    }
    // A fast agent may have completed already (its `complete` came before the spawn returned): keep that.
    await run.setTask(step.id, index, (t) => (t && t.state === "spawning" ? { ...t, instanceId: instance.id, state: "working" } : undefined));
    env.tracker.follow({ step: step.id, index }, instance, env.timeoutMs);
    return instance.id;
  };

  const ids: string[] = [];
  if (step.parallel) {
    // Every spawn settles before the step ends, a failed one's siblings too: the run's clean-up (or a resume) then knows all of them.
    const settled = await Promise.allSettled(Array.from({ length: count }, (_, index) => one(index)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    ids.push(...settled.map((s) => (s as PromiseFulfilledResult<string>).value));
  } else {
    for (let index = 0; index < count; index++) {
      ids.push(await one(index));
      // One after another: the next task starts once this one completed.
      if (index < count - 1) await run.until((state) => state.tasks.some((t) => t.step === step.id && t.index === index && t.state === "completed"), env.signal);
    }
  }
  return ids.length === 1 ? { instance: ids[0]! } : { instances: ids };
}

/** Go on with a task's live instance: journaled, findable by `complete` again, followed. */
async function reattach(run: RunContext, tracker: TaskTracker, task: TaskState, live: InstanceRecord, timeoutMs: number | undefined): Promise<void> {
  run.instances.add(live.id);
  run.journal.write({ type: "reattached", step: task.step, index: task.index, instanceId: live.id });
  // The index entry may be gone (a failed run's clean-up) or never written (killed before): `complete` needs it.
  await run.store.tasks.update(live.id, () => ({ run: run.id, step: task.step, index: task.index }));
  tracker.follow(task, live, timeoutMs);
  const step = run.step(task.step) as SpawnStep;
  if ((step.completion ?? run.workflow.completion) === "turn-end") await turnEndWhileAway(run, task, live);
}

/**
 * A turn-end task's turn may have ended while no runner ran, seen by nobody
 * who records it: no process was attached (the runner was killed), or the one
 * that was had no workflows plugin, or a serve without the instance's agent
 * kept a one-shot kernel from announcing it. Attaching here (a read) makes
 * this process watch the instance, so a turn still going is seen to end
 * (turnEnded fires here when no serve watches it); one found over already
 * (idle, its prompt typed, nothing queued) completes the task now.
 */
async function turnEndWhileAway(run: RunContext, task: TaskState, live: InstanceRecord): Promise<void> {
  const now = await run.kernel.read(live.id, { lines: 1 }).catch((error: unknown) => run.logger.warn({ err: error, instance: live.id, run: run.id }, "re-attaching to a task's instance failed"));
  const record = await run.kernel.get(live.id).catch(() => undefined);
  if (!now || now.status !== "idle" || now.queued > 0 || record?.turnPrompt === undefined) return;
  await recordCompletion(run.store, { run: run.id, step: task.step, index: task.index }, live.id, { status: "ok", ...(now.lastReply !== undefined ? { summary: now.lastReply } : {}), via: "turn-end" }).catch((error: unknown) =>
    run.logger.warn({ err: error, instance: live.id, run: run.id }, "recording a turn that ended while no runner ran failed"),
  );
}

/**
 * A resumed run's tasks whose spawn step had succeeded (it will not run
 * again) and that were still working: re-attached to their instances, or
 * failed when the instance ended while no runner ran.
 */
export async function reattachWorking(run: RunContext, tracker: TaskTracker): Promise<void> {
  for (const task of run.state.tasks) {
    if (task.state !== "working" || run.state.steps[task.step]?.state !== "succeeded") continue;
    const step = run.step(task.step);
    const live = await liveInstance(run, task);
    if (live) await reattach(run, tracker, task, live, step.timeoutMs ?? run.options.stepTimeoutMs);
    else await tracker.fail(task.step, task.index, task.instanceId ? "ended while no runner ran" : "had no instance when the run resumed");
  }
}

/** The task's instance when it has one that still lives: a resumed run goes on with it. */
async function liveInstance(run: RunContext, task: TaskState): Promise<InstanceRecord | undefined> {
  if (!task.instanceId) return undefined;
  const record = await run.kernel.get(task.instanceId).catch(() => undefined);
  if (!record || record.status === "exited") return undefined;
  if (record.status === "starting") {
    // Its spawn died with the runner before it was ready: nothing of it works yet; start the task afresh.
    await run.kernel.terminate(record.id).catch(() => undefined);
    return undefined;
  }
  return record;
}
