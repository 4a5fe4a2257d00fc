import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { analyzeJournal, formatReplay } from "../src/replay/index.js";
import type { JournalEvent } from "../src/types.js";

const journal = (name: string): JournalEvent[] =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as JournalEvent);

describe("replay", () => {
  test("a finished run of the seed: per-step durations, tokens per step from the last usage of each instance, critical path", () => {
    const report = analyzeJournal(journal("seed-run.jsonl"));
    expect(report).toMatchObject({ run: "feature-development-20261205-070000-a1b2", workflow: "feature-development", state: "succeeded", resumes: 0 });
    expect(report.steps.map((step) => [step.id, step.state, step.durationMs, step.instances.length])).toEqual([
      ["step-1", "succeeded", 1831, 1],
      ["step-2", "succeeded", 2746, 3],
      // The step-finished events' own durations, as the timeline says them ("step succeeded after 17s").
      ["step-3", "succeeded", 17331, 0],
      ["step-4", "succeeded", 2101, 0],
    ]);
    expect(report.steps[1]!.tokens).toEqual({ inputTokens: 6000, outputTokens: 750, costUsd: expect.closeTo(0.03, 6) });
    expect(report.tokens).toMatchObject({ inputTokens: 7200, outputTokens: 1050 });
    expect(report.criticalPath.steps).toEqual(["step-1", "step-2", "step-3", "step-4"]);
    expect(report.durationMs).toBe(24008);

    const text = formatReplay(report);
    expect(text).toContain("Run feature-development-20261205-070000-a1b2 (feature-development, feature.yaml): succeeded after 24s");
    expect(text).toMatch(/\+1\.8s {2}mgr-1 +spawned as manager for step-1 task 1, under the top level/u);
    expect(text).toContain('completed step-2 task 3 (ok, via the complete tool): "Committed Build login UI"');
    expect(text).toMatch(/step-2 +spawn +succeeded +\+1\.8s +2\.7s +3 +6\.0k in \/ 750 out, \$0\.03/u);
    expect(text).toContain("Critical path (24s): step-1 (1.8s) -> step-2 (2.7s) -> step-3 (17s) -> step-4 (2.1s)");
    expect(text).toContain("Tokens: 7.2k in / 1.1k out, $0.04");
  });

  test("a failed run that was resumed: where it failed, the restarted step, skipped dependents, the path through the failure", () => {
    const report = analyzeJournal(journal("failed-resumed-run.jsonl"));
    expect(report).toMatchObject({ state: "failed", resumes: 1, failure: { step: "tests", reason: "npm test exited with 1: 2 tests failed" } });
    expect(report.steps.map((step) => [step.id, step.state, step.restarted])).toEqual([
      ["build", "succeeded", true],
      ["lint", "succeeded", false],
      ["tests", "failed", false],
      ["report", "skipped", false],
    ]);
    // build ended after lint, so it (not lint) decided when tests could start.
    expect(report.criticalPath.steps).toEqual(["build", "tests"]);
    // No cost known for spec-1: the total says nothing rather than a wrong sum.
    expect(report.tokens).toEqual({ inputTokens: 2000, outputTokens: 500 });
    const text = formatReplay(report);
    expect(text).toContain('Failed at step "tests": npm test exited with 1: 2 tests failed');
    expect(text).toContain(", resumed 1x");
    expect(text).toMatch(/build +spawn +succeeded \(resumed\)/u);
    expect(text).toMatch(/tests +ran npm test: exit 1 after 3\.0s/u);
    expect(text).toMatch(/run +resumed checked \(4 steps\)/u);
  });

  test("a journal without an end: the run is still going or its runner died", () => {
    const events = journal("seed-run.jsonl").slice(0, 12);
    const report = analyzeJournal(events);
    expect(report.state).toBe("running");
    expect(report.steps.map((step) => step.state)).toEqual(["succeeded", "running", "pending", "pending"]);
    expect(formatReplay(report)).toContain("running no end recorded (still running, or its runner died: tmux-claude run --resume feature-development-20261205-070000-a1b2)");
  });
});
