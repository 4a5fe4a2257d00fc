// Only a run's own spawn can tie an instance to one of its tasks: the
// reviewer's hijack (an unrelated manager spawning a child with
// plugins.workflows = { run, step, index } and completing the task with a
// forged `complete`) is refused, as is a guessed or replayed token. (The MCP
// spawn tool refuses the option at all: packages/mcp/test/reserved-options.test.ts.)
import type { Plugin } from "@tmux-claude/core";
import { afterEach, expect, test } from "vitest";
import { completeAs, startRecorded, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const VICTIM = "workflow: victim\nsteps:\n  - id: impl\n    spawn: specialist\n    prompt: real work\n  - wait: all-complete\n";

test("a spawn outside the run cannot take its task: no token, another caller, a guessed or a replayed token; the real instance completes it", async () => {
  // What the runner's own spawn passed (a token that leaked, say through a log).
  const seen: unknown[] = [];
  const observer: Plugin = { name: "spawn-observer", apply: (ctx) => void ctx.hooks.beforeSpawn.tapPromise(async (plan) => (plan.plugins.workflows && seen.push(plan.plugins.workflows), plan)) };
  h = await workflowHarness("wf-hijack", { plugins: [observer] });
  const run = startRecorded(h.api, VICTIM, { workDir: h.workDir });
  const victim = await run.next("spawned");
  const { instance: mgr } = await h.kernel.spawn({ role: "manager", workDir: h.workDir, prompt: "hi", parentId: null }, null);
  const before = (await h.kernel.list()).length;
  const forge = (option: Record<string, unknown>, caller: string | null) =>
    h!.kernel.spawn({ role: "specialist", workDir: h!.workDir, prompt: "x", parentId: caller, plugins: { workflows: option } }, caller);
  const task = { run: victim.run, step: "impl", index: 0 };
  const taking = `may not take task 1 of step "impl" in run ${victim.run}`;

  // The reviewer's scenario: the manager's own child, without a token.
  await expect(forge(task, mgr.id)).rejects.toThrow("plugins.workflows of a spawn is the workflow engine's own ({ run, step, index, token })");
  // A guessed token from the manager: the run was not started by it.
  await expect(forge({ ...task, token: "guess" }, mgr.id)).rejects.toThrow(new RegExp(`${taking}: the spawn was asked by ${mgr.id.replace(/\./gu, "\\.")}, and the run by the root`, "u"));
  // From the run's own caller (the root), a guessed token, and the runner's real one replayed after its spawn used it.
  await expect(forge({ ...task, token: "guess" }, null)).rejects.toThrow(`${taking}: the token is not the one its runner gave this spawn`);
  expect(seen).toHaveLength(1);
  await expect(forge(seen[0] as Record<string, unknown>, null)).rejects.toThrow(`${taking}: the token is not the one its runner gave this spawn`);
  // Refused spawns leave nothing, and the task is still the victim's.
  expect((await h.kernel.list()).length).toBe(before);
  expect((await h.api.runs())[0]!.tasks[0]).toMatchObject({ instanceId: victim.instanceId, state: "working" });
  expect((await h.api.runs())[0]!.tasks[0]!.token).toBeUndefined();
  await expect(completeAs(h.kernel, mgr.id, "forged")).rejects.toThrow(/is not working on a task of a running workflow/u);

  await completeAs(h.kernel, victim.instanceId, "real");
  expect(await run.result).toMatchObject({ state: "succeeded" });
  expect((await h.api.runs())[0]!.tasks[0]).toMatchObject({ instanceId: victim.instanceId, state: "completed", summary: "real" });
});
