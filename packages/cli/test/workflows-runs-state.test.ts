// `tmux-claude runs` shows a run still marked running as stopped once its
// runner is gone, by the engine's own check (pid and start time), so a
// reused pid does not keep a dead run "running".
import os from "node:os";
import { expect, test } from "vitest";
import type { PersistedRun } from "@tmux-claude/plugin-workflows";
import { formatRuns, stoppedRuns } from "../src/commands/workflows.js";

const run = (id: string, runner: PersistedRun["runner"]): PersistedRun => ({
  id, workflow: { name: "w", vars: {}, completion: "tool", steps: [], source: "w.yaml" }, vars: {}, state: "running", startedAt: new Date().toISOString(),
  runner, caller: null, keep: false, workDir: "/tmp", steps: {}, tasks: [], journal: `/tmp/${id}.jsonl`,
});

test("a run whose runner's pid now belongs to another process (start time differs) is stopped; another host's is assumed running", async () => {
  const host = os.hostname();
  // The test's parent process lives, but started at another time than this runner did: the pid was reused.
  const reused = run("reused", { node: "local", pid: process.ppid, host, start: "1" });
  const remote = run("remote", { node: "n2", pid: process.ppid, host: `${host}-elsewhere`, start: "1" });
  const stopped = await stoppedRuns([reused, remote]);
  expect([...stopped]).toEqual(["reused"]);
  const text = formatRuns([reused, remote], Date.now(), stopped);
  expect(text.split("\n").find((line) => line.startsWith("reused"))).toContain("stopped (resume it)");
  expect(text.split("\n").find((line) => line.startsWith("remote"))).toContain("running");
});
