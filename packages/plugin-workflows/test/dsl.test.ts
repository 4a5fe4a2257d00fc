import { parseConfig, isTmuxClaudeError } from "@tmux-claude/core";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { formatPlan, listTemplates, loadTemplate, parseWorkflow, planWorkflow, resolveParents, waves } from "../src/dsl/index.js";

/** The seed's example, verbatim (the fixture the real-Claude test runs too). */
const SEED = readFileSync(new URL("./fixtures/seed.yaml", import.meta.url), "utf8");

const config = parseConfig({});

/** The message of the error `fn` throws, after checking its code. */
function problems(fn: () => unknown, code = "TC_WORKFLOW_INVALID"): string {
  try {
    fn();
  } catch (error) {
    if (!isTmuxClaudeError(error)) throw error;
    expect(error.code).toBe(code);
    return error.message;
  }
  throw new Error("expected an error");
}

const parse = (text: string) => parseWorkflow(text, "w.yaml");

describe("parseWorkflow", () => {
  test("the seed's example parses verbatim, with ids, needs and counts filled in", () => {
    const workflow = parse(SEED);
    expect(workflow.name).toBe("feature-development");
    expect(workflow.completion).toBe("tool");
    expect(workflow.steps.map((step) => [step.id, step.kind, step.needs, step.line])).toEqual([
      ["step-1", "spawn", [], 3],
      ["step-2", "spawn", ["step-1"], 5],
      ["step-3", "wait", ["step-2"], 12],
      ["step-4", "merge", ["step-3"], 13],
    ]);
    expect(workflow.steps[0]).toMatchObject({ role: "manager", count: 1, tasks: [], context: "Design authentication system" });
    expect(workflow.steps[1]).toMatchObject({ role: "specialist", count: 3, parallel: true, tasks: ["Implement JWT tokens", "Create user model", "Build login UI"] });
    expect(workflow.steps[2]).toMatchObject({ for: "all-complete" });
    expect(workflow.steps[3]).toMatchObject({ strategy: "auto-resolve-conflicts" });
  });

  test("every key of every step kind, durations, vars and explicit needs", () => {
    const workflow = parse(`workflow: all
description: every key
completion: turn-end
timeout: 1h30m
vars: { goal: ~, lang: ts, n: 3 }
steps:
  - id: lead
    spawn: manager
    agent: claude
    prompt: "Goal: \${{ vars.goal }} in \${{ vars.lang }}"
    timeout: 10m
    node: here
    plugins: { git: { isolation: worktree } }
    completion: tool
  - id: team
    spawn: specialist
    needs: lead
    count: 2
    parallel: false
    parent: lead
    context: "\${{ steps.lead.reply }}"
  - id: tell
    send: lead
    text: "Team: \${{ steps.team.instances }}"
    needs: [team]
  - id: tests
    run: [npm, test, --, 3]
    cwd: lead
    env: { CI: 1, MODE: "\${{ vars.lang }}" }
    needs: [team]
    timeout: 90s
  - wait: [team]
    needs: [tell, tests]
  - merge: no-resolve
    from: team
`);
    expect(workflow).toMatchObject({ description: "every key", completion: "turn-end", timeoutMs: 5_400_000, vars: { goal: undefined, lang: "ts", n: "3" } });
    expect(workflow.steps.map((step) => step.id)).toEqual(["lead", "team", "tell", "tests", "step-5", "step-6"]);
    expect(workflow.steps[0]).toMatchObject({ agent: "claude", timeoutMs: 600_000, node: "here", plugins: { git: { isolation: "worktree" } }, completion: "tool" });
    expect(workflow.steps[1]).toMatchObject({ needs: ["lead"], count: 2, parallel: false, parent: "lead", tasks: [] });
    expect(workflow.steps[3]).toMatchObject({ command: ["npm", "test", "--", "3"], cwd: "lead", env: { CI: "1", MODE: "${{ vars.lang }}" }, timeoutMs: 90_000 });
    expect(workflow.steps[4]).toMatchObject({ kind: "wait", for: ["team"], needs: ["tell", "tests"] });
    expect(workflow.steps[5]).toMatchObject({ kind: "merge", strategy: "no-resolve", from: ["team"], needs: ["step-5"] });
    expect(waves(workflow.steps)).toEqual([["lead"], ["team"], ["tell", "tests"], ["step-5"], ["step-6"]]);
  });

  test("a misspelt kind or key: line, column, what is allowed and a did-you-mean", () => {
    const message = problems(() =>
      parse(`workflow: x
steps:
  - spwan: manager
  - spawn: specialist
    cout: 3
  - wiat: all-complete
    needs: [step-1]
  - merge: auto-resolve
`),
    );
    expect(message).toContain("Invalid workflow w.yaml (4 problems):");
    expect(message).toContain('w.yaml:3:5: steps[0].spwan: unknown step kind "spwan"; a step is one of spawn, send, wait, merge, run (did you mean "spawn"?)');
    expect(message).toContain('w.yaml:5:5: steps[1].cout: unknown key; allowed keys: spawn, id, needs, timeout, agent, count, parallel, tasks, context, prompt, parent, node, plugins, completion (did you mean "count"?)');
    expect(message).toContain('w.yaml:6:5: steps[2].wiat: unknown step kind "wiat"');
    expect(message).toContain('w.yaml:8:12: steps[3].merge: expected one of "auto-resolve-conflicts", "no-resolve", got "auto-resolve"');
  });

  test("wrong values: count 0, a string command, a bad duration, two kinds in one step, top-level keys", () => {
    const message = problems(() =>
      parse(`workflow: x
stesp: []
steps:
  - spawn: specialist
    count: 0
  - run: npm test && rm -rf /
  - wait: all-complete
    timeout: soon
  - spawn: manager
    wait: all-complete
`),
    );
    expect(message).toContain('w.yaml:2:1: stesp: unknown key; allowed keys: workflow, description, vars, completion, timeout, steps (did you mean "steps"?)');
    expect(message).toContain("w.yaml:5:12: steps[0].count: expected an integer >= 1, got 0");
    expect(message).toContain('w.yaml:6:10: steps[1].run: expected an argument array such as ["npm", "test", "&&", "rm", "-rf", "/"]');
    expect(message).toContain('w.yaml:8:14: steps[2].timeout: expected a duration such as "30s", "10m", "1h30m" or "500ms" (or a whole number of milliseconds), got "soon"');
    expect(message).toContain("w.yaml:10:5: steps[3].wait: a step does one thing, and this one has spawn and wait: split it into 2 steps");
  });

  test("not YAML, an empty file, no steps", () => {
    expect(problems(() => parse("workflow: x\nsteps: [\n"))).toMatch(/^Invalid workflow w\.yaml \(1 problem\):\n {2}w\.yaml:\d+:\d+: not valid YAML: /u);
    expect(problems(() => parse("workflow: x\nworkflow: y\nsteps: []\n"))).toContain("w.yaml:2:1: not valid YAML: Map keys must be unique");
    expect(problems(() => parse(""))).toContain('w.yaml: the file is empty; a workflow has at least "workflow: <name>" and "steps:"');
    expect(problems(() => parse("workflow: x\nsteps: []\n"))).toContain("w.yaml:2:8: steps: expected at least 1 item, got []");
    expect(problems(() => parse("steps:\n  - wait: all-complete\n"))).toContain("w.yaml:1:1: workflow: missing; expected a string");
  });

  test("needs: unknown ids, itself, a cycle; duplicate ids; count against tasks", () => {
    expect(problems(() => parse("workflow: x\nsteps:\n  - id: a\n    wait: all-complete\n    needs: [b]\n  - id: b\n    wait: all-complete\n    needs: a\n"))).toContain(
      "w.yaml:5:12: steps[0].needs: these steps need each other in a cycle (a -> b -> a), so none of them could ever start; remove one of these needs",
    );
    const message = problems(() =>
      parse(`workflow: x
steps:
  - id: design
    spawn: manager
    needs: [desing]
  - id: design
    spawn: specialist
    needs: [design, step-2]
    count: 2
    tasks: [a, b, c]
`),
    );
    expect(message).toContain('w.yaml:5:13: steps[0].needs[0]: no step has the id "desing"; steps: design, design (did you mean "design"?)');
    expect(message).toContain('w.yaml:6:9: steps[1].id: the id "design" is taken by step 1 (line 3); give each step its own id');
    expect(message).toContain('w.yaml:8:21: steps[1].needs[1]: no step has the id "step-2"');
  });

  test("references: undefined variables, later or unrelated steps, fields a step does not have", () => {
    const message = problems(() =>
      parse(`workflow: x
vars: { goal: ~ }
steps:
  - id: a
    spawn: manager
    context: "\${{ vars.gaol }} \${{ steps.b.reply }}"
  - id: b
    spawn: specialist
    count: 2
    tasks: ["\${{ steps.a.replay }}", "\${{ steps.a.instance }} \${{ run.id }}"]
  - id: c
    needs: []
    run: [echo, "\${{ steps.a.reply }}", "\${{ steps.b.instance }}"]
  - id: d
    send: b
    text: "\${{ steps.e.reply }} \${{ vars.goal"
  - id: e
    wait: all-complete
    needs: [a, d]
  - needs: [e]
    send: a
    text: "\${{ steps.e.reply }}"
`),
    );
    expect(message).toContain('w.yaml:6:14: steps[0].context: ${{ vars.gaol }}: undefined variable "gaol" (declared: goal) (did you mean "goal"?)');
    expect(message).toContain("steps[0].context: ${{ steps.b.reply }}: step \"b\" does not finish before this step");
    expect(message).toContain('steps[1].tasks[0]: ${{ steps.a.replay }}: "replay" is not an output of a spawn step; it has instance, instances, reply (did you mean "reply"?)');
    expect(message).toContain("steps[1].tasks[1]: ${{ run.id }}: not an expression tmux-claude knows; write ${{ vars.<name> }} or ${{ steps.<id>.<field> }}");
    expect(message).toContain('steps[2].run[1]: ${{ steps.a.reply }}: step "a" does not finish before this step');
    expect(message).toContain('steps[3].text: ${{ steps.e.reply }}: step "e" does not finish before this step');
    expect(message).toContain("steps[3].text: ${{ vars.goal: not an expression");
    expect(message).toContain("steps[5].text: ${{ steps.e.reply }}: a wait step has no outputs");
  });

  test("steps named by wait, merge, send, parent and cwd must be earlier spawn steps", () => {
    const message = problems(() =>
      parse(`workflow: x
steps:
  - id: a
    spawn: manager
  - id: t
    run: [true]
    needs: []
  - id: b
    spawn: specialist
    needs: []
    parent: t
  - wait: [a, t, zz]
    needs: [t]
  - merge: auto-resolve-conflicts
    from: [b]
    needs: [a]
  - send: nobody here
    text: hi
  - run: [ls]
    cwd: b
    needs: [a]
`),
    );
    expect(message).toContain('steps[2].parent: "t" is a run step; parent: names a spawn step (a, b)');
    expect(message).toContain('steps[3].wait[0]: "a" does not run before this step, so wait: cannot use it; add it to needs: (needs: [t, a])');
    expect(message).toContain('steps[3].wait[1]: "t" is a run step');
    expect(message).toContain('steps[3].wait[2]: no step has the id "zz"');
    expect(message).toContain('steps[4].from[0]: "b" does not run before this step');
    expect(message).toContain('steps[5].send: "nobody here" is neither a step id nor an instance id');
    expect(message).toContain('w.yaml:20:10: steps[6].cwd: "b" does not run before this step');
  });
});

