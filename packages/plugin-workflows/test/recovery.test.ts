// Failed runs and their resume: a failed task under --keep, tasks the failed
// run's clean-up stopped, a parallel spawn that fails while its siblings start.
import { eventually } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { parseWorkflow, type JournalEvent } from "../src/index.js";
import { completeAs, ofType, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("a failed run started with --keep, resumed: the failed task's instance is terminated and a new one gets the task; the live one is re-attached", async () => {
  h = await workflowHarness("wf-keep-resume");
  const workflow = parseWorkflow("workflow: retry\nsteps:\n  - id: team\n    spawn: specialist\n    tasks: [steady, flaky, slow]\n    parallel: true\n  - wait: all-complete\n", "retry.yaml");
  const events: JournalEvent[] = [];
  const first = h.api.run({ workflow, workDir: h.workDir, keep: true, onEvent: (e) => events.push(e) });
  const spawned = await eventually(() => ofType(events, "spawned").length === 3 && ofType(events, "spawned").sort((a, b) => a.index - b.index), 10_000, "three spawned");
  const [steady, flaky, slow] = spawned.map((e) => e.instanceId);
  await completeAs(h.kernel, steady!, "steady done");
  await completeAs(h.kernel, flaky!, "flaked", "failed");
  const failed = await first;
  expect(failed.failure?.step).toBe("team");
  // --keep: all three still there.
  expect((await h.kernel.list()).map((i) => i.id).sort()).toEqual([steady, flaky, slow].sort());

  const again: JournalEvent[] = [];
  const resumed = h.api.run({ resume: failed.id, onEvent: (e) => again.push(e) });
  const respawn = await eventually(() => ofType(again, "spawned")[0], 10_000, "the flaky task spawned again");
  expect(respawn).toMatchObject({ step: "team", index: 1 });
  expect(respawn.instanceId).not.toBe(flaky);
  // The new instance got the task as its first message.
  expect(ofType(again, "message").find((e) => e.instanceId === respawn.instanceId)?.text).toContain("flaky");
  expect(ofType(again, "reattached").map((e) => e.instanceId)).toEqual([slow]);
  await expect(h.kernel.get(flaky!)).rejects.toThrow();
  await completeAs(h.kernel, respawn.instanceId, "flaky done");
  await completeAs(h.kernel, slow!, "slow done");
  expect(await resumed).toMatchObject({ state: "succeeded" });
  const [run] = await h.api.runs();
  expect(run?.tasks.map((t) => [t.index, t.state, t.summary])).toEqual([
    [0, "completed", "steady done"],
    [1, "completed", "flaky done"],
    [2, "completed", "slow done"],
  ]);
});

test("a run that failed at a wait's timeout, resumed: the tasks its clean-up stopped are spawned again and the run finishes", async () => {
  h = await workflowHarness("wf-fail-resume");
  const workflow = parseWorkflow("workflow: slow\nsteps:\n  - id: team\n    spawn: specialist\n    prompt: work\n  - id: waited\n    wait: all-complete\n    timeout: 1s\n", "slow.yaml");
  const failed = await h.api.run({ workflow, workDir: h.workDir });
  expect(failed.failure).toMatchObject({ step: "waited" });
  expect(await h.kernel.list()).toEqual([]);
  const [stopped] = await h.api.runs();
  expect(stopped?.tasks).toMatchObject([{ step: "team", state: "failed", reason: 'stopped: the run failed at step "waited"' }]);
  expect(ofType(await h.api.journal(failed.id), "task-failed").map((e) => e.reason)).toEqual([`task 1 on ${stopped!.tasks[0]!.instanceId} stopped: the run failed at step "waited"`]);

  const again: JournalEvent[] = [];
  const resumed = h.api.run({ resume: failed.id, onEvent: (e) => again.push(e) });
  const respawn = await eventually(() => ofType(again, "spawned")[0], 10_000, "the task spawned again");
  expect(respawn.instanceId).not.toBe(stopped!.tasks[0]!.instanceId);
  await completeAs(h.kernel, respawn.instanceId, "worked");
  expect(await resumed).toMatchObject({ state: "succeeded" });
  expect(ofType(again, "step-started").map((e) => e.step)).toEqual(["team", "waited"]);
});

test("one of three parallel spawns fails: the step waits for its siblings, the failed run terminates them, nothing is left running or written after", async () => {
  h = await workflowHarness("wf-spawn-fail", { limits: { maxInstances: 3 } });
  // Not the run's: one slot of three is taken, so one of the three spawns is refused while the others start.
  const other = await h.kernel.spawn({ role: "specialist", workDir: h.workDir, prompt: "other", parentId: null }, null);
  const events: JournalEvent[] = [];
  const workflow = parseWorkflow("workflow: crowded\nsteps:\n  - id: build\n    spawn: specialist\n    parallel: true\n    tasks: [a, b, c]\n  - wait: all-complete\n", "crowded.yaml");
  const result = await h.api.run({ workflow, workDir: h.workDir, onEvent: (e) => events.push(e) });
  expect(result.state).toBe("failed");
  expect(result.failure?.reason).toMatch(/^spawning task \d \("[abc]"\) failed: /u);
  expect((await h.kernel.list()).map((i) => i.id)).toEqual([other.instance.id]);
  const [run] = await h.api.runs();
  const spawned = ofType(events, "spawned").map((e) => e.instanceId).sort();
  expect(spawned).toHaveLength(2);
  expect(run?.tasks.filter((t) => t.instanceId).map((t) => t.instanceId).sort()).toEqual(spawned);
  expect(events.at(-1)).toMatchObject({ type: "run-finished", state: "failed" });
  expect((await h.api.journal(result.id)).at(-1)).toMatchObject({ type: "run-finished" });
});
