import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eventually, startReadyProcess } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { parseWorkflow, type JournalEvent } from "../src/index.js";
import { completeAs, ofType, workflowHarness } from "./helpers.js";

const RUNNER = fileURLToPath(new URL("./fixtures/runner.mjs", import.meta.url));

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("a run whose runner is killed -9 after spawning resumes: re-attaches to its instances, spawns nothing again, repeats no finished step, finishes", async () => {
  h = await workflowHarness("wf-resume");
  const file = path.join(h.dir, "feature.yaml");
  await writeFile(
    file,
    `workflow: feature
steps:
  - id: lead
    spawn: manager
    context: "Design authentication system"
  - id: team
    spawn: specialist
    parallel: true
    tasks: ["Implement JWT tokens", "Create user model", "Build login UI"]
  - wait: all-complete
  - id: check
    run: [node, -e, "process.stdout.write('checked')"]
`,
  );
  // The runner is its own process, as `tmux-claude run` is; this test's kernel serves (events, the complete tool).
  const runner = await startReadyProcess(RUNNER, [JSON.stringify(h.userConfig), "start", file, h.workDir]);
  const [{ id }] = (await h.api.runs()) as [{ id: string }];
  const spawned = await eventually(async () => {
    const [run] = await h!.api.runs();
    const working = run?.tasks.filter((t) => t.step === "team" && t.state === "working") ?? [];
    // The spawn step recorded as done too: the kill comes after spawning, not in the middle of it.
    return working.length === 3 && run?.steps.team?.state === "succeeded" && run;
  }, 20_000, "the three specialists working");

  // While its runner lives, a second runner is refused.
  await expect(h.api.run({ resume: id })).rejects.toThrow(/^Run "feature-\S+" is still being run by process \d+\. Wait for it to end, or stop that process and resume again\.$/u);
  await runner.kill();
  const before = (await h.kernel.list()).map((i) => i.id).sort();
  expect(before).toHaveLength(4);

  // A task completed while no runner ran is kept.
  const team = spawned.tasks.filter((t) => t.step === "team").map((t) => t.instanceId!);
  await completeAs(h.kernel, team[0]!, "tokens done");

  const events: JournalEvent[] = [];
  const resumed = h.api.run({ resume: id, onEvent: (e) => events.push(e) });
  await eventually(() => ofType(events, "reattached").length === 3, 20_000, "re-attached to the lead and two specialists");
  await completeAs(h.kernel, team[1]!, "model done");
  await completeAs(h.kernel, team[2]!, "ui done");
  await completeAs(h.kernel, spawned.tasks.find((t) => t.step === "lead")!.instanceId!, "designed");
  const result = await resumed;
  expect(result).toMatchObject({ id, state: "succeeded" });

  expect((await h.kernel.list()).map((i) => i.id).sort()).toEqual(before);
  const journal = await h.api.journal(id);
  expect(ofType(journal, "spawned")).toHaveLength(4);
  expect(ofType(journal, "run-started").map((e) => e.resumed)).toEqual([false, true]);
  expect(ofType(events, "reattached").map((e) => e.instanceId).sort()).toEqual([spawned.tasks.find((t) => t.step === "lead")!.instanceId, team[1], team[2]].sort());
  // Steps that succeeded before the kill (both spawns) did not run again.
  expect(ofType(events, "step-started").map((e) => e.step)).toEqual(["step-3", "check"]);
  expect(ofType(journal, "task-completed").map((e) => e.summary).sort()).toEqual(["designed", "model done", "tokens done", "ui done"]);
  expect(journal.at(-1)).toMatchObject({ type: "run-finished", state: "succeeded" });
});