describe("every independent problem at once (no check hides the next)", () => {
  test("a self-need and a cycle elsewhere", () => {
    expect(problems(() => parse("workflow: x\nsteps:\n  - id: a\n    needs: [b]\n    run: [true]\n  - id: b\n    needs: [a]\n    run: [true]\n  - id: c\n    needs: [c]\n    run: [true]\n"))).toBe(
      [
        "Invalid workflow w.yaml (2 problems):",
        "  w.yaml:4:12: steps[0].needs: these steps need each other in a cycle (a -> b -> a), so none of them could ever start; remove one of these needs",
        '  w.yaml:10:13: steps[2].needs[0]: a step cannot need itself ("c"); name the steps that must finish before it',
      ].join("\n"),
    );
  });

  test("a step with a bad key, a duplicate id, send: and wait: naming no step, a needs: naming none", () => {
    const message = problems(() =>
      parse(`workflow: x
steps:
  - id: s
    spawn: specialist
    timeout: 10 minutes
  - send: nosuch
    text: hi
  - wait: [s, other]
  - id: s
    run: [true]
  - id: n
    needs: nosuch
    run: [echo, "\${{ steps.s.reply }}"]
  - send: n
    text: hi
`),
    );
    expect(message).toMatch(/^Invalid workflow w\.yaml \(6 problems\):\n/u);
    expect(message).toContain('w.yaml:5:14: steps[0].timeout: expected a duration such as "30s"');
    expect(message).toContain('w.yaml:6:11: steps[1].send: "nosuch" is neither a step id nor an instance id');
    expect(message).toContain('w.yaml:8:15: steps[2].wait[1]: no step has the id "other"');
    expect(message).toContain('w.yaml:9:9: steps[3].id: the id "s" is taken by step 1 (line 3); give each step its own id');
    expect(message).toContain('w.yaml:12:12: steps[4].needs[0]: no step has the id "nosuch"');
    expect(message).toContain('w.yaml:14:11: steps[5].send: "n" is a run step; send: names a spawn step');
    // Nothing about the step that could not be read ("s": its reply, wait: [s]): its own problem is listed.
    expect(message).not.toMatch(/wait\[0\]|steps\.s\.reply/u);
  });
});

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

