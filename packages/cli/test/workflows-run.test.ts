// Running workflows through the built CLI with the echo agent (completion at
// the end of each turn, since the echo agent calls no tools): a run that
// succeeds, one whose run: step fails, and one interrupted with Ctrl-C and
// resumed. The seed with real Claude Code is plugin-workflows' test.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { JournalEvent, PersistedRun } from "@tmux-claude/plugin-workflows";
import { eventually, removeTestSocket, testSocket, tmuxProcesses } from "@tmux-claude/testkit";
import { BIN, createEnv, parseJson, type TestEnv } from "./helpers.js";

const execFileAsync = promisify(execFile);
const IN_PANE = fileURLToPath(new URL("./fixtures/in-pane.mjs", import.meta.url));

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
  // This file kills runners (-9 on purpose; env.run past its timeout): one killed while it connected
  // may start the tmux server again after close killed it (its `tmux new-session` for the monitor
  // outlives it). The file ends its own server, and the clients on it, rather than the run's teardown.
  await eventually(async () => {
    const left = await tmuxProcesses(env.socket);
    for (const { pid } of left) process.kill(pid, "SIGKILL");
    if (left.length) await removeTestSocket(env.socket);
    return left.length === 0;
  }, 10_000, "no tmux process left on the test's socket");
});

const jsonLines = (text: string) => text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as JournalEvent);
const runIdOf = (text: string) => /Run (\S+) /u.exec(text)?.[1];

/** A manager, two specialists under it, a wait and a check: what most tests run. */
const writeTeam = () =>
  writeFile(
    path.join(env.workDir, "team.yaml"),
    `workflow: team
vars: { word: ~ }
completion: turn-end
steps:
  - id: lead
    spawn: manager
    prompt: "lead \${{ vars.word }}"
  - id: crew
    spawn: specialist
    tasks: ["part a", "part b"]
  - wait: all-complete
  - id: check
    run: [node, -e, "process.stdout.write('checked ' + process.argv[1])", "\${{ vars.word }}"]
`,
  );

test("a run that succeeds: progress lines on stderr, the result on stdout, exit 0, then runs and replay", async () => {
  await writeTeam();
  const result = await env.run(["run", "team.yaml", "--var", "word=hello"]);
  expect(result.code, result.stderr).toBe(0);
  const id = runIdOf(result.stdout)!;
  // A run that succeeds leaves its instances running, and says so (trial 2).
  expect(result.stdout).toBe(`Run ${id} succeeded; its 3 instances are still running (tmux-claude list shows them; terminate --cascade ends them). Timeline: tmux-claude replay ${id}\n`);
  expect(result.stderr).toMatch(/^\[\+0ms\] run: started team \(4 steps; word="hello"\)$/mu);
  expect(result.stderr).toMatch(/\] mgr-1\.spec-\d: spawned as specialist for crew task \d, under mgr-1$/mu);
  expect(result.stderr).toMatch(/\] check: ran node -e .* hello: exit 0 after /u);
  expect(result.stderr).toMatch(/\] run: run succeeded after \S+$/mu);

  const runs = parseJson<PersistedRun[]>(await env.run(["runs", "--json"]));
  expect(runs.find((run) => run.id === id)).toMatchObject({ state: "succeeded", vars: { word: "hello" } });
  expect((await env.run(["runs"])).stdout).toMatch(new RegExp(`${id} +team +succeeded +\\S+ ago +\\S+ +4/4`, "u"));
  const replay = await env.run(["replay", id]);
  expect(replay.code).toBe(0);
  expect(replay.stdout).toMatch(/crew +spawn +succeeded +\+\S+ +\S+ +2 /u);
  expect(replay.stdout).toContain("Critical path (");
});

