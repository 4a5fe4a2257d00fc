// `run --from <run>`: the workflow and variables a journal recorded are
// checked again as a file would be (the journal is only JSON on disk).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { listTemplates, loadTemplate, parseWorkflow, runInputs, type JournalEvent, type Workflow } from "../src/index.js";

const SEED = fileURLToPath(new URL("./fixtures/seed.yaml", import.meta.url));
const started = (workflow: unknown, vars: unknown = {}): JournalEvent[] => [{ at: "2026-12-05T07:00:00.000Z", run: "r-1", type: "run-started", workflow: workflow as Workflow, vars: vars as Record<string, string>, resumed: false }];
const FROM = 'The journal of run "r-1"';

test("a recorded workflow comes back as it was recorded: the seed, every template, one with every kind of step and key", async () => {
  const every = parseWorkflow(
    `workflow: every
description: all of it
vars: { goal: ~, word: hi }
completion: turn-end
timeout: 2h
steps:
  - id: lead
    spawn: manager
    context: "\${{ vars.goal }}"
    agent: echo
    completion: tool
    timeout: 10m
  - id: crew
    spawn: specialist
    count: 2
    parallel: false
    parent: lead
    plugins: { git: { isolation: worktree } }
  - id: tell
    send: crew
    text: "\${{ vars.word }}"
  - id: waited
    wait: [crew]
    needs: [tell, lead]
  - merge: no-resolve
    from: crew
  - id: queued
    merge: { into: main, strategy: squash, resolve: none, verify: [npm, test], priority: 2, batch: true }
    from: crew
  - merge: { from: [lead], resolve: ai }
  - id: solo
    spawn: specialist
    parent: caller
  - id: check
    run: [node, -e, "1", 3, true]
    cwd: lead
    env: { A: "1" }
`,
    "every.yaml",
  );
  const workflows = [every, parseWorkflow(await readFile(SEED, "utf8"), SEED), ...listTemplates().map((t) => loadTemplate(t.name))];
  // As a journal holds it: JSON, which drops a variable declared without a default (goal: ~); the run's values name it.
  const journaled = (workflow: Workflow): unknown => JSON.parse(JSON.stringify(workflow));
  for (const workflow of workflows) expect(runInputs(started(journaled(workflow), { goal: "g", word: "hi" }), FROM)).toEqual({ workflow, vars: { goal: "g", word: "hi" } });
});

test("a tampered journal is refused, naming the key and the value, before anything runs", () => {
  const seed = parseWorkflow("workflow: t\nsteps:\n  - id: a\n    spawn: specialist\n    tasks: [x]\n  - id: b\n    run: [node, -e, '1']\n", "t.yaml");
  const edit = (change: (steps: Record<string, unknown>[]) => void): unknown => {
    const copy = JSON.parse(JSON.stringify(seed)) as { steps: Record<string, unknown>[] };
    change(copy.steps);
    return copy;
  };
  const refused = (workflow: unknown, vars?: unknown) => {
    try {
      runInputs(started(workflow, vars), FROM);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("not refused");
  };
  expect(refused(edit((s) => (s[0]!.count = "many")))).toMatch(
    /^The recorded workflow was changed or damaged since it ran \(start it from its file instead\): The journal of run "r-1" \(1 problem\):\n {2}The journal of run "r-1": steps\[0\]\.count: /u,
  );
  expect(refused(edit((s) => (s[0]!.needs = ["b"])))).toMatch(/cycle/u);
  expect(refused(edit((s) => (s[1]!.command = "rm -rf /")))).toMatch(/steps\[1\]\.run: /u);
  expect(refused(edit((s) => (s[1]!.shell = true)))).toMatch(/steps\[1\]\.shell: unknown key; allowed keys: run, id, needs, timeout, cwd, env$/u);
  expect(refused(edit((s) => (s[0]!.kind = "exec")))).toMatch(/steps\[0\]/u);
  // Positions only point into the original file: unsound ones are dropped, not refused (and never the re-written text's).
  const unsound = runInputs(started(edit((s) => (s[0]!.positions = { spawn: { line: "x" } }))), FROM).workflow;
  expect(unsound.steps[0]!.positions).toBeUndefined();
  expect(unsound.steps[1]!.positions).toEqual(seed.steps[1]!.positions);
  expect(refused("not a workflow")).toMatch(/^The recorded workflow was changed or damaged/u);
  expect(refused(seed, { goal: 3 })).toBe('The journal of run "r-1": variable "goal" is 3, not text (the journal was changed or damaged since it ran). Start the workflow from its file instead, with --var.');
});
