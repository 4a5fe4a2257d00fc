// The MCP side with the echo agent: run_workflow as an executive (its
// top-level spawns become its children, the run id comes back at once),
// run_status for the caller's runs only. The handlers get the caller the MCP
// server derives from the instance's secret (packages/mcp).
import type { KernelApi } from "@tmux-claude/core";
import { eventually } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { completeAs, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function call(kernel: KernelApi, name: string, args: Record<string, unknown>, instanceId: string | null): Promise<Record<string, unknown>> {
  const tool = (await kernel.tools()).find((t) => t.name === name)!;
  const role = instanceId === null ? null : (await kernel.get(instanceId)).role;
  return (await tool.handler(args, { instanceId, role })) as Record<string, unknown>;
}

test("run_workflow from an executive: answers with the run id at once, the run's top spawns are its children, run_status follows it for the caller's subtree only", async () => {
  h = await workflowHarness("wf-mcp");
  const { instance: exec } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  const { instance: other } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  const yaml = "workflow: delegated\nvars:\n  goal:\nsteps:\n  - id: lead\n    spawn: manager\n    prompt: ${{ vars.goal }}\n  - wait: all-complete\n";

  const started = await call(h.kernel, "run_workflow", { yaml, vars: { goal: "ship the cart" } }, exec.id);
  const run = started.run as string;
  expect(run).toMatch(/^delegated-\d{8}-\d{6}-[0-9a-f]{4}$/u);
  expect(started.text).toBe(`Started run ${run} (workflow delegated). Follow it with run_status {"run": "${run}"}.`);

  const lead = await eventually(async () => (await h!.api.runs())[0]?.tasks[0]?.instanceId, 10_000, "the manager spawned");
  expect((await h.kernel.get(lead)).parentId).toBe(exec.id);
  expect(await call(h.kernel, "run_status", { run }, exec.id)).toMatchObject({ id: run, state: "running", steps: [{ id: "lead" }, { id: "step-2", state: expect.any(String) }] });
  await expect(call(h.kernel, "run_status", { run }, other.id)).rejects.toThrow(`Run "${run}" was not started by ${other.id} or an instance below it; you may see only those runs.`);

  await completeAs(h.kernel, lead, "cart shipped");
  const done = await eventually(async () => {
    const status = await call(h!.kernel, "run_status", { run }, null);
    return status.state === "succeeded" && status;
  }, 10_000, "the run to succeed");
  expect(done.text).toContain(`task lead[1] ${lead}: completed: cart shipped`);
  // An agent cannot run host commands or reach outside its subtree through a workflow.
  await expect(call(h.kernel, "run_workflow", { yaml: "workflow: sneaky\nsteps:\n  - id: shell\n    run: [sh, -c, id]\n" }, exec.id)).rejects.toThrow(
    `${exec.id} may not start a workflow with run: steps or merge verify commands ("shell"): they run programs in the kernel's process, outside your permission prompts.`,
  );
  const reach = (await call(h.kernel, "run_workflow", { yaml: `workflow: reach\nsteps:\n  - send: ${other.id}\n    text: hi\n` }, exec.id)).run as string;
  const refused = await eventually(async () => {
    const status = await call(h!.kernel, "run_status", { run: reach }, exec.id);
    return status.state === "failed" && status;
  }, 10_000, "the reaching run to fail");
  expect(refused.failure).toEqual({ step: "step-1", reason: `the run was started by ${exec.id}, which may send only to itself and the instances below it, not to ${other.id}` });
  await expect(call(h.kernel, "run_workflow", { yaml, template: "api-service" }, exec.id)).rejects.toThrow("run_workflow takes exactly one of yaml (the workflow's text), template (a template's name), from (a run to start again) or resume (a run to continue), got yaml and template.");
});
