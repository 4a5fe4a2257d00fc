import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { listTemplates, loadTemplate, parseWorkflow, planWorkflow, waves } from "../src/dsl/index.js";
import { parseConfig } from "@tmux-claude/core";
import { config, parse, problems, SEED } from "./dsl-helpers.js";

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
    expect(message).toContain('w.yaml:6:15: steps[0].context: ${{ vars.gaol }}: undefined variable "gaol" (declared: goal) (did you mean "goal"?)');
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

  const withReadmeAgents = parseConfig({ agents: { bash: { adapter: "command", command: "bash" } } });

  test("the first is the seed's example, byte for byte, and every one is valid and plans with the git plugin", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks[0]).toBe(SEED);
    for (const [n, block] of blocks.entries()) {
      const workflow = parseWorkflow(block, `README.md yaml block ${n + 1}`);
      const vars = Object.fromEntries(Object.keys(workflow.vars).map((name) => [name, "x"]));
      // With the agents the README's text around the block tells you to add (a `bash` command agent).
      expect(planWorkflow(workflow, withReadmeAgents, vars, undefined, ["git", "workflows"]).steps.length).toBe(workflow.steps.length);
    }
  });
});