test("an interrupted run (Ctrl-C) keeps its instances and state; --resume re-attaches and finishes; a succeeded run is not resumed", async () => {
  h = await workflowHarness("wf-interrupt");
  const stop = new AbortController();
  const events: JournalEvent[] = [];
  const workflow = parseWorkflow("workflow: paused\nsteps:\n  - id: worker\n    spawn: specialist\n    prompt: go\n  - wait: all-complete\n", "paused.yaml");
  const first = h.api.run({ workflow, workDir: h.workDir, signal: stop.signal, onEvent: (e) => events.push(e) });
  await eventually(() => ofType(events, "step-started").some((e) => e.step === "step-2"), 10_000, "the wait to start");
  stop.abort("SIGINT");
  const interrupted = await first;
  expect(interrupted.state).toBe("interrupted");
  const [stored] = await h.api.runs();
  expect(stored).toMatchObject({ state: "interrupted", steps: { worker: { state: "succeeded" }, "step-2": { state: "pending" } } });
  const worker = stored!.tasks[0]!.instanceId!;
  expect((await h.kernel.get(worker)).status).not.toBe("exited");

  const resumed = h.api.run({ resume: interrupted.id });
  await eventually(async () => (await h!.api.journal(interrupted.id)).some((e) => e.type === "reattached"), 10_000, "re-attached");
  await completeAs(h.kernel, worker, "went");
  expect(await resumed).toMatchObject({ state: "succeeded" });
  await expect(h.api.run({ resume: interrupted.id })).rejects.toThrow(`Run "${interrupted.id}" already succeeded: nothing to resume. Start it again from its inputs with \`tmux-claude run --from ${interrupted.id}\`.`);
});

test("a failed run resumed: completed tasks stay done, the failed task gets a new instance (its own was terminated), the run finishes", async () => {
  h = await workflowHarness("wf-refail");
  const workflow = parseWorkflow("workflow: retry\nsteps:\n  - id: team\n    spawn: specialist\n    tasks: [steady, flaky]\n  - wait: all-complete\n", "retry.yaml");
  const events: JournalEvent[] = [];
  const first = h.api.run({ workflow, workDir: h.workDir, onEvent: (e) => events.push(e) });
  const spawned = await eventually(() => ofType(events, "spawned").length === 2 && ofType(events, "spawned").sort((a, b) => a.index - b.index), 10_000, "both spawned");
  await completeAs(h.kernel, spawned[0]!.instanceId, "steady done");
  await completeAs(h.kernel, spawned[1]!.instanceId, "flaked", "failed");
  const failed = await first;
  expect(failed.failure?.step).toBe("team");
  expect(await h.kernel.list()).toEqual([]);

  const again: JournalEvent[] = [];
  const resumed = h.api.run({ resume: failed.id, onEvent: (e) => again.push(e) });
  const respawn = await eventually(() => ofType(again, "spawned")[0], 10_000, "the flaky task spawned again");
  expect(respawn).toMatchObject({ step: "team", index: 1 });
  expect(respawn.instanceId).not.toBe(spawned[1]!.instanceId);
  await completeAs(h.kernel, respawn.instanceId, "flaky done");
  expect(await resumed).toMatchObject({ state: "succeeded" });
  expect(ofType(again, "spawned")).toHaveLength(1);
  const [run] = await h.api.runs();
  expect(run?.tasks.map((t) => [t.index, t.state, t.summary])).toEqual([
    [0, "completed", "steady done"],
    [1, "completed", "flaky done"],
  ]);
});

test("a failed --keep run: a task that completes after the failure counts when the run is resumed, with its reply and its time", async () => {
  h = await workflowHarness("wf-late-done");
  const yaml = [
    "workflow: late",
    "completion: turn-end",
    "steps:",
    "  - id: w",
    "    spawn: specialist",
    "    prompt: /work 1500",
    "  - id: wait",
    "    wait: [w]",
    "    timeout: 200ms",
    "  - id: say",
    '    run: [echo, "reply=${{ steps.w.reply }}"]',
    "",
  ].join("\n");
  const failed = await h.api.run({ workflow: parseWorkflow(yaml, "late.yaml"), workDir: h.workDir, keep: true });
  expect(failed.failure?.step).toBe("wait");
  // The task's turn ends after the failure, with no runner: recorded all the same (it was dropped: the run had failed).
  const done = await eventually(async () => {
    const task = (await h!.api.runs())[0]?.tasks[0];
    return task?.state === "completed" && task;
  }, 10_000, "the task's completion after the failure");
  expect(done.summary).toContain("done");
  const resumedAt = Date.now();
  expect(await h.api.run({ resume: failed.id })).toMatchObject({ state: "succeeded" });
  const [run] = await h.api.runs();
  expect(run?.steps.say?.output?.stdout).toContain(`reply=${done.summary!.split("\n")[0]}`);
  const completed = ofType(await h.api.journal(failed.id), "task-completed");
  expect(completed.map((e) => [e.step, e.summary, e.at])).toEqual([["w", done.summary, done.completedAt]]);
  expect(Date.parse(done.completedAt!)).toBeLessThan(resumedAt);
});
