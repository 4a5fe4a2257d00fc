import { isTmuxClaudeError } from "@tmux-claude/core";
import { readEchoLog } from "@tmux-claude/testkit";
import { afterEach, describe, expect, test } from "vitest";
import { JournalReader } from "../src/index.js";
import { completeAs, ofType, startRecorded, workflowHarness } from "./helpers.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("workflow engine (echo agent)", () => {
  test("needs order, parallel tasks, outputs resolved at step start, completion through the complete tool, journal", async () => {
    h = await workflowHarness("wf-order");
    const run = startRecorded(
      h.api,
      `workflow: order
vars:
  goal: auth
steps:
  - id: design
    spawn: manager
    prompt: "design \${{ vars.goal }}"
  - id: build
    spawn: specialist
    parallel: true
    tasks: ["part a", "part b"]
  - id: lint
    needs: design
    run: [node, -e, "process.stdout.write('lint ok')"]
  - id: waited
    needs: build
    wait: [build]
  - id: report
    needs: [waited, lint]
    run: [node, -e, "process.stdout.write(process.argv[1])", "\${{ steps.build.reply }} / \${{ steps.lint.stdout }}"]
  - id: tell
    send: design
    text: "result: \${{ steps.report.stdout }}"
`,
      { workDir: h.workDir },
    );
    const a = await run.next("spawned", (e) => e.step === "build" && e.index === 0);
    const b = await run.next("spawned", (e) => e.step === "build" && e.index === 1);
    const design = await run.next("spawned", (e) => e.step === "design");
    // The parent rule: the manager's step is the specialists' parent.
    expect(a.parentId).toBe(design.instanceId);
    await completeAs(h.kernel, b.instanceId, "did b");
    await completeAs(h.kernel, a.instanceId, "did a");
    const result = await run.result;
    expect(result).toMatchObject({ state: "succeeded" });

    const pos = (type: "step-started" | "step-finished", step: string) => run.events.findIndex((e) => e.type === type && e.step === step);
    expect(ofType(run.events, "step-started")[0]?.step).toBe("design");
    // build and lint both needed only design: both started before either finished.
    expect(Math.max(pos("step-started", "build"), pos("step-started", "lint"))).toBeLessThan(Math.min(pos("step-finished", "build"), pos("step-finished", "lint")));
    expect(pos("step-started", "report")).toBeGreaterThan(Math.max(pos("step-finished", "waited"), pos("step-finished", "lint")));

    const messages = await readEchoLog(h.log);
    expect(messages.map((m) => m.text)).toContainEqual(expect.stringContaining("design auth"));
    expect(messages.at(-1)?.text).toBe("result: [1] did a\n\n[2] did b / lint ok");
    // The echo agent (adapter command) calls no MCP tools: no task is told to (a shell would run the sentence); Claude Code is (trial2-surface.test.ts).
    expect(messages.filter((m) => m.text.includes('call the MCP tool "complete"'))).toHaveLength(0);

    const journal = await new JournalReader(result.journal).events();
    expect(journal.map((e) => e.type)).toEqual(run.events.map((e) => e.type));
    expect(ofType(journal, "task-completed").map((e) => [e.instanceId, e.summary, e.via])).toEqual([
      [b.instanceId, "did b", "tool"],
      [a.instanceId, "did a", "tool"],
    ]);
    expect(ofType(journal, "message").at(-1)).toMatchObject({ step: "tell", instanceId: design.instanceId, receipt: "delivered" });
    expect(ofType(journal, "command").map((e) => [e.step, e.exitCode])).toEqual([["lint", 0], ["report", 0]]);
    expect(journal.at(-1)).toMatchObject({ type: "run-finished", state: "succeeded" });
    const [stored] = await h.api.runs();
    expect(stored).toMatchObject({ id: result.id, state: "succeeded", steps: { report: { state: "succeeded", output: { exitCode: 0 } } } });
  });

  test("a failing run: step fails the run naming the step and its output; dependents never start; its instances are terminated", async () => {
    h = await workflowHarness("wf-runfail");
    const run = startRecorded(
      h.api,
      `workflow: failing
steps:
  - id: worker
    spawn: specialist
    prompt: hello
  - id: tests
    run: [node, -e, "console.log('3 passed'); console.error('2 tests failed'); process.exit(1)"]
  - id: after
    send: worker
    text: never
`,
      { workDir: h.workDir },
    );
    const result = await run.result;
    expect(result.state).toBe("failed");
    expect(result.failure?.step).toBe("tests");
    expect(result.failure?.reason).toMatch(/exited with code 1:\n2 tests failed/u);
    expect(ofType(run.events, "step-started").map((e) => e.step)).toEqual(["worker", "tests"]);
    expect(ofType(run.events, "step-finished").find((e) => e.step === "after")).toMatchObject({ state: "skipped", reason: 'not started: step "tests" failed' });
    const [stored] = await h.api.runs();
    expect(stored?.steps.tests).toMatchObject({ state: "failed", output: { exitCode: 1, stdout: "3 passed\n", stderr: "2 tests failed\n" } });
    expect(await h.kernel.list()).toEqual([]);
  });

  test("a task past its timeout fails its step with the reason; the wait stops, later steps are skipped", async () => {
    h = await workflowHarness("wf-timeout");
    const run = startRecorded(
      h.api,
      `workflow: slow
steps:
  - id: worker
    spawn: specialist
    prompt: take your time
    timeout: 1s
  - wait: all-complete
  - id: after
    run: [node, -e, "0"]
`,
      { workDir: h.workDir },
    );
    const result = await run.result;
    expect(result.failure).toEqual({ step: "worker", reason: expect.stringMatching(/^task 1 on \S+ timed out after 1\.0s without completing$/u) });
    expect(ofType(run.events, "step-finished").map((e) => [e.step, e.state])).toEqual([
      ["worker", "succeeded"],
      ["worker", "failed"],
      ["step-2", "failed"],
      ["after", "skipped"],
    ]);
    expect(ofType(run.events, "task-failed")).toHaveLength(1);
    expect(await h.kernel.list()).toEqual([]);
  });

  test("an instance that exits fails its task and the run with the reason; --keep leaves the others running", async () => {
    h = await workflowHarness("wf-exit");
    const run = startRecorded(
      h.api,
      `workflow: exits
steps:
  - id: steady
    spawn: specialist
    prompt: stay
  - id: quitter
    spawn: specialist
    needs: []
    prompt: work
  - wait: all-complete
`,
      { workDir: h.workDir, keep: true },
    );
    // The agent's process ends on its own (a crash, an exit): its pane closes.
    const quitter = await h.kernel.get((await run.next("spawned", (e) => e.step === "quitter")).instanceId);
    process.kill(quitter.tmux.pid, "SIGKILL");
    const result = await run.result;
    expect(result.failure?.step).toBe("quitter");
    expect(result.failure?.reason).toMatch(/^task 1 on \S+ exited: /u);
    const left = await h.kernel.list();
    expect(left.map((i) => [i.id, i.status === "exited"])).toContainEqual([(await run.next("spawned", (e) => e.step === "steady")).instanceId, false]);
  });

  test("turn-end completion: a task completes when its turn ends with nothing queued", async () => {
    h = await workflowHarness("wf-turnend");
    const run = startRecorded(
      h.api,
      `workflow: turns
completion: turn-end
steps:
  - id: worker
    spawn: specialist
    prompt: /work 300
  - wait: all-complete
`,
      { workDir: h.workDir },
    );
    const result = await run.result;
    expect(result.state).toBe("succeeded");
    expect(ofType(run.events, "task-completed")).toMatchObject([{ step: "worker", via: "turn-end", status: "ok" }]);
  });

  test("parallel: false starts each task once the one before completed; any-complete; a task that reports failure through complete fails the run with its summary", async () => {
    h = await workflowHarness("wf-sequence");
    const run = startRecorded(
      h.api,
      `workflow: sequence
steps:
  - id: seq
    spawn: specialist
    parallel: false
    tasks: [one, two]
  - id: either
    wait: any-complete
  - id: doomed
    spawn: specialist
    parent: caller
    prompt: try
  - id: never
    wait: [doomed]
`,
      { workDir: h.workDir },
    );
    const one = await run.next("spawned", (e) => e.step === "seq" && e.index === 0);
    await completeAs(h.kernel, one.instanceId, "first");
    const two = await run.next("spawned", (e) => e.step === "seq" && e.index === 1);
    const order = (e: { type: string; instanceId?: string }) => run.events.findIndex((x) => x.type === e.type && (x as { instanceId?: string }).instanceId === e.instanceId);
    expect(order({ type: "task-completed", instanceId: one.instanceId })).toBeLessThan(order(two));
    await completeAs(h.kernel, two.instanceId, "second");
    const doomed = await run.next("spawned", (e) => e.step === "doomed");
    // The wait starts before the failure (a failure noticed earlier skips it instead).
    await run.next("step-started", (e) => e.step === "never");
    await completeAs(h.kernel, doomed.instanceId, "the API key is missing", "failed");
    const result = await run.result;
    expect(result.failure).toEqual({ step: "doomed", reason: `task 1 on ${doomed.instanceId} reported failure through complete: the API key is missing` });
    // The wait had started: it is stopped, not skipped.
    expect(ofType(run.events, "step-finished").filter((e) => e.step !== "doomed").map((e) => [e.step, e.state, e.reason])).toEqual([
      ["seq", "succeeded", undefined],
      ["either", "succeeded", undefined],
      ["never", "failed", 'stopped: step "doomed" failed'],
    ]);
    expect(ofType(run.events, "task-failed")).toMatchObject([{ step: "doomed", instanceId: doomed.instanceId }]);
  });

  test("bad requests are refused before anything is spawned: a merge step without the git plugin, a missing variable", async () => {
    h = await workflowHarness("wf-refuse");
    const refused = (yaml: string, vars: Record<string, string> = {}) => startRecorded(h!.api, yaml, { workDir: h!.workDir, vars }).result.then(() => undefined, (error: unknown) => error);
    const merge = await refused("workflow: m\nsteps:\n  - spawn: manager\n  - spawn: specialist\n  - wait: all-complete\n  - merge: auto-resolve-conflicts\n");
    expect(isTmuxClaudeError(merge) && merge.code).toBe("TC_WORKFLOW_REJECTED");
    expect((merge as Error).message).toBe(
      'This config cannot run workflow test.yaml (1 problem):\n  test.yaml:6:12: steps[3].merge: merge steps need the git plugin (each instance on its own branch), and the config has none; add git() to plugins in tmuxclaude.config.ts (import { git } from "@tmux-claude/plugin-git"), or drop the merge step',
    );
    const vars = await refused("workflow: v\nvars:\n  goal:\nsteps:\n  - spawn: manager\n    prompt: ${{ vars.goal }}\n");
    expect((vars as Error).message).toMatch(/variable "goal" has no default and no value was given; pass --var goal=/u);
    expect(await h.kernel.list()).toEqual([]);
    expect(await h.api.runs()).toEqual([]);
  });

  test("complete from an instance that has no task is refused, naming it", async () => {
    h = await workflowHarness("wf-notask");
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: h.workDir });
    await expect(completeAs(h.kernel, instance.id, "done")).rejects.toThrow(`${instance.id} is not working on a task of a running workflow, so there is nothing to complete.`);
  });
});
