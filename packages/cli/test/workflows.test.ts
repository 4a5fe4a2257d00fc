// The workflow commands through the built CLI, without an agent: templates,
// dry runs, bad input (exit 2, nothing started, no tmux server), replay of a
// journal. Running a workflow is tested with the engine (plugin-workflows).
import { execFile } from "node:child_process";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createEnv, parseJson, type TestEnv } from "./helpers.js";

const execFileAsync = promisify(execFile);
const FIXTURES = fileURLToPath(new URL("../../plugin-workflows/test/fixtures/", import.meta.url));
const SEED_RUN = "feature-development-20261205-070000-a1b2";

let env: TestEnv;
/** The test's config with the git plugin, which merge steps need. */
let withGit: string;
beforeAll(async () => {
  env = await createEnv();
  withGit = path.join(env.dir, "git.config.mjs");
  await writeFile(withGit, gitConfig());
});

/** A config importing the test's own, with git() added (and `extra` keys). */
function gitConfig(extra = ""): string {
  return `import base from ${JSON.stringify(env.configFile)};\nimport { git } from "@tmux-claude/plugin-git";\nexport default { ...base, ${extra}plugins: [git()] };\n`;
}
afterAll(async () => {
  await env?.close();
});

/** Nothing was started: no tmux server on the test's socket. */
async function noTmuxServer(): Promise<void> {
  const answer = await execFileAsync("tmux", ["-L", env.socket, "list-sessions"]).then(
    () => "running",
    (error: { stderr: string }) => error.stderr,
  );
  expect(answer).toMatch(/no server running|error connecting/u);
}

async function workflowFile(name: string, text: string): Promise<string> {
  const file = path.join(env.workDir, name);
  await writeFile(file, text);
  return file;
}

describe("tmux-claude templates", () => {
  test("lists the shipped templates, as text and JSON", async () => {
    const text = await env.run(["templates"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^TEMPLATE +VARS +DESCRIPTION\n/u);
    for (const name of ["web-app", "api-service", "data-pipeline", "feature-development"]) expect(text.stdout).toContain(name);
    const json = parseJson<{ name: string; vars: { name: string; required: boolean }[] }[]>(await env.run(["templates", "--json"]));
    expect(json.map((t) => t.name)).toEqual(["api-service", "data-pipeline", "feature-development", "web-app"]);
    expect(json.find((t) => t.name === "web-app")!.vars).toEqual([{ name: "goal", required: true }]);
  });
});

describe("tmux-claude run --dry-run", () => {
  test.each(["web-app", "api-service", "data-pipeline"])("template %s: the plan with the goal filled in, nothing started", async (name) => {
    const result = await env.run(["--config", withGit, "run", "--template", name, "--var", "goal=A bookmarks service", "--dry-run"], { config: false });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${name} (template:${name}): 5 steps, 4 instances. Dry run: nothing was started.`);
    expect(result.stdout).toContain('vars: goal="A bookmarks service"');
    expect(result.stdout).toMatch(/build \[spawn, line \d+\] \(after designed\): spawn 3 specialists in parallel under design \(manager\)/u);
  });

  test("--json prints the plan; --from takes the workflow and variables of an earlier run's journal", async () => {
    const plan = parseJson<{ workflow: string; steps: { id: string; parent?: string | null; wave: number }[] }>(
      await env.run(["--config", withGit, "run", "--template", "api-service", "--var", "goal=x", "--dry-run", "--json"], { config: false }),
    );
    expect(plan.steps.map((step) => [step.id, step.wave])).toEqual([["design", 1], ["designed", 2], ["build", 3], ["built", 4], ["integrate", 5]]);
    expect(plan.steps.find((step) => step.id === "build")!.parent).toBe("design");

    const from = await env.run(["--config", withGit, "run", "--from", path.join(FIXTURES, "seed-run.jsonl"), "--dry-run"], { config: false });
    expect(from.code).toBe(0);
    expect(from.stdout).toContain("feature-development (feature.yaml): 4 steps, 4 instances.");
  });

  test("a merge step without the git plugin in the config: refused before anything runs", async () => {
    const result = await env.run(["run", "--template", "web-app", "--var", "goal=x", "--dry-run"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("template:web-app:28:12: steps[4].merge: merge steps need the git plugin (each instance on its own branch), and the config has none; add git() to plugins");
  });

  test("the seed's example as a file: over this config's maxInstances (3), refused with exit 2", async () => {
    const file = await workflowFile(
      "seed.yaml",
      'workflow: feature-development\nsteps:\n  - spawn: manager\n    context: "Design authentication system"\n  - spawn: specialist\n    count: 3\n    parallel: true\n    tasks:\n      - "Implement JWT tokens"\n      - "Create user model"\n      - "Build login UI"\n  - wait: all-complete\n  - merge: auto-resolve-conflicts\n',
    );
    const small = path.join(env.dir, "small.config.mjs");
    await writeFile(small, gitConfig("limits: { maxInstances: 3 }, "));
    const result = await env.run(["--config", small, "run", file], { config: false });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: This config cannot run workflow ${file} (1 problem):`);
    expect(result.stderr).toContain(":6:12: steps[1].count: the workflow spawns 4 instances in all (step-1: 1, step-2: 3), over limits.maxInstances (3) from this step on");
    await noTmuxServer();
  });
});

