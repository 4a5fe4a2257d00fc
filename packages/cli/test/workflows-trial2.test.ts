// A second new-user trial through the built CLI (issue 14, problems 3, 4, 5,
// 7, 8): a shell agent completes its task with `tmux-claude complete` over
// HTTP (a real serve), --workdir is checked before anything starts, spawn
// tasks nobody waits for are warned of, replay of a YAML file says what to
// give it, a success names the instances still running, runs newest first.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { JournalEvent, PersistedRun } from "@tmux-claude/plugin-workflows";
import { BIN, createEnv, ECHO_AGENT, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv({
    agents: {
      echo: { adapter: "command", command: process.execPath, args: [ECHO_AGENT] },
      bash: { adapter: "command", command: "bash", args: ["--norc", "--noprofile"], env: { PS1: "$ " }, readyPattern: "\\$\\s*$", idlePattern: "\\$\\s*$" },
    },
  });
});
afterAll(async () => {
  await env?.close();
});

const runIdOf = (text: string) => /Run (\S+?)[;. ]/u.exec(text)?.[1];

/** `serve` for the agents' MCP endpoint, resolved once it serves. */
async function startServe(): Promise<ChildProcess> {
  const child = env.start(["serve", "--log-level", "info"]);
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    child.once("close", (code) => reject(new Error(`serve exited (${code}) before serving:\n${stderr}`)));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('"msg":"serving"')) resolve();
    });
  });
  return child;
}

test("a shell agent's task completes with tmux-claude complete over HTTP, and is not typed the English instruction", async () => {
  const serve = await startServe();
  try {
    const node = process.execPath;
    await writeFile(
      path.join(env.workDir, "shell.yaml"),
      `workflow: shell
steps:
  - id: w
    spawn: specialist
    agent: bash
    tasks: ['${node} ${BIN} complete "did task A"']
    timeout: 30s
  - wait: all-complete
  - id: show
    run: [${node}, -e, "process.stdout.write(process.argv[1])", "reply=\${{ steps.w.reply }}"]
`,
    );
    const dry = await env.run(["run", "shell.yaml", "--dry-run"]);
    expect(dry.stdout).toContain("each task would fail at the step's timeout (30s)");
    expect(dry.stdout).toContain('tmux-claude complete "<summary>"');

    const result = await env.run(["run", "shell.yaml", "--json"], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line) as JournalEvent);
    const done = events.find((e): e is Extract<JournalEvent, { type: "task-completed" }> => e.type === "task-completed")!;
    expect(done).toMatchObject({ via: "tool", status: "ok", summary: "did task A" });
    const show = events.find((e): e is Extract<JournalEvent, { type: "step-finished" }> => e.type === "step-finished" && e.step === "show")!;
    expect(show.output).toMatchObject({ stdout: "reply=did task A" });
    // The shell got its task only: the sentence about the complete tool would have been run as a command.
    const typed = events.filter((e): e is Extract<JournalEvent, { type: "message" }> => e.type === "message").map((e) => e.text);
    expect(typed).toEqual([`${node} ${BIN} complete "did task A"`]);
  } finally {
    serve.kill("SIGTERM");
    await once(serve, "close");
  }
});

test("tmux-claude complete outside an instance says where to run it (exit 2)", async () => {
  const result = await env.run(["complete", "done"], { env: { TMUX_CLAUDE_MCP_URL: "", TMUX_CLAUDE_MCP_TOKEN: "" } });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("run it inside an instance a workflow spawned");
});

test("--workdir that does not exist is refused before anything starts, also in a dry run", async () => {
  await writeFile(path.join(env.workDir, "cmd.yaml"), "workflow: cmd\nsteps:\n  - id: s\n    run: [git, status]\n");
  for (const args of [["run", "cmd.yaml", "--workdir", "/nonexistent-w2", "--dry-run"], ["run", "cmd.yaml", "--workdir", "/nonexistent-w2"]]) {
    const result = await env.run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--workdir /nonexistent-w2: no such directory.");
    expect(result.stderr).not.toContain("run id");
  }
});

test("spawn tasks no wait step waits for are warned of; the success line names the instances still running; runs lists newest first", async () => {
  await writeFile(path.join(env.workDir, "nowait.yaml"), "workflow: nowait\ncompletion: turn-end\nsteps:\n  - id: w\n    spawn: specialist\n    prompt: hello\n");
  const dry = await env.run(["run", "nowait.yaml", "--dry-run"]);
  expect(dry.stdout).toContain('warning: nowait.yaml:5:12: steps[0].spawn: no wait step waits for the tasks of step "w"');
  const first = await env.run(["run", "nowait.yaml"]);
  expect(first.code, first.stderr).toBe(0);
  expect(first.stderr.split("\n")[0]).toMatch(/^warning: nowait\.yaml:5:12: steps\[0\]\.spawn: no wait step waits for the tasks of step "w"/u);
  expect(first.stdout).toMatch(/^Run nowait-\S+ succeeded; its instance is still running \(tmux-claude list shows them; terminate --cascade ends them\)\. Timeline: tmux-claude replay nowait-\S+\n$/u);

  await writeFile(path.join(env.workDir, "quick.yaml"), `workflow: quick\nsteps:\n  - id: q\n    run: [${process.execPath}, -e, ""]\n`);
  const second = await env.run(["run", "quick.yaml"]);
  expect(second.stdout).toMatch(/^Run quick-\S+ succeeded\. Timeline: tmux-claude replay quick-\S+\n$/u);
  const ids = [runIdOf(first.stdout)!, runIdOf(second.stdout)!];
  const listed = (await env.run(["runs"])).stdout.split("\n").slice(1).map((line) => line.split(/\s+/u)[0]);
  expect(listed.filter((id) => ids.includes(id!))).toEqual([ids[1], ids[0]]);
  expect(parseJson<PersistedRun[]>(await env.run(["runs", "--json"])).map((run) => run.id).filter((id) => ids.includes(id))).toEqual([ids[1], ids[0]]);
});

test("replay of a workflow file says it wants a run, not that a journal is damaged", async () => {
  const result = await env.run(["replay", "cmd.yaml"]);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("cmd.yaml is a workflow file, not a run: give a run id (tmux-claude runs lists them");
  expect(result.stderr).not.toContain("damaged");
});

test("a failure whose reason ends its sentence is printed with one period", async () => {
  await writeFile(path.join(env.workDir, "gone.yaml"), `workflow: gone\nsteps:\n  - id: s\n    run: [${process.execPath}, -e, "console.error('it does not exist.'); process.exit(1)"]\n`);
  const result = await env.run(["run", "gone.yaml"]);
  expect(result.code).toBe(1);
  expect(result.stderr).not.toMatch(/\.\. Timeline/u);
  expect(result.stderr).toMatch(/\. Timeline: tmux-claude replay gone-/u);
});
