// A second new-user trial (issue 14, problems 3, 4, 6, 7): what the messages,
// warnings and the replay of a resumed run say. No tmux, except the MCP tool's
// wording (a kernel on a private socket).
import { readFileSync } from "node:fs";
import { parseConfig } from "@tmux-claude/core";
import { afterEach, expect, test } from "vitest";
import { formatPlan, planWorkflow } from "../src/dsl/index.js";
import { statusView } from "../src/engine/tools.js";
import { completionInstruction } from "../src/engine/steps/spawn.js";
import { analyzeJournal, describeEvent, formatReplay } from "../src/replay/index.js";
import type { JournalEvent, PersistedRun } from "../src/types.js";
import { config, parse, problems } from "./dsl-helpers.js";
import { workflowHarness } from "./helpers.js";

const journal = (name: string): JournalEvent[] =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JournalEvent);

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("a duplicate id is reported once, with no made-up self-need, also when its step has another problem", () => {
  const dup = problems(() => parse("workflow: dup\nsteps:\n  - id: a\n    run: [echo, 1]\n  - id: a\n    run: [echo, 2]\n"));
  expect(dup).toBe('Invalid workflow w.yaml (1 problem):\n  w.yaml:5:9: steps[1].id: the id "a" is taken by step 1 (line 3); give each step its own id');
  const both = problems(() => parse("workflow: dup\nsteps:\n  - id: a\n    run: [echo, 1]\n  - id: a\n    run: [echo, 2]\n    timeout: 5 minutes\n"));
  expect(both).toContain('w.yaml:5:9: steps[1].id: the id "a" is taken by step 1 (line 3)');
  expect(both).toContain("w.yaml:7:14: steps[1].timeout: expected a duration");
  // A needs: the file gives that names the step itself is still refused.
  expect(problems(() => parse("workflow: s\nsteps:\n  - id: a\n    needs: [a]\n    run: [echo]\n"))).toContain('steps[0].needs[0]: a step cannot need itself ("a")');
});

test("an unknown role is one problem (no made-up roles.<typo>.spawns); a count over maxInstances is reported once", () => {
  const small = parseConfig({ limits: { maxInstances: 20 } });
  const message = problems(() => planWorkflow(parse("workflow: b\nsteps:\n  - id: a\n    spawn: specalist\n  - id: b\n    spawn: specialist\n    count: 25\n"), small), "TC_WORKFLOW_REJECTED");
  expect(message).toContain('w.yaml:4:12: steps[0].spawn: unknown role "specalist"');
  expect(message).not.toContain("roles.specalist");
  expect(message.match(/w\.yaml:7:12:/gu)).toHaveLength(1);
  expect(message).toContain("w.yaml:7:12: steps[1].count: count 25 is over limits.maxInstances (20)");
});

test("the tool-completion warning of a step with a timeout says it fails then, not that it waits for ever", () => {
  const timed = planWorkflow(parse("workflow: t\nsteps:\n  - id: w\n    spawn: specialist\n    agent: echo\n    prompt: go\n    timeout: 40s\n  - wait: all-complete\n"), { ...config, agents: { ...config.agents, echo: { adapter: "command", command: "node" } } } as typeof config);
  expect(timed.warnings).toHaveLength(1);
  expect(timed.warnings[0]).toContain("each task would fail at the step's timeout (40s)");
  expect(timed.warnings[0]).not.toContain("for ever");
  expect(timed.warnings[0]).not.toContain("give it a timeout");
  expect(timed.warnings[0]).toContain('tmux-claude complete "<summary>"');
  // The README's recipe: tasks that run tmux-claude complete can complete, so nothing is warned of.
  const recipe = readFileSync(new URL("../../../README.md", import.meta.url), "utf8").match(/```yaml\n(workflow: shell-build\n[\s\S]*?)```/u)![1]!;
  const bash = { ...config, agents: { ...config.agents, bash: { adapter: "command", command: "bash" } } } as typeof config;
  expect(planWorkflow(parse(recipe), bash).warnings).toEqual([]);
});

test("a spawn step whose tasks no wait step waits for is warned of (the run could succeed while they work)", () => {
  const plan = planWorkflow(parse("workflow: nowait\ncompletion: turn-end\nsteps:\n  - id: w\n    spawn: specialist\n    prompt: go\n    timeout: 40s\n"), config);
  expect(plan.warnings).toEqual([
    'w.yaml:5:12: steps[0].spawn: no wait step waits for the tasks of step "w": the step succeeds once its instances are spawned, so the run can succeed while they still work, and how they end (its timeout, 40s, too) counts for nothing then. Add a step "wait: [w]" after it, or ignore this if they are meant to work on after the run.',
  ]);
  expect(formatPlan(plan)).toContain("nowait (w.yaml): 1 step, 1 instance.");
  // Waited for by name, or by all-complete: no warning.
  expect(planWorkflow(parse("workflow: ok\ncompletion: turn-end\nsteps:\n  - id: w\n    spawn: specialist\n  - wait: [w]\n"), config).warnings).toEqual([]);
});

