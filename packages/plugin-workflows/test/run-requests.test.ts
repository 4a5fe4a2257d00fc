// What a run or a plan refuses, and how: the dry run's plugin check, a long
// workflow name, a resume whose caller is gone.
import { eventually } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { parseWorkflow, runId, type JournalEvent } from "../src/index.js";
import { ofType, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("api.plan (the dry run) refuses a merge step without the git plugin, as a run does", async () => {
  h = await workflowHarness("wf-plan-git");
  const workflow = parseWorkflow("workflow: m\nsteps:\n  - spawn: manager\n  - spawn: specialist\n  - wait: all-complete\n  - merge: auto-resolve-conflicts\n", "m.yaml");
  await expect(h.api.plan(workflow)).rejects.toThrow("m.yaml:6:12: steps[3].merge: merge steps need the git plugin");
  await expect(h.api.run({ workflow, workDir: h.workDir })).rejects.toThrow("m.yaml:6:12: steps[3].merge: merge steps need the git plugin");
});

test("a workflow name of 200 characters makes a run id the store takes (cut, with a hash of the name)", async () => {
  const long = `a${"-very-long-name".repeat(13)}z`;
  const id = runId(long, new Date("2026-12-05T07:00:00Z"));
  expect(id.length).toBeLessThanOrEqual(100);
  expect(id).toMatch(/^a-very-long-name-[a-z0-9-]+-[0-9a-f]{8}-20261205-070000-[0-9a-f]{4}$/u);
  // Two long names alike in their first characters get different ids.
  expect(runId(`${long}x`).split("-2026")[0]).not.toBe(runId(long).split("-2026")[0]);
  expect(runId("feature-development", new Date("2026-12-05T07:00:00Z"))).toMatch(/^feature-development-20261205-070000-[0-9a-f]{4}$/u);

  h = await workflowHarness("wf-long-name");
  const result = await h.api.run({ workflow: parseWorkflow(`workflow: ${long}\nsteps:\n  - run: [node, -e, ""]\n`, "long.yaml"), workDir: h.workDir });
  expect(result).toMatchObject({ state: "succeeded" });
  expect(result.id.length).toBeLessThanOrEqual(100);
});

test("resuming a run whose caller (the instance that called run_workflow) is gone says so and what to do", async () => {
  h = await workflowHarness("wf-caller-gone");
  const { instance: exec } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  const stop = new AbortController();
  const events: JournalEvent[] = [];
  const workflow = parseWorkflow("workflow: delegated\nsteps:\n  - id: lead\n    spawn: manager\n    prompt: go\n  - wait: all-complete\n", "d.yaml");
  const first = h.api.run({ workflow, caller: exec.id, workDir: h.workDir, signal: stop.signal, onEvent: (e) => events.push(e) });
  await eventually(() => ofType(events, "step-started").some((e) => e.step === "step-2"), 10_000, "the wait to start");
  stop.abort("SIGINT");
  const interrupted = await first;
  await h.kernel.terminate(exec.id, { cascade: true });
  await expect(h.api.run({ resume: interrupted.id })).rejects.toThrow(
    `Run "${interrupted.id}" was started by instance ${exec.id} (through the run_workflow tool), which is gone: the run's top-level instances were its children and it alone may see the run. Start the run again from its inputs with \`tmux-claude run --from ${interrupted.id}\` (as the root), or from a live instance with run_workflow.`,
  );
  // Refused before anything changed.
  expect((await h.api.runs())[0]).toMatchObject({ state: "interrupted" });
});
