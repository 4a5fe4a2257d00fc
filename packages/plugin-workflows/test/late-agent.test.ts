// An agent added to the config after serve started (issue 14 fix round, trial
// item 1): serve cannot attach to its instances, so only the runner sees their
// turns end. A turn-end run on it finishes; killed -9 and resumed, it finishes
// too, whether a task's turn ended while no runner ran (found idle) or ends
// after the resume (the resuming runner attaches and sees it).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eventually, startReadyProcess } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { parseWorkflow, workflows, type WorkflowsPluginApi } from "../src/index.js";
import { workflowHarness } from "./helpers.js";

const RUNNER = fileURLToPath(new URL("./fixtures/runner.mjs", import.meta.url));

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The harness's config with agent `late`, which its serving kernel (h.kernel) does not define. */
function withLate(harness: NonNullable<typeof h>) {
  return { ...harness.userConfig, agents: { ...harness.userConfig.agents, late: harness.userConfig.agents!.echo! } };
}

const workflow = (tasks: string[]) => `workflow: late
completion: turn-end
steps:
  - id: team
    spawn: specialist
    agent: late
    tasks: [${tasks.map((t) => JSON.stringify(t)).join(", ")}]
  - wait: all-complete
`;

test("a turn-end run on an agent serve does not know finishes (the runner records the turn ends)", async () => {
  h = await workflowHarness("wf-late");
  const runner = await h.startKernel({ watch: "on-demand", config: { agents: withLate(h).agents, plugins: [workflows()] } });
  const result = await runner.plugin<WorkflowsPluginApi>("workflows")!.run({ workflow: parseWorkflow(workflow(["/work 100", "/work 200"]), "late.yaml"), workDir: h.workDir });
  expect(result.state).toBe("succeeded");
  const [run] = await h.api.runs();
  expect(run?.tasks.map((t) => t.via)).toEqual(["turn-end", "turn-end"]);
});

test("killed -9 while its tasks work, then resumed: a turn that ended while no runner ran and one that ends after the resume both complete it", async () => {
  h = await workflowHarness("wf-late-resume");
  const file = path.join(h.dir, "late.yaml");
  await writeFile(file, workflow(["/work 1000", "/work 4000"]));
  const runner = await startReadyProcess(RUNNER, [JSON.stringify(withLate(h)), "start", file, h.workDir]);
  const [{ id }] = (await h.api.runs()) as [{ id: string }];
  const spawned = await eventually(async () => {
    const [run] = await h!.api.runs();
    return run?.steps.team?.state === "succeeded" && run.tasks.every((t) => t.state === "working") && run;
  }, 20_000, "both tasks working");
  await runner.kill();
  const [quick, slow] = spawned.tasks.map((t) => t.instanceId!);
  // Its turn ends while no runner runs, seen by a kernel without the workflows plugin (as `tmux-claude list` of another config would).
  const looker = await h.startKernel({ watch: "on-demand", config: { agents: withLate(h).agents, plugins: [] } });
  await eventually(async () => (await looker.list()).find((i) => i.id === quick)?.status === "idle", 10_000, "the first task's turn to end");
  expect((await looker.list()).find((i) => i.id === slow)?.status).toBe("busy");
  await looker.close();

  const resumer = await h.startKernel({ watch: "on-demand", config: { agents: withLate(h).agents, plugins: [workflows()] } });
  const result = await resumer.plugin<WorkflowsPluginApi>("workflows")!.run({ resume: id });
  expect(result).toMatchObject({ id, state: "succeeded" });
  const [run] = await h.api.runs();
  expect(run?.tasks.map((t) => [t.instanceId, t.state, t.via])).toEqual([
    [quick, "completed", "turn-end"],
    [slow, "completed", "turn-end"],
  ]);
});
