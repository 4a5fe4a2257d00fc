// The live list and the replay read a journal through one fold, so they
// agree on every step: its state, instances, times and tokens, also across
// a resume that starts a failed step again.
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { RunModel } from "../src/progress/index.js";
import { analyzeJournal } from "../src/replay/index.js";
import type { JournalEvent } from "../src/types.js";

const journal = (name: string): JournalEvent[] =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JournalEvent);

/** Each step as the live list shows it after `events`, and as the replay reports it. */
function both(events: readonly JournalEvent[]) {
  const model = new RunModel();
  for (const event of events) model.apply(event);
  const report = analyzeJournal(events);
  const live = model.rows.map((row) => ({ id: row.id, state: row.state, instances: row.spawned, startedAt: row.startedAt, endedAt: row.endedAt, tokens: model.tokens(row.id) }));
  const replayed = report.steps.map((step) => ({
    id: step.id,
    state: step.state,
    instances: step.instances.length,
    startedAt: step.startedAt === undefined ? undefined : Date.parse(step.startedAt),
    endedAt: step.endedAt === undefined ? undefined : Date.parse(step.endedAt),
    tokens: step.tokens.inputTokens + step.tokens.outputTokens,
  }));
  return { live, replayed, model, report };
}

test("the live list and the replay agree on every step of a finished run and of a failed run that was resumed", () => {
  for (const name of ["seed-run.jsonl", "failed-resumed-run.jsonl"]) {
    const { live, replayed, model, report } = both(journal(name));
    expect(live).toEqual(replayed);
    expect(model.tokens()).toBe(report.tokens.inputTokens + report.tokens.outputTokens);
  }
});

test("a step a resume started again is running again in both, not failed at its old end", () => {
  const [first] = journal("failed-resumed-run.jsonl");
  const at = (second: number) => ({ at: `2026-12-05T08:00:${String(second).padStart(2, "0")}.000Z`, run: first!.run });
  // It failed, the run with it; resumed, the step started again and runs.
  const events: JournalEvent[] = [
    first!,
    { ...at(1), type: "step-started", step: "build", kind: "spawn" },
    { ...at(2), type: "step-finished", step: "build", state: "failed", reason: "task 1 failed", durationMs: 1000 },
    { ...at(3), type: "run-finished", state: "failed", failure: { step: "build", reason: "task 1 failed" }, durationMs: 3000 },
    { ...(first as Extract<JournalEvent, { type: "run-started" }>), ...at(10), resumed: true },
    { ...at(11), type: "step-started", step: "build", kind: "spawn" },
  ];
  const { live, replayed, report } = both(events);
  expect(report.state).toBe("running");
  // Its time is its new attempt's (the clock does not count the failed one, and does not jump back when this one finishes).
  expect(replayed.find((s) => s.id === "build")).toMatchObject({ state: "running", startedAt: Date.parse(at(11).at), endedAt: undefined });
  expect(live).toEqual(replayed);
});