describe("bad input: exit 2, one clear error, nothing started", () => {
  test.each([
    ["a misspelt kind", "workflow: x\nsteps:\n  - spwan: manager\n", 'bad.yaml:3:5: steps[0].spwan: unknown step kind "spwan"; a step is one of spawn, send, wait, merge, run (did you mean "spawn"?)'],
    ["a needs cycle", "workflow: x\nsteps:\n  - id: a\n    wait: all-complete\n    needs: b\n  - id: b\n    wait: all-complete\n    needs: a\n", "steps[0].needs: these steps need each other in a cycle (a -> b -> a)"],
    ["an undefined variable", 'workflow: x\nsteps:\n  - spawn: manager\n    prompt: "${{ vars.goal }}"\n', 'bad.yaml:4:14: steps[0].prompt: ${{ vars.goal }}: undefined variable "goal" (none is declared)'],
    ["count 0", "workflow: x\nsteps:\n  - spawn: manager\n    count: 0\n", "bad.yaml:4:12: steps[0].count: expected an integer >= 1, got 0"],
    ["a role that may not spawn the next", "workflow: x\nsteps:\n  - spawn: specialist\n  - spawn: manager\n    parent: step-1\n", 'bad.yaml:5:13: steps[1].parent: step "step-1" starts a specialist, and a specialist may not spawn a manager'],
    ["a role that may not spawn the next, its parent left implicit", "workflow: x\nsteps:\n  - spawn: specialist\n  - spawn: manager\n", 'bad.yaml:4:12: steps[1].spawn: no spawn step before it may spawn a manager: the nearest, "step-1" (line 3), starts a specialist'],
  ])("%s", async (_name, text, expected) => {
    await workflowFile("bad.yaml", text);
    const result = await env.run(["run", "bad.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expected);
    expect(result.stderr).not.toContain("    at ");
    await noTmuxServer();
  });

  test("--json: the error as JSON on stdout, with every issue", async () => {
    await workflowFile("bad.yaml", "workflow: x\nsteps:\n  - spwan: manager\n");
    const result = await env.run(["run", "bad.yaml", "--json"]);
    expect(result.code).toBe(2);
    const { error } = parseJson<{ error: { code: string; issues: { line: number; column: number; path: string }[] } }>(result);
    expect(error.code).toBe("TC_WORKFLOW_INVALID");
    expect(error.issues).toEqual([expect.objectContaining({ line: 3, column: 5, path: "steps[0].spwan" })]);
  });

  test("no workflow, two workflows, a missing file, --var without =, an unknown template, a missing or unknown variable", async () => {
    const cases: [string[], number, string][] = [
      [["run"], 2, "tmux-claude run needs a workflow: a file"],
      [["run", "x.yaml", "--template", "web-app"], 2, "tmux-claude run takes one workflow, got a file (x.yaml) and --template"],
      [["run", "nothere.yaml"], 2, "Cannot read the workflow file nothere.yaml: no such file"],
      [["run", "--template", "web-app", "--var", "goal"], 2, 'expected name=value (e.g. --var goal="Add a cart"), got "goal"'],
      [["run", "--template", "web-ap"], 3, 'No template "web-ap" (did you mean "web-app"?)'],
      [["run", "--template", "web-app", "--dry-run"], 2, 'vars.goal: variable "goal" has no default and no value was given; pass --var goal="..."'],
      [["run", "--template", "web-app", "--var", "gaol=x", "--dry-run"], 2, '--var gaol: workflow "web-app" has no variable "gaol" (it declares goal) (did you mean "goal"?)'],
      [["run", "--resume", "r-1", "--var", "a=b"], 2, "--resume continues a run with its own workflow and variables"],
    ];
    for (const [args, code, message] of cases) {
      const result = await env.run(args);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code, stderr: expect.stringContaining(message) });
    }
    await noTmuxServer();
  });
});

describe("tmux-claude replay", () => {
  test("a run id in the state dir, or a journal file: timeline, per-step durations, critical path; --json for tools", async () => {
    await mkdir(path.join(env.stateDir, "runs"), { recursive: true });
    await copyFile(path.join(FIXTURES, "seed-run.jsonl"), path.join(env.stateDir, "runs", `${SEED_RUN}.jsonl`));
    const text = await env.run(["replay", SEED_RUN]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Run ${SEED_RUN} (feature-development, feature.yaml): succeeded after 24s`);
    expect(text.stdout).toMatch(/step-2 +spawn +succeeded +\+1\.8s +2\.7s +3 /u);
    expect(text.stdout).toContain("Critical path (24s): step-1 (1.8s) -> step-2 (2.7s) -> step-3 (17s) -> step-4 (2.1s)");

    const failed = await env.run(["replay", path.join(FIXTURES, "failed-resumed-run.jsonl"), "--json"]);
    const report = parseJson<{ state: string; failure: { step: string }; steps: { id: string; durationMs?: number }[] }>(failed);
    expect(report.state).toBe("failed");
    expect(report.failure.step).toBe("tests");
    // Each as its step-finished event says (the timeline's "after ..."): the resumed build's last attempt.
    expect(report.steps.map((step) => step.durationMs)).toEqual([4011, 900, 3000, undefined]);
    await noTmuxServer();
  });

  test("an unknown run: exit 3, naming where it looked", async () => {
    const result = await env.run(["replay", "nope-20261205-000000-0000"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`No journal at ${path.join(env.stateDir, "runs", "nope-20261205-000000-0000.jsonl")}`);
  });
});