test("the kernel's and plugins' logs go through the progress as readable lines, never raw JSON between its lines", async () => {
  await writeTeam();
  const result = await env.run(["--log-level", "info", "run", "team.yaml", "--var", "word=logs"]);
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stderr.split("\n").filter((line) => line !== "");
  expect(lines.filter((line) => line.startsWith("{"))).toEqual([]);
  expect(lines.some((line) => /^info( \[\S+\])?: \S/u.test(line))).toBe(true);
  expect(lines.some((line) => /\] run: run succeeded after \S+$/u.test(line))).toBe(true);
});

test("on a terminal: the task list is redrawn in place, so the screen ends with one list and the result", async () => {
  const socket = testSocket("wf-tty");
  const tmux = (...args: string[]) => execFileAsync("tmux", ["-L", socket, "-f", "/dev/null", ...args]);
  await writeTeam();
  try {
    await tmux("new-session", "-d", "-s", "run", "-x", "110", "-y", "30", "-c", env.workDir, process.execPath, IN_PANE, socket, "ended", process.execPath, BIN, "--config", env.configFile, "run", "team.yaml", "--var", "word=tty");
    // wait-for returns at once when the channel was signalled before it started waiting.
    await tmux("wait-for", "ended");
    const { stdout: screen } = await tmux("capture-pane", "-p", "-t", "run");
    const lines = screen.split("\n").filter((line) => line.trim() !== "");
    expect(lines[0]).toMatch(/^team team-\S+ {2}succeeded {2}\S+$/u);
    expect(lines.slice(1, 5)).toEqual([
      expect.stringMatching(/^ ✔ lead {4}spawn manager {25}succeeded 1\/1 up, 1 done {2}\S+$/u),
      expect.stringMatching(/^ ✔ crew {4}spawn specialist x2 {19}succeeded 2\/2 up, 2 done {2}\S+$/u),
      expect.stringMatching(/^ ✔ step-3  wait all-complete {21}succeeded \S+$/u),
      expect.stringMatching(/^ ✔ check {3}run node -e process\.stdout\.write\('c… {2}succeeded \S+$/u),
    ]);
    // The result line, wrapped at the pane's width.
    expect(lines.slice(5).join("")).toMatch(/^Run team-\S+ succeeded; its 3 instances are still running \(.*\)\. Timeline: tmux-claude replay team-\S+$/u);
  } finally {
    await removeTestSocket(socket);
  }
});

test("a failing run: step: exit 1 naming the step and the reason, the step after it never starts, its instances are terminated", async () => {
  await writeFile(
    path.join(env.workDir, "fail.yaml"),
    `workflow: fail
completion: turn-end
steps:
  - id: worker
    spawn: specialist
    prompt: "work"
  - id: tests
    run: [node, -e, "console.error('2 tests failed'); process.exit(3)"]
  - id: never
    send: worker
    text: "not sent"
`,
  );
  const result = await env.run(["run", "fail.yaml", "--json"]);
  expect(result.code).toBe(1);
  const events = jsonLines(result.stdout);
  const end = events.at(-1)!;
  expect(end).toMatchObject({ type: "run-finished", state: "failed", failure: { step: "tests" } });
  expect(end.type === "run-finished" && end.failure?.reason).toContain("2 tests failed");
  expect(events.some((event) => event.type === "step-started" && event.step === "never")).toBe(false);
  const spawned = events.find((event) => event.type === "spawned");
  const instance = spawned?.type === "spawned" ? spawned.instanceId : "?";
  const list = parseJson<{ id: string; status: string }[]>(await env.run(["list", "--json"]));
  expect(list.find((i) => i.id === instance)?.status ?? "exited").toBe("exited");

  const text = await env.run(["replay", end.run]);
  expect(text.stdout).toContain('Failed at step "tests": ');
  expect(text.stdout).toMatch(/never +send +skipped/u);

  // Without --json: one error line naming the step and the reason, and where to look.
  const plain = await env.run(["run", "fail.yaml"]);
  expect(plain.code).toBe(1);
  expect(plain.stdout).toBe("");
  // The reason carries the command's output, which may span lines.
  expect(plain.stderr).toMatch(/^error: run fail-\S+ failed at step "tests": [\s\S]*2 tests failed[\s\S]*\. Timeline: tmux-claude replay fail-\S+$/mu);
});

/**
 * `<name>.yaml`: specialists for `tasks`, then a gate (a run: step that ends
 * once the file `gate` exists), then `text` sent to them. The gate waits with
 * fs.watch and exits, so one a killed runner leaves behind ends with the test.
 */
function writeGated(name: string, tasks: string[], gate: string, text: string): Promise<void> {
  const program = "const fs = require('fs'), f = process.argv[1]; if (!fs.existsSync(f)) fs.watch(require('path').dirname(f), () => fs.existsSync(f) && process.exit(0))";
  return writeFile(
    path.join(env.workDir, `${name}.yaml`),
    `workflow: ${name}\ncompletion: turn-end\nsteps:\n  - id: crew\n    spawn: specialist\n    tasks: ${JSON.stringify(tasks)}\n` +
      `  - id: gate\n    run: [node, -e, ${JSON.stringify(program)}, ${JSON.stringify(gate)}]\n  - id: after\n    send: crew\n    text: ${JSON.stringify(text)}\n`,
  );
}

/** Start `run <file> --json` and resolve once the journal says step `step` started. */
async function runUntil(file: string, step: string) {
  const child = env.start(["run", file, "--json"]);
  let stdout = "";
  await new Promise<void>((resolve, reject) => {
    child.once("close", (code) => reject(new Error(`run ended (exit ${code}) before step ${step} started:\n${stdout}`)));
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (jsonLines(stdout.slice(0, stdout.lastIndexOf("\n") + 1)).some((e) => e.type === "step-started" && e.step === step)) resolve();
    });
  });
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, closed, events: () => jsonLines(stdout.slice(0, stdout.lastIndexOf("\n") + 1)) };
}

