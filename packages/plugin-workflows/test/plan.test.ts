// planWorkflow: a valid workflow checked against the config (roles, the
// parent rule, limits, variables, plugins) before anything runs. Reading a
// file is dsl.test.ts.
import { parseConfig } from "@tmux-claude/core";
import { describe, expect, test } from "vitest";
import { formatPlan, planWorkflow, resolveParents } from "../src/dsl/index.js";
import { config, parse, problems, SEED } from "./dsl-helpers.js";

describe("planWorkflow", () => {
  test("the seed: the manager at the top level, the specialists under it, in order", () => {
    const plan = planWorkflow(parse(SEED), config);
    expect(plan.instances).toBe(4);
    expect(plan.steps.map((step) => [step.id, step.wave, step.parent])).toEqual([
      ["step-1", 1, null],
      ["step-2", 2, "step-1"],
      ["step-3", 3, undefined],
      ["step-4", 4, undefined],
    ]);
    const text = formatPlan(plan);
    expect(text).toContain("feature-development (w.yaml): 4 steps, 4 instances. Dry run: nothing was started.");
    expect(text).toContain("step-2 [spawn, line 5] (after step-1): spawn 3 specialists in parallel under step-1 (manager), done when each task calls complete");
    expect(text).toContain("task 3: Build login UI");
    expect(text).toContain("step-3 [wait, line 12] (after step-2): wait until every task of step-1, step-2 completed");
    expect(text).toContain("step-4 [merge, line 13] (after step-3): merge step-2 into their parents' branches (auto-resolve-conflicts)");
  });

  test("variables: required, defaults, unknown --var, filled into the texts", () => {
    const workflow = parse('workflow: x\nvars: { goal: ~, lang: go }\nsteps:\n  - spawn: manager\n    prompt: "${{ vars.goal }} in ${{ vars.lang }}"\n');
    expect(problems(() => planWorkflow(workflow, config, { gaol: "x" }), "TC_WORKFLOW_REJECTED")).toBe(
      'This config cannot run workflow w.yaml (2 problems):\n  w.yaml: --var gaol: workflow "x" has no variable "gaol" (it declares goal, lang) (did you mean "goal"?); declare it under vars: or drop --var gaol\n  w.yaml:2:15: vars.goal: variable "goal" has no default and no value was given; pass --var goal="..."',
    );
    const plan = planWorkflow(workflow, config, { goal: "A cart" });
    expect(plan.vars).toEqual({ goal: "A cart", lang: "go" });
    expect(plan.steps[0]!.details).toEqual(["prompt: A cart in go"]);
  });

  test("the parent rule: roles that may not spawn, several instances, top level, depth, maxInstances", () => {
    const strict = parseConfig({
      roles: {
        executive: { prefix: "exec", spawns: ["manager"] },
        manager: { prefix: "mgr", spawns: ["specialist"], topLevel: false },
        specialist: { prefix: "spec", spawns: [], topLevel: false },
      },
      limits: { maxInstances: 4, maxDepth: 2 },
    });
    const message = problems(
      () =>
        planWorkflow(
          parse(`workflow: x
steps:
  - id: mgrs
    spawn: manager
    count: 2
  - id: specs
    spawn: specialist
  - id: lone
    spawn: specialist
    needs: []
  - id: exec
    spawn: executive
    needs: []
  - id: m
    spawn: manager
    needs: [exec]
  - id: s
    spawn: specialist
    needs: [m]
  - id: big
    spawn: specialist
    count: 5
    parent: exec
  - spawn: speciallist
`),
          strict,
        ),
      "TC_WORKFLOW_REJECTED",
    );
    expect(message).toContain('w.yaml:4:12: steps[0].spawn: no earlier spawn step it depends on may spawn a manager (roles that may: executive), and a manager cannot be spawned at the top level (roles.manager.topLevel is false)');
    expect(message).toContain('w.yaml:7:12: steps[1].spawn: its parent would be step "mgrs" (line 3), the nearest earlier spawn step whose role (manager) may spawn a specialist, but it starts 2 instances and a step with several instances cannot be a parent');
    expect(message).toContain("w.yaml:9:12: steps[2].spawn: no earlier spawn step it depends on may spawn a specialist (roles that may: manager)");
    expect(message).toContain("w.yaml:18:12: steps[5].spawn: its instances would be at depth 3, over limits.maxDepth (2)");
    expect(message).toContain("w.yaml:22:12: steps[6].count: count 5 is over limits.maxInstances (4)");
    expect(message).toContain('w.yaml:23:13: steps[6].parent: step "exec" starts an executive, and an executive may not spawn a specialist');
    expect(message).toContain('w.yaml:24:12: steps[7].spawn: unknown role "speciallist"; the config\'s roles: executive, manager, specialist (did you mean "specialist"?)');
    expect(message).toContain("w.yaml:12:12: steps[3].spawn: the workflow spawns 13 instances in all (mgrs: 2, specs: 1, lone: 1, exec: 1, m: 1, s: 1, big: 5, step-8: 1), over limits.maxInstances (4) from this step on");
  });

  test("run by an instance through MCP: top spawns become its children, so its role must spawn them", () => {
    const workflow = parse(SEED);
    const { parents } = resolveParents(workflow, config, { role: "executive", depth: 1 });
    expect([...parents]).toEqual([["step-1", null], ["step-2", "step-1"]]);
    expect(problems(() => planWorkflow(workflow, config, {}, { role: "manager", depth: 2 }), "TC_WORKFLOW_REJECTED")).toContain(
      "w.yaml:3:12: steps[0].spawn: no earlier spawn step it depends on may spawn a manager (roles that may: executive), and the manager running the workflow would spawn it, and a manager may not spawn a manager (roles.manager.spawns: specialist)",
    );
  });
});

