// send: text to each instance of a spawn step, or to an instance by id. Each
// message has an id made from the run, step and instance, so a resumed run
// that sends it again gets the first send's receipt instead of a duplicate.
import { createHash } from "node:crypto";
import type { SendStep, StepOutput } from "../../types.js";
import { StepFailure, type StepEnv } from "./step-env.js";

export async function runSend(step: SendStep, env: StepEnv): Promise<StepOutput> {
  const { run } = env;
  const to = await env.resolve(step.to, "to");
  const text = await env.resolve(step.text, "text");
  const isStep = run.workflow.steps.some((s) => s.id === to);
  const targets = isStep ? run.tasksOf(to).map((t) => t.instanceId).filter((id): id is string => id !== undefined) : to.split(/\s+/u).filter(Boolean);
  const caller = run.state.caller;
  // A run an instance started (MCP) acts for it: it may message only its own subtree, as its send tool may.
  const outside = caller === null ? [] : targets.filter((id) => id !== caller && !id.startsWith(`${caller}.`));
  if (outside.length) throw new StepFailure(`the run was started by ${caller}, which may send only to itself and the instances below it, not to ${outside.join(", ")}`);
  if (targets.length === 0) throw new StepFailure(isStep ? `step "${to}" has no instances to send to yet; put "${to}" in needs:` : `"to" is empty after resolving ${JSON.stringify(step.to)}`);
  await Promise.all(targets.map((id) => sendOnce(env, step.id, id, text)));
  return targets.length === 1 ? { instance: targets[0]! } : { instances: targets };
}

/** Send once per (run, step, instance): the id makes a repeated send return the first receipt. */
export async function sendOnce(env: StepEnv, stepId: string, instanceId: string, text: string): Promise<void> {
  const { run } = env;
  const messageId = `wf-${createHash("sha256").update(`${run.id}\0${stepId}\0${instanceId}`).digest("hex").slice(0, 32)}`;
  const receipt = await run.kernel.send(instanceId, text, { messageId }, run.state.caller).catch((error: unknown) => {
    throw new StepFailure(`sending to ${instanceId} failed: ${error instanceof Error ? error.message : String(error)}`);
  });
  run.journal.write({ type: "message", step: stepId, instanceId, messageId: receipt.messageId, text, receipt: receipt.state });
}
