// A `run:` command outlives a runner killed -9 (its own process group, which
// nothing can end when the runner dies that way): `--resume` ends it before
// running the step again, so two copies never run at once.
import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { eventually, startReadyProcess } from "@tmux-claude/testkit";
import { afterEach, expect, test } from "vitest";
import { workflowHarness } from "./helpers.js";

const RUNNER = fileURLToPath(new URL("./fixtures/runner.mjs", import.meta.url));
const EXIT_RUNNER = fileURLToPath(new URL("./fixtures/exit-runner.mjs", import.meta.url));
// Writes <dir>/<pid> with the copies of itself still running when it started; the first copy runs long, later ones end at once.
const COMMAND = `
const fs = require("node:fs"), path = require("node:path");
const dir = process.argv[1];
const live = (pid) => { try { return !/^\\S+ \\(.*\\) Z/u.test(fs.readFileSync("/proc/" + pid + "/stat", "utf8")); } catch { return false; } };
const before = fs.readdirSync(dir);
fs.writeFileSync(path.join(dir, String(process.pid)), JSON.stringify(before.filter((pid) => live(Number(pid)))));
if (before.length === 0) setTimeout(() => {}, 120000);
`;

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A harness, a marker dir and a workflow running COMMAND; the test's clean-up kills every group in `started`, whatever the outcome. */
async function longCommand(label: string) {
  const h = await workflowHarness(label);
  const markers = path.join(h.dir, "markers");
  const started: number[] = [];
  cleanup = async () => {
    for (const pid of started) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
    await h.close();
  };
  await mkdir(markers);
  const file = path.join(h.dir, "long.yaml");
  await writeFile(file, `workflow: long\nsteps:\n  - id: slow\n    run: [node, -e, ${JSON.stringify(COMMAND)}, ${JSON.stringify(markers)}]\n`);
  return { h, markers, file, started };
}

test("a runner killed -9 during a long run: step; --resume ends the old command's group before the step runs again", async () => {
  const { h, markers, file, started } = await longCommand("wf-cmd-resume");
  const runner = await startReadyProcess(RUNNER, [JSON.stringify(h.userConfig), "start", file, h.workDir]);
  const [{ id }] = (await h.api.runs()) as [{ id: string }];
  const first = await eventually(async () => {
    const [run] = await h.api.runs();
    const names = await readdir(markers);
    return run?.steps.slow?.process && names.length === 1 && { pid: Number(names[0]), process: run.steps.slow.process };
  }, 20_000, "the command running, its group in the run's state");
  started.push(first.pid);
  expect(first.process.pid).toBe(first.pid);
  await runner.kill();
  // The runner is gone; its command is not.
  expect(() => process.kill(-first.pid, 0)).not.toThrow();

  const result = await h.api.run({ resume: id });
  expect(result).toMatchObject({ id, state: "succeeded" });
  const names = (await readdir(markers)).map(Number);
  expect(names).toHaveLength(2);
  const second = names.find((pid) => pid !== first.pid)!;
  started.push(second);
  // When the second copy started, the first was gone, and its whole group with it.
  expect(JSON.parse(await readFile(path.join(markers, String(second)), "utf8"))).toEqual([]);
  expect(() => process.kill(-first.pid, 0)).toThrow();
  const [run] = await h.api.runs();
  expect(run?.steps.slow).toMatchObject({ state: "succeeded" });
  expect(run?.steps.slow?.process).toBeUndefined();
});

test("a runner that exits at once (a second Ctrl-C: process.exit) ends its run: step's command group", async () => {
  const { h, markers, file, started } = await longCommand("wf-cmd-exit");
  const runner = spawn(process.execPath, [EXIT_RUNNER, JSON.stringify(h.userConfig), file, h.workDir, markers], { stdio: ["ignore", "ignore", "inherit"] });
  expect(await new Promise((resolve) => runner.once("exit", resolve))).toBe(130);
  const pid = Number((await readdir(markers))[0]);
  started.push(pid);
  expect(pid).toBeGreaterThan(0);
  await eventually(() => {
    try {
      process.kill(-pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 5_000, "the command's group gone with its runner");
});
