// Two `--resume` of one run at once: exactly one takes it over, the other is
// told who runs it; and `runs` asks the engine's own "is the runner alive".
import { eventually } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { parseWorkflow, runnerAlive, type JournalEvent, type RunResult } from "../src/index.js";
import { ofType, workflowHarness } from "./helpers.js";
import { ScriptedStore } from "./scripted-store.js";

let h: Awaited<ReturnType<typeof workflowHarness>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A run of one long command, interrupted (Ctrl-C) while the command runs: resumable. */
async function interruptedRun(): Promise<RunResult> {
  const stop = new AbortController();
  const events: JournalEvent[] = [];
  const workflow = parseWorkflow('workflow: long\nsteps:\n  - id: slow\n    run: [node, -e, "setTimeout(() => {}, 60000)"]\n', "long.yaml");
  const first = h!.api.run({ workflow, workDir: h!.workDir, signal: stop.signal, onEvent: (e) => events.push(e) });
  await eventually(() => ofType(events, "step-started").length > 0, 10_000, "the command to start");
  stop.abort("SIGINT");
  const result = await first;
  expect(result.state).toBe("interrupted");
  return result;
}

test("two resumes at once in one process: one takes the run over, the other is refused naming the runner", async () => {
  h = await workflowHarness("wf-resume-race");
  const { id } = await interruptedRun();
  const stops = [new AbortController(), new AbortController()];
  const attempts = await Promise.allSettled(stops.map((stop) => h!.api.start({ resume: id, signal: stop.signal })));
  const won = attempts.filter((a) => a.status === "fulfilled");
  const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(1);
  expect(String(lost[0]!.reason.message)).toBe(`Run "${id}" is still being run by this process (${process.pid}) already. Wait for it to end, or stop that process and resume again.`);
  // While the winner runs, the run's runner is alive (runs shows it running) and a third resume is refused too.
  const [stored] = await h.api.runs();
  expect(stored!.state).toBe("running");
  expect(await runnerAlive(stored!)).toBe(true);
  await expect(h.api.start({ resume: id })).rejects.toThrow(/is still being run by this process/u);
  for (const stop of stops) stop.abort("SIGINT");
  expect(await (won[0] as PromiseFulfilledResult<{ done: Promise<RunResult> }>).value.done).toMatchObject({ state: "interrupted" });
  expect(await runnerAlive((await h.api.runs())[0]!)).toBe(false);
});

test("a resume that finds the run taken over by another process between its check and its update is refused, and changes nothing", async () => {
  const store = new ScriptedStore();
  h = await workflowHarness("wf-resume-race2", { plugins: [store.plugin()] });
  const { id } = await interruptedRun();
  const other = { node: "elsewhere", pid: 4242, host: "other-host", start: "1" };
  // Another process's resume lands just before this one's update.
  store.beforeNextRunWrite = (s, key) => (key === id ? s.changeRun(key, (run) => ({ ...run, state: "running", runner: other })) : Promise.resolve());
  await expect(h.api.start({ resume: id })).rejects.toThrow(
    `Run "${id}" is still being run by process 4242 on host other-host (it cannot be checked from here). Wait for it to end, or stop that process and resume again.`,
  );
  const [stored] = await h.api.runs();
  expect(stored).toMatchObject({ state: "running", runner: other });
});