test("Ctrl-C: exit 130, the run is interrupted with its instance alive; --resume finishes it without spawning again", async () => {
  const gate = path.join(env.dir, "gate-open");
  await writeGated("hold", ["part a"], gate, "gate passed");
  const running = await runUntil("hold.yaml", "gate");
  running.child.kill("SIGINT");
  expect(await running.closed).toBe(130);
  const first = running.events();
  const id = first[0]!.run;
  expect(first.at(-1)).toMatchObject({ type: "run-finished", state: "interrupted" });
  expect(parseJson<PersistedRun[]>(await env.run(["runs", "--json"])).find((run) => run.id === id)?.state).toBe("interrupted");

  await writeFile(gate, "");
  const resumed = await env.run(["run", "--resume", id, "--json"]);
  expect(resumed.code, resumed.stderr).toBe(0);
  const second = jsonLines(resumed.stdout);
  expect(second[0]).toMatchObject({ type: "run-started", resumed: true });
  expect(second.filter((e) => e.type === "spawned")).toEqual([]);
  expect(second.filter((e) => e.type === "step-started").map((e) => (e.type === "step-started" ? e.step : ""))).toEqual(["gate", "after"]);
  expect(second.at(-1)).toMatchObject({ type: "run-finished", state: "succeeded" });
  const received = await env.received();
  expect(received.map((message) => message.text)).toContainEqual("gate passed");
});

