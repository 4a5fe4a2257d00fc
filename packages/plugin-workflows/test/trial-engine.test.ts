// A new user's trial with command agents (issue 14 review, fix5): turn-end
// tasks are told nothing about `complete` and get their screen as the reply,
// a wait for one task of a named step, --keep changed on resume, a spawn step
// that fails once however many tasks fail, a run: step's missing cwd.
import { eventually, readEchoLog } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { parseWorkflow, type JournalEvent } from "../src/index.js";
import { completeAs, ofType, startRecorded, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("turn-end: the agent is not told to call complete (a shell would run it), and the step's reply is the end of its screen", async () => {
  h = await workflowHarness("wf5-turnend");
  const run = startRecorded(
    h.api,
    "workflow: turns\ncompletion: turn-end\nsteps:\n  - id: worker\n    spawn: specialist\n    prompt: /work 200\n  - wait: all-complete\n  - id: report\n    run: [node, -e, \"process.stdout.write(process.argv[1])\", \"${{ steps.worker.reply }}\"]\n",
    { workDir: h.workDir },
  );
  expect((await run.result).state).toBe("succeeded");
  const typed = (await readEchoLog(h.log)).map((m) => m.text).join("\n");
  expect(typed).toContain("/work 200");
  expect(typed).not.toContain("complete");
  const report = ofType(run.events, "step-finished").find((e) => e.step === "report")!;
  // The echo agent's screen after its turn: "working...", then "done" and its prompt.
  expect(report.output?.stdout).toMatch(/working\.\.\.\s+done/u);
  expect(ofType(run.events, "task-completed")[0]?.summary).toMatch(/done/u);
});

test("the api's plan warns of a task on the echo agent that completes only by the tool", async () => {
  h = await workflowHarness("wf5-plan");
  const plan = await h.api.plan(parseWorkflow("workflow: p\nsteps:\n  - id: impl\n    spawn: specialist\n    prompt: go\n  - wait: all-complete\n", "p.yaml"));
  expect(plan.warnings).toEqual([expect.stringContaining('p.yaml:4:12: steps[0].spawn: step "impl" runs agent "echo" (adapter command), which cannot call the MCP tool complete on its own')]);
});

test("wait: { any: [step] } ends on a task of that step, not on an earlier step's (the manager's)", async () => {
  h = await workflowHarness("wf5-anyof");
  const run = startRecorded(
    h.api,
    "workflow: anyof\nsteps:\n  - id: lead\n    spawn: manager\n    prompt: lead\n  - id: fast\n    needs: [lead]\n    spawn: specialist\n    tasks: [a, b]\n  - id: one\n    needs: [fast]\n    wait: { any: [fast] }\n",
    { workDir: h.workDir },
  );
  const lead = await run.next("spawned", (e) => e.step === "lead");
  const a = await run.next("spawned", (e) => e.step === "fast" && e.index === 0);
  await run.next("step-started", (e) => e.step === "one");
  await completeAs(h.kernel, lead.instanceId, "led");
  await run.next("task-completed", (e) => e.instanceId === lead.instanceId);
  expect(run.events.some((e) => e.type === "step-finished" && e.step === "one")).toBe(false);
  await completeAs(h.kernel, a.instanceId, "a done");
  expect((await run.result).state).toBe("succeeded");
  const at = (match: (e: JournalEvent) => boolean) => run.events.findIndex(match);
  expect(at((e) => e.type === "step-finished" && e.step === "one")).toBeGreaterThan(at((e) => e.type === "task-completed" && e.instanceId === a.instanceId));
});

test("--resume with keep: false ends a --keep run's instances when it fails again", async () => {
  h = await workflowHarness("wf5-keep");
  const workflow = parseWorkflow("workflow: kept\nsteps:\n  - id: team\n    spawn: specialist\n    prompt: try\n  - wait: all-complete\n", "kept.yaml");
  const events: JournalEvent[] = [];
  const first = h.api.run({ workflow, workDir: h.workDir, keep: true, onEvent: (e) => events.push(e) });
  const spawned = await eventually(() => ofType(events, "spawned")[0], 10_000, "spawned");
  await completeAs(h.kernel, spawned.instanceId, "no luck", "failed");
  const failed = await first;
  expect(failed.state).toBe("failed");
  expect((await h.kernel.list()).map((i) => i.id)).toEqual([spawned.instanceId]);

  const again: JournalEvent[] = [];
  const resumed = h.api.run({ resume: failed.id, keep: false, onEvent: (e) => again.push(e) });
  const respawn = await eventually(() => ofType(again, "spawned")[0], 10_000, "spawned again");
  expect((await h.api.runs())[0]?.keep).toBe(false);
  await completeAs(h.kernel, respawn.instanceId, "still no luck", "failed");
  expect((await resumed).state).toBe("failed");
  expect(await h.kernel.list()).toEqual([]);
});

test("a spawn step whose tasks fail together is recorded failed once, with the first reason", async () => {
  h = await workflowHarness("wf5-failonce");
  const run = startRecorded(h.api, "workflow: twice\nsteps:\n  - id: team\n    spawn: specialist\n    tasks: [a, b, c]\n  - wait: all-complete\n", { workDir: h.workDir });
  const spawned = await Promise.all([0, 1, 2].map((index) => run.next("spawned", (e) => e.step === "team" && e.index === index)));
  await run.next("step-started", (e) => e.step === "step-2");
  await Promise.all(spawned.map((s) => completeAs(h!.kernel, s.instanceId, `broke ${s.index + 1}`, "failed")));
  const result = await run.result;
  const failures = ofType(run.events, "step-finished").filter((e) => e.step === "team" && e.state === "failed");
  expect(failures).toHaveLength(1);
  expect(failures[0]!.reason).toBe(result.failure!.reason);
  expect((await h.api.runs())[0]?.steps.team?.reason).toBe(result.failure!.reason);
});

test("a run: step whose cwd does not exist fails saying so (not as if the program were missing)", async () => {
  h = await workflowHarness("wf5-cwd");
  const run = startRecorded(h.api, "workflow: where\nsteps:\n  - id: look\n    run: [pwd]\n    cwd: no-such-dir\n", { workDir: h.workDir });
  const result = await run.result;
  expect(result.failure?.step).toBe("look");
  expect(result.failure?.reason).toContain(`its cwd "no-such-dir" (${h.workDir}/no-such-dir) does not exist`);
  expect(result.failure?.reason).not.toContain("ENOENT");
});