test("${{ }} problems point at the reference, not the text's start; counts read right", () => {
  const message = problems(() => parse('workflow: r\nsteps:\n  - id: c\n    run: [echo, "x ${{ vars.nope }} ${{ steps.q.stdout }} ${{ vars.nope }}"]\n'));
  expect(message).toContain("w.yaml:4:20: steps[0].run[1]: ${{ vars.nope }}: undefined variable");
  expect(message).toContain("w.yaml:4:37: steps[0].run[1]: ${{ steps.q.stdout }}: no step has the id");
  expect(message).toContain("w.yaml:4:59: steps[0].run[1]: ${{ vars.nope }}: undefined variable");
  expect(problems(() => parse("workflow: c\nsteps:\n  - spawn: specialist\n    count: 2\n    tasks: [x]\n"))).toContain("count is 2 but there is 1 task;");
  const started = { at: "2026-12-05T10:00:00.000Z", run: "r", type: "run-started", workflow: parse("workflow: one\nsteps:\n  - run: [echo]\n"), vars: {}, resumed: false } as JournalEvent;
  expect(describeEvent(started)).toBe("started one (1 step)");
});

test("variables without a value: the CLI says --var, run_workflow says vars", async () => {
  const workflow = parse("workflow: v\nvars:\n  goal: ~\nsteps:\n  - run: [echo, '${{ vars.goal }}']\n");
  expect(problems(() => planWorkflow(workflow, config), "TC_WORKFLOW_REJECTED")).toContain('pass --var goal="..."');
  h = await workflowHarness("wf-t2-vars");
  const tool = (await h.kernel.tools()).find((t) => t.name === "run_workflow")!;
  const refused = tool.handler({ yaml: "workflow: v\nvars:\n  goal: ~\n  lang: go\nsteps:\n  - spawn: specialist\n    prompt: '${{ vars.goal }}'\n", vars: { gaol: "x" } }, { instanceId: null, role: null });
  await expect(refused).rejects.toThrow(`variable "goal" has no default and no value was given; give it in run_workflow's vars: {"goal": "..."}`);
  await expect(refused).rejects.toThrow(`vars.gaol: workflow "v" has no variable "gaol" (it declares goal, lang) (did you mean "goal"?); declare it under vars: or drop "gaol" from vars`);
  await expect(refused).rejects.not.toThrow("--var");
});

test("run_status: a state read as a sentence, a multi-line summary kept under its task", () => {
  const workflow = parse("workflow: s\nsteps:\n  - id: w\n    spawn: specialist\n");
  const run = { id: "s-1", workflow, state: "succeeded", startedAt: "", steps: { w: { state: "succeeded" } }, tasks: [{ step: "w", index: 0, instanceId: "spec-1", state: "completed", summary: "line one\nline two\n" }] } as unknown as PersistedRun;
  expect(statusView(run).text).toBe("Run s-1 (workflow s) succeeded.\n  w (spawn): succeeded\n  task w[1] spec-1: completed: line one\n      line two");
  const failed = { ...run, state: "failed", failure: { step: "w", reason: 'workDir "/x" does not exist.' } } as PersistedRun;
  expect((statusView(failed).text as string).split("\n")[0]).toBe('Run s-1 (workflow s) failed: step "w" failed: workDir "/x" does not exist.');
});

test("an agent that does not call MCP tools is not told to call complete (a shell would run the sentence); Claude Code is", () => {
  expect(completionInstruction("tool", "command")).toBeUndefined();
  expect(completionInstruction("tool", "claude")).toContain('call the MCP tool "complete"');
  expect(completionInstruction("turn-end", "claude")).toBeUndefined();
});

test("replay of a run resumed after its runner was killed -9: in time order, the runner's loss and the cut attempt shown, one total", () => {
  const report = analyzeJournal(journal("killed-resumed-run.jsonl"));
  const offsets = report.timeline.map((entry) => entry.offsetMs);
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  const text = formatReplay(report);
  expect(text).toContain("Run long-20261205-102146-c670 (long, wf/long.yaml): succeeded after 29s, resumed 1x");
  expect(text).toMatch(/\+2\.3s {2}run +the runner's last event: it stopped without recording an end \(killed or crashed\); a resume went on from here\n/u);
  expect(text).toMatch(/\+2\.3s {2}build +step attempt cut off after at least 2\.3s: its runner was gone; the resume runs it again\n/u);
  expect(text).toMatch(/\+5\.8s {2}mgr-7\.spec-1 +completed workers task 1 .*\(recorded while no runner ran\)\n/u);
  expect(text).toMatch(/\+29s {2}run +run succeeded after 29s in all \(20s since its last resume\)\n/u);
  expect(report.timeline.map((entry) => entry.type)).toContain("runner-lost");

  const interrupted = formatReplay(analyzeJournal(journal("interrupted-resumed-run.jsonl")));
  expect(interrupted).toMatch(/\+6\.6s {2}build +step attempt stopped after 6\.6s: the run was interrupted; the resume runs it again\n/u);
  expect(interrupted).not.toContain("runner's last event");
  expect(interrupted).toMatch(/\+40s {2}run +run succeeded after 40s in all \(20s since its last resume\)\n/u);
});

test("replay of a run that never resumed says its end as before", () => {
  const text = formatReplay(analyzeJournal(journal("seed-run.jsonl")));
  expect(text).toMatch(/run +run succeeded after 24s\n/u);
});