describe("the parent rule with the default roles (every one topLevel)", () => {
  const plan = (text: string, caller?: { role: string; depth: number }) => planWorkflow(parse(text), config, {}, caller);
  const parentsOf = (text: string, caller?: { role: string; depth: number }) => plan(text, caller).steps.filter((s) => s.kind === "spawn").map((s) => [s.id, s.parent]);

  test("a step after a spawn step whose role may not spawn its role is refused before anything runs, with the fixes", () => {
    const text = "workflow: x\nsteps:\n  - id: spec\n    spawn: specialist\n  - id: lead\n    spawn: manager\n";
    expect(problems(() => plan(text), "TC_WORKFLOW_REJECTED")).toBe(
      "This config cannot run workflow w.yaml (1 problem):\n" +
        '  w.yaml:6:12: steps[1].spawn: no spawn step before it may spawn a manager: the nearest, "spec" (line 3), starts a specialist, and a specialist may not spawn a manager (roles.specialist.spawns: nothing); give this step parent: <a spawn step of a role that may (executive)>, parent: caller to have it spawned at the top level, or add manager to roles.specialist.spawns',
    );
    // Through MCP the fix names the calling instance; a caller whose role may not spawn it is not offered.
    expect(problems(() => plan(text, { role: "executive", depth: 1 }), "TC_WORKFLOW_REJECTED")).toContain("parent: caller to have the calling executive spawn it, or add manager");
    expect(problems(() => plan(`${text}    needs: [spec]\n`, { role: "manager", depth: 1 }), "TC_WORKFLOW_REJECTED")).toContain("(executive)>, or add manager to roles.specialist.spawns");
  });

  test("parent: caller spawns it where the workflow's runner is; a step needing no spawn step is the caller's too", () => {
    expect(parentsOf("workflow: x\nsteps:\n  - id: spec\n    spawn: specialist\n  - id: lead\n    spawn: manager\n    parent: caller\n")).toEqual([["spec", null], ["lead", null]]);
    expect(parentsOf("workflow: x\nsteps:\n  - id: spec\n    spawn: specialist\n  - id: lead\n    spawn: manager\n    needs: []\n")).toEqual([["spec", null], ["lead", null]]);
    // Even where a step could be the parent: caller is what it says.
    expect(parentsOf("workflow: x\nsteps:\n  - id: lead\n    spawn: manager\n  - id: spec\n    spawn: specialist\n    parent: caller\n")).toEqual([
      ["lead", null],
      ["spec", null],
    ]);
    expect(problems(() => plan("workflow: x\nsteps:\n  - id: lead\n    spawn: manager\n    parent: caller\n", { role: "manager", depth: 1 }), "TC_WORKFLOW_REJECTED")).toContain(
      "w.yaml:5:13: steps[0].parent: parent: caller, but the manager running the workflow would spawn it, and a manager may not spawn a manager (roles.manager.spawns: specialist); name a spawn step whose role may spawn it (roles that may: executive)",
    );
    const strict = parseConfig({ roles: { manager: { prefix: "mgr", spawns: ["specialist"] }, specialist: { prefix: "spec", spawns: [], topLevel: false } } });
    expect(problems(() => planWorkflow(parse("workflow: x\nsteps:\n  - id: lead\n    spawn: manager\n  - spawn: specialist\n    parent: caller\n"), strict), "TC_WORKFLOW_REJECTED")).toContain(
      "w.yaml:6:13: steps[1].parent: parent: caller, but a specialist cannot be spawned at the top level (roles.specialist.topLevel is false); name a spawn step whose role may spawn it (roles that may: manager)",
    );
    expect(problems(() => parse("workflow: x\nsteps:\n  - id: caller\n    spawn: manager\n"))).toContain('w.yaml:3:9: steps[0].id: "caller" is not a step id: parent: caller means whoever runs the workflow');
  });

  test("the nearest earlier spawn step whose role may spawn it is the parent, past nearer ones that may not", () => {
    expect(
      parentsOf("workflow: x\nsteps:\n  - id: lead\n    spawn: manager\n  - id: team\n    spawn: specialist\n    tasks: [a, b]\n  - id: review\n    spawn: specialist\n  - id: exec\n    spawn: executive\n    parent: caller\n  - id: lead2\n    spawn: manager\n  - id: spec2\n    spawn: specialist\n"),
    ).toEqual([["lead", null], ["team", "lead"], ["review", "lead"], ["exec", null], ["lead2", "exec"], ["spec2", "lead2"]]);
  });
});

describe("merge steps", () => {
  test("need the git plugin (when the plugins are known) and instances with a parent step", () => {
    expect(problems(() => planWorkflow(parse(SEED), config, {}, undefined, ["claude", "mcp", "workflows"]), "TC_WORKFLOW_REJECTED")).toContain(
      'w.yaml:13:12: steps[3].merge: merge steps need the git plugin (each instance on its own branch), and the config has none; add git() to plugins in tmuxclaude.config.ts (import { git } from "@tmux-claude/plugin-git"), or drop the merge step',
    );
    expect(planWorkflow(parse(SEED), config, {}, undefined, ["git", "workflows"]).steps).toHaveLength(4);
    const message = problems(
      () => planWorkflow(parse("workflow: x\nsteps:\n  - id: lone\n    spawn: specialist\n  - merge: auto-resolve-conflicts\n  - merge: no-resolve\n    from: lone\n"), config),
      "TC_WORKFLOW_REJECTED",
    );
    expect(message).toContain("w.yaml:5:12: steps[1].merge: nothing to merge: no spawn step before it has a parent step");
    expect(message).toContain('w.yaml:7:11: steps[2].from: step "lone" has no parent step, so its instances have no branch to merge into');
  });
});