test("--resume on a terminal: the list starts from the journal, so a step that succeeded before the Ctrl-C shows succeeded, not pending", async () => {
  const gate = path.join(env.dir, "gate-tty");
  await writeGated("holdtty", ["part t"], gate, "tty gate passed");
  const running = await runUntil("holdtty.yaml", "gate");
  running.child.kill("SIGINT");
  expect(await running.closed).toBe(130);
  const id = running.events()[0]!.run;
  await writeFile(gate, "");
  const socket = testSocket("wf-tty-resume");
  const tmux = (...args: string[]) => execFileAsync("tmux", ["-L", socket, "-f", "/dev/null", ...args]);
  try {
    await tmux("new-session", "-d", "-s", "run", "-x", "110", "-y", "30", "-c", env.workDir, process.execPath, IN_PANE, socket, "ended", process.execPath, BIN, "--config", env.configFile, "run", "--resume", id);
    await tmux("wait-for", "ended");
    const { stdout: screen } = await tmux("capture-pane", "-p", "-t", "run");
    const lines = screen.split("\n").filter((line) => line.trim() !== "");
    expect(lines.filter((line) => line.startsWith("warn"))).toEqual([]);
    expect(lines[0]).toMatch(new RegExp(`^holdtty ${id} {2}succeeded {2}\\S+$`, "u"));
    // crew succeeded before the Ctrl-C (the resume did not run it again): its row says so.
    expect(lines[1]).toMatch(/^ ✔ crew {3}spawn specialist +succeeded 1\/1 up, 1 done {2}\S+$/u);
    expect(lines.slice(2, 4)).toEqual([expect.stringMatching(/^ ✔ gate {3}run node -e .* +succeeded \S+$/u), expect.stringMatching(/^ ✔ after {2}send to crew +succeeded \S+$/u)]);
  } finally {
    await removeTestSocket(socket);
  }
});

test("kill -9 after the specialists were spawned: runs says it stopped; --resume re-attaches them, spawns nothing, finishes", async () => {
  const gate = path.join(env.dir, "gate-9");
  await writeGated("crash", ["part a", "part b"], gate, "after the crash");
  const running = await runUntil("crash.yaml", "gate");
  running.child.kill("SIGKILL");
  await running.closed;
  const first = running.events();
  const id = first[0]!.run;
  const spawned = first.filter((e) => e.type === "spawned").map((e) => (e.type === "spawned" ? e.instanceId : ""));
  expect(spawned).toHaveLength(2);
  expect((await env.run(["runs"])).stdout).toMatch(new RegExp(`${id} +crash +stopped \\(resume it\\)`, "u"));

  await writeFile(gate, "");
  const resumed = await env.run(["run", "--resume", id, "--json"]);
  expect(resumed.code, resumed.stderr).toBe(0);
  const second = jsonLines(resumed.stdout);
  expect(second.filter((e) => e.type === "spawned")).toEqual([]);
  expect(second.filter((e) => e.type === "message").map((e) => (e.type === "message" ? e.instanceId : "")).sort()).toEqual([...spawned].sort());
  expect(second.at(-1)).toMatchObject({ type: "run-finished", state: "succeeded" });
});

test("--resume of an unknown run (exit 3) or of one that succeeded (exit 2): one line naming it and what to do; --from runs it again", async () => {
  const unknown = await env.run(["run", "--resume", "nope-20261205-000000-0000"]);
  expect(unknown.code).toBe(3);
  expect(unknown.stderr).toBe('error: No run "nope-20261205-000000-0000" in the store. `tmux-claude runs` lists the runs.\n');

  await writeFile(path.join(env.workDir, "quick.yaml"), "workflow: quick\nsteps:\n  - run: [node, -e, \"process.exit(0)\"]\n");
  const done = await env.run(["run", "quick.yaml"]);
  expect(done.code, done.stderr).toBe(0);
  const id = runIdOf(done.stdout)!;
  const again = await env.run(["run", "--resume", id]);
  expect(again.code).toBe(2);
  expect(again.stderr).toBe(`error: Run "${id}" already succeeded: nothing to resume. Start it again from its inputs with \`tmux-claude run --from ${id}\`.\n`);

  // As it says: a new run from that run's journal.
  const from = await env.run(["run", "--from", id]);
  expect(from.code, from.stderr).toBe(0);
  expect(runIdOf(from.stdout)).toMatch(/^quick-/u);
  expect(runIdOf(from.stdout)).not.toBe(id);
});
