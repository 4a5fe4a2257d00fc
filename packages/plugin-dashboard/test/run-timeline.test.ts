// The page's fold of a journal (client/run-timeline.ts, pure) over the
// workflows plugin's own fixture of a run that was interrupted, resumed and
// then failed: what the playback shows at each point.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runAt } from "../client/run-timeline.js";
import type { RunEventView } from "../src/protocol.js";

const FIXTURE = new URL("../../plugin-workflows/test/fixtures/failed-resumed-run.jsonl", import.meta.url);
const events = readFileSync(FIXTURE, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as RunEventView);
const index = (type: string, step?: string, from = 0) => events.findIndex((e, i) => i >= from && e.type === type && (step === undefined || e.step === step));
const states = (count: number) => Object.fromEntries(runAt(events, count).steps.map((s) => [s.id, s.state]));

describe("runAt (the Runs view's playback)", () => {
  it("before any event every step of the workflow is pending; the steps come in the workflow's order", () => {
    const known = runAt(events, events.length).steps.map((s) => ({ id: s.id, kind: s.kind }));
    expect(known.map((s) => s.id)).toEqual(["build", "lint", "tests", "report"]);
    expect(runAt(events, 0, known).steps.map((s) => s.state)).toEqual(["pending", "pending", "pending", "pending"]);
  });

  it("moves through the steps as the events come; a resumed step's bar starts at its last attempt, as in replay; the interruption is cleared", () => {
    const resumed = index("run-started", undefined, 1);
    expect(states(index("step-finished", "lint") + 1)).toMatchObject({ build: "running", lint: "succeeded", tests: "pending" });
    const beforeResume = runAt(events, resumed);
    const afterRestart = runAt(events, index("step-started", "build", resumed) + 1);
    expect(beforeResume.steps[0]!.start).toBe(Date.parse(events[index("step-started", "build")]!.at));
    expect(afterRestart.steps[0]!.start).toBe(Date.parse(events[index("step-started", "build", resumed)]!.at));
    expect(afterRestart.steps[0]!.start).not.toBe(beforeResume.steps[0]!.start);
    expect(afterRestart.finished).toBeUndefined();
    expect(afterRestart.steps[0]!.tasks.get(0)).toMatchObject({ instanceId: "spec-1", role: "specialist", state: "spawned" });
  });

  it("at the end: the failed step with its reason, the skipped one, the task's summary and the run's failure", () => {
    const end = runAt(events, events.length);
    expect(Object.fromEntries(end.steps.map((s) => [s.id, s.state]))).toEqual({ build: "succeeded", lint: "succeeded", tests: "failed", report: "skipped" });
    expect(end.steps.find((s) => s.id === "tests")!.reason).toBe("npm test exited with 1: 2 tests failed");
    expect(end.steps[0]!.tasks.get(0)).toMatchObject({ state: "completed", text: "Built", tokens: 2500 });
    expect(end.finished).toEqual({ state: "failed", failure: { step: "tests", reason: "npm test exited with 1: 2 tests failed" } });
  });
});