describe("templates", () => {
  test("web-app, api-service, data-pipeline and the seed's feature-development are shipped and plan with a goal", () => {
    const templates = listTemplates();
    expect(templates.map((t) => t.name)).toEqual(["api-service", "data-pipeline", "feature-development", "web-app"]);
    for (const template of templates) {
      expect(template.description).not.toBe("");
      const workflow = loadTemplate(template.name);
      expect(workflow.source).toBe(`template:${template.name}`);
      const vars = template.vars.some((v) => v.name === "goal") ? { goal: "A bookmarks service" } : {};
      const plan = planWorkflow(workflow, config, vars);
      const kinds = new Set(plan.steps.map((step) => step.kind));
      expect([...kinds].sort()).toEqual(["merge", "spawn", "wait"]);
    }
    const api = planWorkflow(loadTemplate("api-service"), config, { goal: "A bookmarks service" });
    expect(api.steps.find((step) => step.id === "build")).toMatchObject({ parent: "design", instances: 3 });
    expect(api.steps.find((step) => step.id === "build")!.details[0]).toBe("context: The API service: A bookmarks service. The endpoints: ${{ steps.design.reply }}");
  });

  test("an unknown template names the shipped ones", () => {
    expect(problems(() => loadTemplate("web-ap"), "TC_WORKFLOW_TEMPLATE_NOT_FOUND")).toBe(
      'No template "web-ap" (did you mean "web-app"?). Templates: api-service, data-pipeline, feature-development, web-app; tmux-claude templates describes them.',
    );
  });
});

describe("the README's workflows", () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("\n## Workflows\n"), readme.indexOf("\n## Plugins\n"));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/gu)].map((match) => match[1]!);

  test("the first is the seed's example, byte for byte, and every one is valid and plans with the git plugin", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks[0]).toBe(SEED);
    for (const [n, block] of blocks.entries()) {
      const workflow = parseWorkflow(block, `README.md yaml block ${n + 1}`);
      const vars = Object.fromEntries(Object.keys(workflow.vars).map((name) => [name, "x"]));
      expect(planWorkflow(workflow, config, vars, undefined, ["git", "workflows"]).steps.length).toBe(workflow.steps.length);
    }
  });
});
