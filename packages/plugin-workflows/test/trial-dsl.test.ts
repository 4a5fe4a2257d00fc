// A new user's trial (issue 14 review, fix5): what a dry run must warn of,
// the wait form for one task of a named step, and messages that say the fix.
import { isTmuxClaudeError, parseConfig } from "@tmux-claude/core";
import { expect, test } from "vitest";
import { formatPlan, parseWorkflow, planWorkflow } from "../src/dsl/index.js";
import { analyzeJournal, formatReplay } from "../src/replay/index.js";
import type { JournalEvent } from "../src/types.js";

const echo = { adapter: "command", command: "node", args: ["echo-agent.mjs"] };
const config = parseConfig({ defaultAgent: "echo", agents: { echo, claude: { adapter: "claude", command: "claude" } } });
const parse = (text: string) => parseWorkflow(text, "w.yaml");

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isTmuxClaudeError(error)) return error.message;
    throw error;
  }
  throw new Error("expected an error");
}

test("a task that completes by the tool on an agent that cannot call MCP tools: the dry run warns and says how to fix it", () => {
  const workflow = parse("workflow: w\nsteps:\n  - id: impl\n    spawn: specialist\n    prompt: go\n  - id: review\n    spawn: specialist\n    parent: caller\n    agent: claude\n    prompt: look\n  - id: later\n    spawn: specialist\n    parent: caller\n    completion: turn-end\n    prompt: go\n  - wait: all-complete\n");
  const plan = planWorkflow(workflow, config);
  expect(plan.warnings).toHaveLength(1);
  expect(plan.warnings[0]).toMatch(/:4:12: steps\[0\]\.spawn: step "impl" runs agent "echo"/u);
  expect(plan.warnings[0]).toContain('runs agent "echo" (adapter command), which cannot call the MCP tool complete on its own');
  expect(plan.warnings[0]).toContain("Set completion: turn-end");
  expect(plan.warnings[0]).toContain("TMUX_CLAUDE_MCP_URL");
  expect(formatPlan(plan)).toMatch(/\nwarning: \S+:4:12: steps\[0\]\.spawn: step "impl"/u);
  // turn-end for the whole workflow: nothing to warn of.
  expect(planWorkflow(parse("workflow: w\ncompletion: turn-end\nsteps:\n  - spawn: specialist\n    prompt: go\n  - wait: all-complete\n"), config).warnings).toEqual([]);
});

test("wait: { any: [step] } waits for one task of that step only; a bare any-complete over several spawn steps is warned of", () => {
  const text = "workflow: w\ncompletion: turn-end\nsteps:\n  - id: lead\n    spawn: manager\n  - id: fast\n    needs: [lead]\n    spawn: specialist\n    tasks: [a, b]\n  - id: any\n    needs: [fast]\n    wait: any-complete\n  - id: one\n    needs: [fast]\n    wait: { any: [fast] }\n";
  const plan = planWorkflow(parse(text), config);
  expect(plan.steps.find((s) => s.id === "one")!.summary).toBe("wait until any task of fast completed");
  expect(plan.steps.find((s) => s.id === "any")!.summary).toBe("wait until any task of lead, fast completed");
  expect(plan.warnings).toEqual([expect.stringMatching(/:12:11: steps\[2\]\.wait: /u)]);
  expect(plan.warnings[0]).toContain('step "any" (wait: any-complete) ends when any task of lead, fast completes: every spawn step before it counts. To wait for one task of fast only, write wait: { any: [fast] }.');
  expect(parse(text).steps[3]).toMatchObject({ kind: "wait", for: { any: ["fast"] } });
  expect(message(() => parse("workflow: w\nsteps:\n  - id: a\n    spawn: specialist\n  - wait: { any: [b] }\n"))).toContain('w.yaml:5:19: steps[1].wait.any[0]: no step has the id "b"');
});

test("vars: as a list says what a map of variables looks like", () => {
  expect(message(() => parse("workflow: x\nvars: [goal]\nsteps:\n  - run: [true]\n"))).toContain('w.yaml:2:7: vars: expected record, got ["goal"]; write a map of variable names to their defaults, e.g. "vars: { goal: ~, lang: en }"');
});

test("a step that uses its own output is told it cannot (not to add itself to needs:)", () => {
  const text = message(() => parse("workflow: x\nsteps:\n  - id: a\n    run: [echo, '${{ steps.a.stdout }}']\n"));
  expect(text).toContain('a step cannot use its own output ("a" is this step');
  expect(text).not.toContain("add it to needs");
});

test("replay: a step's duration in the table is the one its timeline line says", () => {
  const run = "w-1";
  const events: JournalEvent[] = [
    { at: "2026-12-05T07:00:00.000Z", run, type: "run-started", workflow: parse("workflow: w\nsteps:\n  - id: t\n    run: [true]\n"), vars: {}, resumed: false },
    { at: "2026-12-05T07:00:00.010Z", run, type: "step-started", step: "t", kind: "run" },
    // Written after the store took the step's end: its `at` is later than the end it measured.
    { at: "2026-12-05T07:00:02.600Z", run, type: "step-finished", step: "t", state: "succeeded", durationMs: 1500 },
    { at: "2026-12-05T07:00:02.700Z", run, type: "run-finished", state: "succeeded", durationMs: 2700 },
  ];
  const report = analyzeJournal(events);
  expect(report.steps[0]!.durationMs).toBe(1500);
  const text = formatReplay(report);
  expect(text).toContain("step succeeded after 1.5s");
  expect(text).toMatch(/t +run +succeeded +\+10ms +1\.5s/u);
});
