// The second new-user trial of workflows (issue 14): with `serve` running, a
// `run` whose turn-end tasks are bash commands that return at once sometimes
// left a task working for ever (its turn ended before serve watched the new
// instance, and nobody announced it), and its work out of the merge. Here the
// trial's workflow runs ten times against a real serve and the git plugin
// (auto-commit): every task completes and the merge holds every file.
import { execFile, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, eventually, type TestEnv } from "./helpers.js";

const execFileAsync = promisify(execFile);
const RUNS = 10;

let env: TestEnv;
let withGit: string;
let serve: ChildProcess | undefined;
beforeAll(async () => {
  env = await createEnv({
    defaultAgent: "bash",
    agents: { bash: { adapter: "command", command: "bash", args: ["--norc"], readyPattern: "[$#]\\s*$", idlePattern: "[$#]\\s*$" } },
  });
  withGit = path.join(env.dir, "git.config.mjs");
  await writeFile(withGit, `import base from ${JSON.stringify(env.configFile)};\nimport { git } from "@tmux-claude/plugin-git";\nexport default { ...base, plugins: [git({ autoCommit: true })] };\n`);
  const git = (...args: string[]) => execFileAsync("git", args, { cwd: env.workDir });
  await git("init", "-q", "-b", "main");
  await git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "start");
  await writeFile(
    path.join(env.workDir, "merge.yaml"),
    `workflow: merge-trial
completion: turn-end
steps:
  - id: lead
    spawn: manager
    prompt: "echo lead"
  - id: build
    spawn: specialist
    tasks: ["echo a > a.txt", "echo b > b.txt"]
  - wait: all-complete
    timeout: 8s
  - id: integrate
    merge: no-resolve
  - id: files
    run: [cat, a.txt, b.txt]
    cwd: lead
`,
  );
  let stderr = "";
  serve = env.start(["--config", withGit, "serve", "--log-level", "info"], { config: false });
  serve.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  await eventually(() => stderr.includes('"msg":"serving"') || serve!.exitCode !== null, 20_000, "serve to start");
  expect(serve.exitCode, stderr).toBeNull();
}, 60_000);
afterAll(async () => {
  serve?.kill("SIGTERM");
  await env?.close();
});

test(`with serve running, the trial's turn-end workflow (bash tasks that return at once, then a merge) completes every task: ${RUNS} runs of ${RUNS}`, async () => {
  const outcomes: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await env.run(["--config", withGit, "run", "merge.yaml"], { config: false, timeoutMs: 60_000 });
    outcomes.push(run.code === 0 ? "ok" : `exit ${run.code}: ${run.stderr.split("\n").filter((l) => /fail|still not complete/u.test(l)).join(" | ")}`);
    // The lead's worktree holds both files after the merge (cat fails the run otherwise).
    if (run.code === 0) expect(run.stderr).toMatch(/\] files: ran cat a\.txt b\.txt: exit 0/u);
    // Its instances stay after a success (a failed run ended them): end them, or the next runs meet maxInstances.
    const lead = /\] (mgr-\d+): spawned as manager/u.exec(run.stderr)?.[1];
    if (lead && run.code === 0) expect((await env.run(["--config", withGit, "terminate", lead, "--cascade"], { config: false })).code).toBe(0);
  }
  expect(outcomes).toEqual(Array.from({ length: RUNS }, () => "ok"));
}, RUNS * 60_000);
