// What an executive does with workflows through the MCP server, as the
// instance itself: connected with its own secret (the token the kernel gave
// its agent process), it lists its runs, runs one in a workDir of its own,
// resumes a failed one and starts one again from an earlier run's inputs;
// another executive sees and touches none of them. The echo agent plays the
// instances; tasks complete through the `complete` tool's handler.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { mcp, type McpApi } from "@tmux-claude/mcp";
import { eventually } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
// mcp's own helpers: an instance's secret as its agent has it, a client with it, and a call's result or refusal.
import { call, httpClient, ok, refused, textOf, tokenOf } from "../../mcp/test/helpers.js";
import { completeAs, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>>;
let exec: string;
let execClient: Client;
let otherClient: Client;

beforeAll(async () => {
  h = await workflowHarness("wf-mcp-runs", { plugins: [mcp({ port: 0 })] });
  const { url } = await h.kernel.plugin<McpApi>("mcp")!.listen();
  exec = (await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  const other = (await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  execClient = await httpClient(url, await tokenOf(h.kernel, exec));
  otherClient = await httpClient(url, await tokenOf(h.kernel, other));
}, 60_000);

afterAll(async () => {
  await execClient?.close().catch(() => undefined);
  await otherClient?.close().catch(() => undefined);
  await h?.close();
});

const YAML = "workflow: delegated\nvars:\n  goal:\nsteps:\n  - id: lead\n    spawn: manager\n    prompt: ${{ vars.goal }}\n  - wait: all-complete\n";

type Listed = { runs: { id: string; state: string; resumable: boolean; caller: string }[]; text: string };

/** A successful call's structured content and its text (a plugin tool's readable text is the answer's text, not a structured field). */
async function answer<T>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T & { text: string }> {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return { ...(result.structuredContent as T), text: textOf(result) };
}

/** The run's state once it is `state` (run_status as the executive). */
const until = (run: string, state: string) =>
  eventually(async () => {
    const status = await ok<{ state: string; tasks: { instanceId?: string; state: string }[] }>(execClient, "run_status", { run });
    return status.state === state && status;
  }, 15_000, `run ${run} to be ${state}`);

const instanceOf = (run: string, state = "working") =>
  eventually(async () => (await h.api.runs()).find((r) => r.id === run)?.tasks.find((t) => t.state === state)?.instanceId, 15_000, `a ${state} task of ${run}`);

test("list_runs, run_workflow with workDir, resume and from, through the MCP server with the executive's own secret", async () => {
  expect((await answer<Listed>(execClient, "list_runs")).text).toBe("No workflow runs started by you or below you.");

  // workDir: relative to the executive's, confined to it as a spawn's is (the kernel's rule, before anything runs).
  await mkdir(path.join(h.workDir, "cart"));
  expect(await refused(execClient, "run_workflow", { yaml: YAML, vars: { goal: "x" }, workDir: "../elsewhere" })).toContain(`workDir "${path.resolve(h.workDir, "../elsewhere")}" does not exist`);
  await mkdir(path.join(h.workDir, "..", "outside"), { recursive: true });
  expect(await refused(execClient, "run_workflow", { yaml: YAML, vars: { goal: "x" }, workDir: "../outside" })).toContain(`A manager must work inside its parent's workDir: "${path.resolve(h.workDir, "../outside")}" is outside "${h.workDir}" of "${exec}"`);
  expect((await ok<Listed>(execClient, "list_runs")).runs).toEqual([]);
  // A merge's verify runs a program in the kernel's process, as a run: step does: not for an agent.
  expect(await refused(execClient, "run_workflow", { yaml: `${YAML}  - id: land\n    merge: { into: main, verify: [sh, -c, id] }\n` })).toContain(
    `${exec} may not start a workflow with run: steps or merge verify commands ("land")`,
  );

  const started = await ok<{ run: string; text: string }>(execClient, "run_workflow", { yaml: YAML, vars: { goal: "ship the cart" }, workDir: "cart" });
  const run = started.run;
  const lead = await instanceOf(run);
  expect(await h.kernel.get(lead)).toMatchObject({ parentId: exec, workDir: path.join(h.workDir, "cart") });
  // Running here (in serve's process): listed as running, and not resumed a second time beside its runner.
  expect((await ok<Listed>(execClient, "list_runs")).runs).toEqual([expect.objectContaining({ id: run, state: "running", resumable: false })]);
  expect(await refused(execClient, "run_workflow", { resume: run })).toContain(`Run "${run}" is still being run by this process (${process.pid}) already.`);

  // It fails (its task says so): the run ends failed, its manager terminated; list_runs offers the resume.
  await completeAs(h.kernel, lead, "blocked on the payment API", "failed");
  await until(run, "failed");
  const listed = await answer<Listed>(execClient, "list_runs");
  expect(listed.runs).toEqual([expect.objectContaining({ id: run, state: "failed", resumable: true, caller: exec })]);
  expect(listed.text).toContain(`${run}  delegated  failed (step "lead": `);
  expect(listed.text).toContain(`resume it: run_workflow {"resume": "${run}"}`);
  expect((await ok<Listed>(otherClient, "list_runs")).runs).toEqual([]);

  // Resume: only the caller's subtree, with the run's own inputs; the failed task gets a new instance.
  expect(await refused(otherClient, "run_workflow", { resume: run })).toContain(`Run "${run}" was not started by`);
  expect(await refused(execClient, "run_workflow", { resume: run, vars: { goal: "y" } })).toContain(`resume continues run "${run}" with its own variables and workDir; leave out vars`);
  expect(await refused(execClient, "run_workflow", { resume: run, yaml: YAML })).toContain("run_workflow takes exactly one of yaml (the workflow's text), template (a template's name), from (a run to start again) or resume (a run to continue), got yaml and resume.");
  expect((await h.api.runs()).find((r) => r.id === run)?.keep).toBe(false);
  // keep, as the CLI's --resume --keep: from now on the run leaves its instances when it fails.
  const resumed = await answer<{ run: string }>(execClient, "run_workflow", { resume: run, keep: true });
  expect(resumed.text).toBe(`Resumed run ${run} (workflow delegated). Follow it with run_status {"run": "${run}"}.`);
  await eventually(async () => (await h.api.runs()).find((r) => r.id === run)?.keep === true, 5_000, "the resumed run keeps its instances");
  const again = await eventually(async () => {
    const id = await instanceOf(run);
    return id !== lead && id;
  }, 15_000, "a new manager for the failed task");
  expect(await h.kernel.get(again)).toMatchObject({ parentId: exec, workDir: path.join(h.workDir, "cart") });
  await completeAs(h.kernel, again, "cart shipped");
  await until(run, "succeeded");

  // from: a new run from the journal's inputs, vars overriding; not from another executive's view.
  expect(await refused(otherClient, "run_workflow", { from: run })).toContain(`Run "${run}" was not started by`);
  const copy = (await ok<{ run: string }>(execClient, "run_workflow", { from: run, vars: { goal: "ship it again" } })).run;
  expect(copy).not.toBe(run);
  const third = await instanceOf(copy);
  expect((await h.api.runs()).find((r) => r.id === copy)).toMatchObject({ vars: { goal: "ship it again" }, caller: exec, workDir: h.workDir });
  await completeAs(h.kernel, third, "shipped again");
  await until(copy, "succeeded");
  expect((await ok<Listed>(execClient, "list_runs")).runs.map((r) => [r.id, r.state, r.resumable])).toEqual([
    [copy, "succeeded", false],
    [run, "succeeded", false],
  ]);
}, 120_000);
