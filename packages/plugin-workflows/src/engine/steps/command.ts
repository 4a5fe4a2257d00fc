// run: a program with its arguments (never a shell string), in the run's
// work dir, a spawn step's instance's work dir or a path; output captured
// (the last 4000 characters of each stream); a timeout or the run stopping
// ends its whole process group.
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { processId } from "@tmux-claude/core";
import type { RunStep, StepOutput } from "../../types.js";
import type { RunContext } from "../context.js";
import { tail } from "../format.js";
import { holdGroup, signalGroup } from "../process-group.js";
import { singleInstance, StepFailure, type StepEnv } from "./step-env.js";

/** How long a stopped command gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 3_000;
const KEEP = 4000;

export async function runCommand(step: RunStep, env: StepEnv): Promise<StepOutput> {
  const { run } = env;
  const argv = await Promise.all(step.command.map((arg, i) => env.resolve(arg, `command[${i}]`)));
  const cwd = await workDirOf(step, env);
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(step.env ?? {})) extra[key] = typeof value === "string" ? await env.resolve(value, `env.${key}`) : secretFromEnv(step, key, value.fromEnv);
  const started = Date.now();
  let recorded: Promise<unknown> = Promise.resolve();
  const result = await execute(argv as [string, ...string[]], cwd, { ...process.env, ...extra }, env.signal, (pid) => (recorded = recordProcess(run, step.id, pid)));
  // The group ended: a resume has nothing to stop.
  await recorded.catch(() => undefined);
  await run.update((r) => ({ ...r, steps: { ...r.steps, [step.id]: { ...r.steps[step.id]!, process: undefined } } }));
  run.journal.write({ type: "command", step: step.id, command: argv, exitCode: result.exitCode, ...(result.signal ? { signal: result.signal } : {}), durationMs: Date.now() - started });
  const output: StepOutput = { ...(result.exitCode !== null ? { exitCode: result.exitCode } : {}), stdout: result.stdout, stderr: result.stderr };
  if (result.error) throw new StepFailure(`${argv[0]} could not run in ${cwd}: ${result.error}`);
  if (env.signal.aborted) throw env.signal.reason;
  if (result.exitCode !== 0) {
    const said = lastLines(result.stderr || result.stdout);
    throw Object.assign(new StepFailure(`${JSON.stringify(argv)} exited with ${result.exitCode === null ? `signal ${result.signal}` : `code ${result.exitCode}`}${said ? `:\n${said}` : " and printed nothing"}`), { output });
  }
  return output;
}

/** A `{ fromEnv: NAME }` value: the runner's own variable, read now; it goes to the command only (never into the journal or the run's state). */
function secretFromEnv(step: RunStep, key: string, name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new StepFailure(`env.${key} of step "${step.id}" is { fromEnv: ${name} }, and the runner's environment has no ${name}; set it where tmux-claude run starts (${name}=... tmux-claude run ...), or --resume from a shell that has it`);
  }
  return value;
}

async function workDirOf(step: RunStep, env: StepEnv): Promise<string> {
  const { run } = env;
  if (step.cwd === undefined) return run.state.workDir;
  const cwd = await env.resolve(step.cwd, "cwd");
  if (run.workflow.steps.some((s) => s.id === cwd && s.kind === "spawn")) {
    return (await run.kernel.get(singleInstance(run, cwd, `the cwd of "${step.id}"`))).workDir;
  }
  const dir = path.resolve(run.state.workDir, cwd);
  // Checked here: spawn in a missing directory says only "spawn <program> ENOENT", as if the program were missing.
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new StepFailure(`its cwd ${JSON.stringify(cwd)} (${dir}) ${info ? "is not a directory" : "does not exist"}; create it first (a run: step before it, with needs:), or give cwd: an existing directory${path.isAbsolute(cwd) ? "" : ` (relative to the run's work dir ${run.state.workDir})`}`);
  }
  return dir;
}

interface Outcome {
  exitCode: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
  error?: string;
}

/** The command's group in the run's state while it runs: a resume after a kill -9 of this runner ends it before running the step again. */
async function recordProcess(run: RunContext, stepId: string, pid: number): Promise<void> {
  const { start } = await processId(pid);
  await run.update((r) => ({ ...r, steps: { ...r.steps, [stepId]: { ...r.steps[stepId]!, process: { pid, start, host: os.hostname() } } } }));
}

function execute(argv: [string, ...string[]], cwd: string, environment: NodeJS.ProcessEnv, signal: AbortSignal, started: (pid: number) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    // Its own process group: a test runner's children end with it.
    const child = spawn(argv[0], argv.slice(1), { cwd, env: environment, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const release = child.pid !== undefined ? holdGroup(child.pid) : () => undefined;
    if (child.pid !== undefined) started(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout = tail(stdout + chunk, KEEP)));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = tail(stderr + chunk, KEEP)));
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      group(child.pid, "SIGTERM");
      killer = setTimeout(() => group(child.pid, "SIGKILL"), KILL_GRACE_MS);
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    child.once("error", (error) => {
      release();
      signal.removeEventListener("abort", stop);
      resolve({ exitCode: null, stdout, stderr, error: error.message });
    });
    child.once("close", (code, killedBy) => {
      release();
      signal.removeEventListener("abort", stop);
      clearTimeout(killer);
      resolve({ exitCode: code, ...(killedBy ? { signal: killedBy } : {}), stdout, stderr });
    });
  });
}

function group(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid !== undefined) signalGroup(pid, signal);
}

function lastLines(text: string): string {
  return text.trimEnd().split("\n").slice(-10).join("\n");
}

