// A tiny workflow for the Runs view's tests, run for real through the
// workflows plugin's api with the echo agent: a specialist whose turn ends
// its task, a wait, then a `run:` step that fails with a reason. Its variable
// and the step's env carry a value that must never reach the page.
import { workflows } from "@tmux-claude/plugin-workflows";
import type { RunResult, WorkflowsPluginApi } from "@tmux-claude/plugin-workflows";
import type { Harness } from "@tmux-claude/testkit";

export const SECRET = "s3cr3t-do-not-show";

export const TINY_WORKFLOW = `workflow: tiny
completion: turn-end
vars:
  token: ${SECRET}
  work: "300"
steps:
  - id: build
    spawn: specialist
    prompt: "/work \${{ vars.work }}"
  - id: check
    wait: [build]
  - id: test
    run: [node, -e, "console.error('2 tests failed'); process.exit(3)"]
    env:
      API_KEY: "\${{ vars.token }}"
`;

export { workflows };

export function workflowsApi(harness: Harness): WorkflowsPluginApi {
  const api = harness.kernel.plugin<WorkflowsPluginApi>("workflows");
  if (!api) throw new Error("the workflows plugin is not registered in this harness");
  return api;
}

/** Starts the tiny workflow (its specialist busy `workMs`); resolves with its id at once and its result when it ends. */
export async function startTiny(harness: Harness, workMs = 300): Promise<{ id: string; done: Promise<RunResult> }> {
  const api = workflowsApi(harness);
  return api.start({ workflow: api.parse(TINY_WORKFLOW, "tiny.yaml"), vars: { work: String(workMs) }, workDir: harness.workDir });
}
