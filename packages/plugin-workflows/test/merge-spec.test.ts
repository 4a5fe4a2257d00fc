// The merge step's spec form, `merge: { from, into, strategy, resolve,
// verify, priority, batch }`: read with line and column errors, planned, and
// run for real: two specialists (the echo agent; the test commits their work
// in their worktrees) squash-merged into main with a verify command, through
// the git plugin's merge queue in a real repository.
import { isTmuxClaudeError, parseConfig } from "@tmux-claude/core";
import { git, mergeCallSchema, type GitApi } from "@tmux-claude/plugin-git";
import { afterEach, describe, expect, test } from "vitest";
import { gitValue } from "../../plugin-git/src/git/run.js";
// plugin-git's own helpers: a repository on main with one commit, and a commit of files in a worktree.
import { commitFiles, makeRepo } from "../../plugin-git/test/helpers.js";
import { formatPlan, parseWorkflow, planWorkflow } from "../src/index.js";
import { completeAs, ofType, startRecorded, workflowHarness } from "./helpers.js";

const parse = (text: string) => parseWorkflow(text, "w.yaml");
const config = parseConfig({});

function problems(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (!isTmuxClaudeError(error)) throw error;
    return error.message;
  }
  throw new Error("expected an error");
}

const TEAM = `workflow: land
steps:
  - id: lead
    spawn: manager
  - id: team
    spawn: specialist
    tasks: [a, b]
  - wait: [team]
`;

describe("reading and planning the spec form", () => {
  test("every key, from inside it, positions; what plugin-git's merge takes", () => {
    const workflow = parse(`${TEAM}  - id: land
    merge:
      from: team
      into: main
      strategy: squash
      resolve: none
      verify: [node, -e, "process.exit(0)"]
      priority: 2
      batch: false
`);
    const step = workflow.steps[3]!;
    expect(step).toMatchObject({
      kind: "merge",
      strategy: "spec",
      from: ["team"],
      spec: { into: "main", strategy: "squash", resolve: "none", verify: ["node", "-e", "process.exit(0)"], priority: 2, batch: false },
      positions: { merge: { line: 11, column: 7 } },
    });
    // The same request is valid for the git plugin (its schema, so the two cannot drift apart).
    expect(mergeCallSchema.safeParse(step.kind === "merge" ? step.spec : undefined).success).toBe(true);
    const plan = planWorkflow(workflow, config, {}, undefined, ["git"]);
    expect(formatPlan(plan)).toContain("land [merge, line 9] (after step-3): merge team into main (squash, resolve none, verify node -e process.exit(0), priority 2)");
    // With into, instances without a parent step have a branch to merge into: the default sources are every earlier spawn step.
    expect(planWorkflow(parse(`${TEAM}  - merge: { into: main }\n`), config).steps[3]!.summary).toBe("merge lead, team into main");
    expect(planWorkflow(parse(`${TEAM}  - merge: { resolve: ai }\n`), config).steps[3]!.summary).toBe("merge team into their parents' branches (resolve ai)");
  });

  test("bad input: line, column, what is allowed", () => {
    const message = problems(() =>
      parse(`${TEAM}  - merge:
      stratgy: squash
  - merge:
      resolve: maybe
      priority: 1.5
  - merge:
      verify: npm test
  - merge: { from: team }
    from: lead
  - merge: { into: "" }
`),
    );
    expect(message).toContain('w.yaml:10:7: steps[3].merge.stratgy: unknown key; allowed keys: from, into, strategy, resolve, verify, priority, batch (did you mean "strategy"?)');
    expect(message).toContain('w.yaml:12:16: steps[4].merge.resolve: expected one of "ai", "none", got "maybe"');
    expect(message).toContain("w.yaml:13:17: steps[4].merge.priority: expected an integer");
    expect(message).toContain('w.yaml:15:15: steps[5].merge.verify: expected an argument array such as ["npm", "test"], got "npm test"; no shell runs it');
    expect(message).toContain("w.yaml:17:5: steps[6].from: from: is given twice, here and inside merge: { from: ... }; keep one");
    expect(message).toContain('w.yaml:18:20: steps[7].merge.into: expected a non-empty string: a branch name, got ""');
    // Once the keys are right: the steps it names, where they are written.
    expect(problems(() => parse(`${TEAM}  - merge: { into: main, from: [team, teem] }\n`))).toContain('w.yaml:9:39: steps[3].merge.from[1]: no step has the id "teem"; steps: lead, team, step-3, step-4 (did you mean "team"?)');
  });
});

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("a spec merge runs: the specialists' branches squashed into main, verified on the merged result, the manager's branch untouched", async () => {
  h = await workflowHarness("wf-merge-spec", { plugins: [git()] });
  const repo = await makeRepo(h.workDir);
  const gitApi = h.kernel.plugin<GitApi>("git")!;
  const run = startRecorded(
    h.api,
    `${TEAM}  - id: land
    merge:
      from: team
      into: main
      strategy: squash
      resolve: none
      verify: [node, -e, "process.exit(require('fs').existsSync('a.txt') ? 0 : 1)"]
`,
    { workDir: repo },
  );
  const lead = await run.next("spawned", (e) => e.step === "lead");
  for (const index of [0, 1]) {
    const spawned = await run.next("spawned", (e) => e.step === "team" && e.index === index);
    const state = (await gitApi.status(spawned.instanceId))!;
    expect(state).toMatchObject({ isolation: "worktree", base: (await gitApi.status(lead.instanceId))!.branch });
    await commitFiles(state.worktree, { [`${"ab"[index]}.txt`]: `work ${index}\n` }, `task ${index}`);
    await completeAs(h.kernel, spawned.instanceId, `did ${"ab"[index]}`);
  }
  const result = await run.result;
  expect(result).toMatchObject({ state: "succeeded" });
  const merges = ofType(run.events, "merge");
  expect(merges.map((e) => [e.into, e.outcome])).toEqual([
    ["main", "merged"],
    ["main", "merged"],
  ]);
  // Squashed: one commit per branch on main, both files there; the manager's branch did not move.
  expect(await gitValue(repo, ["log", "--format=%s", "-2", "main"])).toMatch(/^Squash .*\nSquash /u);
  expect(await gitValue(repo, ["show", "main:a.txt"])).toBe("work 0");
  expect(await gitValue(repo, ["show", "main:b.txt"])).toBe("work 1");
  expect(await gitValue(repo, ["rev-list", "--count", (await gitApi.status(lead.instanceId))!.branch])).toBe("1");
}, 120_000);

test("a verify that fails refuses the merge and fails the step with the git plugin's reason", async () => {
  h = await workflowHarness("wf-merge-verify", { plugins: [git()] });
  const repo = await makeRepo(h.workDir);
  const gitApi = h.kernel.plugin<GitApi>("git")!;
  const run = startRecorded(h.api, `${TEAM.replace("tasks: [a, b]", "tasks: [a]")}  - id: land\n    merge: { into: main, from: team, verify: [node, -e, "process.exit(3)"] }\n`, { workDir: repo });
  const spawned = await run.next("spawned", (e) => e.step === "team");
  await commitFiles((await gitApi.status(spawned.instanceId))!.worktree, { "a.txt": "a\n" }, "a");
  await completeAs(h.kernel, spawned.instanceId, "did a");
  const result = await run.result;
  expect(result.failure?.step).toBe("land");
  expect(result.failure?.reason).toMatch(new RegExp(`^${spawned.instanceId}'s branch \\S+ did not merge into main: `, "u"));
  expect(await gitValue(repo, ["rev-list", "--count", "main"])).toBe("1");
}, 120_000);
