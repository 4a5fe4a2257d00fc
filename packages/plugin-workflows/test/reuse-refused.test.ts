// A spawn's reuse must not take an idle instance a run still counts on: the
// plugin's beforeTake passes a task's instance over (while the run lives),
// so its turn end or `complete` never completes the task with another
// spawn's work. Once the run ended the instance is free to reuse.
import { afterEach, expect, test } from "vitest";
import { completeAs, startRecorded, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ONE_TASK = "workflow: one\nsteps:\n  - id: impl\n    spawn: specialist\n    prompt: real work\n  - wait: all-complete\n";

test("beforeTake: a task's instance is passed over while its run lives, and free once the run ended", async () => {
  h = await workflowHarness("wf-reuse");
  const run = startRecorded(h.api, ONE_TASK, { workDir: h.workDir });
  const spawned = await run.next("spawned");
  const instance = await h.kernel.get(spawned.instanceId);
  const plan = { instance, source: "reuse" as const, role: instance.role, parentId: instance.parentId, agent: instance.agent, workDir: instance.workDir, name: undefined, caller: null, budget: undefined };
  expect(await h.kernel.hooks.beforeTake.promise(plan)).toBe(`it works on task 1 of step "impl" in workflow run ${spawned.run}`);
  await completeAs(h.kernel, spawned.instanceId, "done");
  expect(await run.result).toMatchObject({ state: "succeeded" });
  expect(await h.kernel.hooks.beforeTake.promise(plan)).toBeUndefined();
});
