// A merge step that hits a conflict, in a real git repository with the git
// plugin (worktree isolation) and bash agents that commit (issue 14 fix
// round, trial item 3): the failure names the workflow's way to let the AI
// resolver settle it (`merge: auto-resolve-conflicts`), not the git CLI's
// flag; resuming the failed run (its instances terminated) says they are gone
// and what to do, not "spawn them with isolation worktree".
import { git, runGit } from "@tmux-claude/plugin-git";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseWorkflow } from "../src/index.js";
import { workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>>;
beforeAll(async () => {
  h = await workflowHarness("wf-conflict", {
    agents: { bash: { adapter: "command", command: "bash", args: ["--norc"], env: { PS1: "$ " }, readyPattern: "[$#]\\s*$", idlePattern: "[$#]\\s*$" } },
    plugins: [git()],
  });
  for (const args of [["init", "-q", "-b", "main"], ["config", "user.name", "Test"], ["config", "user.email", "test@example.invalid"], ["commit", "-q", "--allow-empty", "-m", "initial"]]) await runGit(h.workDir, args);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const CONFLICT = `workflow: conflict
completion: turn-end
steps:
  - id: lead
    spawn: manager
    agent: bash
    prompt: "echo lead > LEAD.md && git add LEAD.md && git commit -qm lead"
  - id: build
    spawn: specialist
    agent: bash
    tasks:
      - "echo a > same.txt && git add same.txt && git commit -qm a"
      - "echo b > same.txt && git add same.txt && git commit -qm b"
  - wait: all-complete
  - id: integrate
    merge: no-resolve
`;

test("a merge conflict fails the run naming merge: auto-resolve-conflicts; resumed after its instances were terminated, it says they are gone", async () => {
  const first = await h.api.run({ workflow: parseWorkflow(CONFLICT, "conflict.yaml"), workDir: h.workDir });
  expect(first.state).toBe("failed");
  expect(first.failure?.step).toBe("integrate");
  expect(first.failure?.reason).toMatch(/conflicts with \S+ in same\.txt \(add\/add\); \S+ was not changed\. Let the git plugin's AI resolver settle conflicts with `merge: auto-resolve-conflicts` in the workflow/u);
  expect(first.failure?.reason).not.toContain("--resolve");

  const resumed = await h.api.run({ resume: first.id });
  expect(resumed.state).toBe("failed");
  expect(resumed.failure?.step).toBe("integrate");
  expect(resumed.failure?.reason).toMatch(/^nothing to merge: the instances of build \(mgr-1\.spec-1, mgr-1\.spec-2\) are gone \(a failed run terminates what it spawned unless run with --keep\)/u);
  expect(resumed.failure?.reason).toContain(`tmux-claude run --from ${first.id} --keep`);
  expect(resumed.failure?.reason).not.toContain("isolation");
}, 90_000);
