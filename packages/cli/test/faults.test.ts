// Faults a user meets: the tmux server killed while many processes send. Every
// caller runs in its own process, so an error that escapes its try/catch (an
// unhandled rejection, an uncaught exception) shows as a crash with Node's stack.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, eventually, parseJson, type TestEnv } from "./helpers.js";

const execFileAsync = promisify(execFile);
const API_SENDER = fileURLToPath(new URL("./fixtures/api-sender.mjs", import.meta.url));
/** A line of a JavaScript stack trace, as Node prints it for an uncaught error. */
const STACK_LINE = /^\s+at .+[:(]/mu;

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv({ limits: { sendTimeout: 5_000, maxInstances: 5 } });
});
afterAll(async () => {
  await env?.close();
});

interface Outcome {
  what: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function watch(child: ChildProcess, what: string): { outcome: Promise<Outcome>; stdout: () => string } {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const outcome = new Promise<Outcome>((resolve) => {
    child.once("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ what, code, signal, stdout, stderr });
    });
  });
  return { outcome, stdout: () => stdout };
}

async function queuedFor(id: string): Promise<number> {
  const names = await readdir(path.join(env.stateDir, "queue")).catch(() => [] as string[]);
  return names.filter((name) => name.startsWith(`${id}@`)).length;
}

test("kill -9 of the tmux server during 20 parallel sends: every caller exits with a message, none with a stack", async () => {
  const idle = parseJson<{ id: string }>(await env.run(["spawn", "executive", "--json"])).id;
  const busy = parseJson<{ id: string }>(await env.run(["spawn", "executive", "--json"])).id;
  expect((await env.run(["send", busy, "/work 60000"])).code).toBe(0);

  const [pid] = (await execFileAsync("tmux", ["-L", env.socket, "display-message", "-p", "#{pid}"])).stdout.split("\n");

  // 10 API processes stream messages into an idle agent (sends in the middle of typing),
  // 10 CLI sends queue behind a busy one (sends waiting for delivery). Each starts once the
  // one before it is under way: many clients connecting at the same instant is another fault.
  const outcomes: Promise<Outcome>[] = [];
  for (let i = 0; i < 10; i++) {
    // It sends until sends fail: the kill below is what ends it.
    const child = spawn(process.execPath, [API_SENDER, env.configJson, idle, "1000000", `api${i}`], { stdio: ["ignore", "pipe", "pipe"] });
    const watched = watch(child, `api sender ${i}`);
    outcomes.push(watched.outcome);
    await eventually(() => watched.stdout().includes('"step":"sent"') || child.exitCode !== null, 30_000, `api sender ${i} to send`);
  }
  for (let i = 0; i < 10; i++) {
    const child = env.start(["send", busy, `cli ${i}`]);
    outcomes.push(watch(child, `cli send ${i}`).outcome);
    await eventually(async () => (await queuedFor(busy)) > i || child.exitCode !== null, 30_000, `cli send ${i} to queue`);
  }
  process.kill(Number(pid), "SIGKILL");

  const results = await Promise.all(outcomes);
  for (const r of results) {
    const context = `${r.what} (exit ${r.code}, signal ${r.signal}):\n${r.stdout}\n${r.stderr}`;
    // Every sender was cut short by the kill: it exits 1 with a message, not with a crash or a hang.
    expect(r.signal, context).toBeNull();
    expect(r.code, context).toBe(1);
    expect(r.stderr, context).not.toMatch(STACK_LINE);
    expect(r.stderr, context).not.toMatch(/Unhandled|uncaught|This is a bug/iu);
    // Not even inside a log line: an expected failure is logged by its code and message.
    expect(r.stderr, context).not.toContain('"stack"');
    if (r.what.startsWith("cli")) {
      // A failure is one line saying what happened.
      if (r.code === 1) expect(r.stderr, context).toMatch(/^error: (The tmux server \(socket "[^"]+"\) went away|Message \S+ to "exec-2" was not delivered|Instance "exec-2" has exited)/mu);
    } else {
      const lines = r.stdout.trim().split("\n").map((line) => JSON.parse(line) as { step: string; code?: string; message?: string });
      expect(lines.at(-1)?.step, context).toBe("done");
      const failures = lines.filter((line) => line.step === "failed");
      expect(failures.length, context).toBeGreaterThan(0);
      for (const failed of failures) {
        expect(failed.code, context).toMatch(/^TC_/u);
        expect(failed.message, context).not.toMatch(STACK_LINE);
      }
    }
  }
}, 120_000);

test("a waiting CLI send fails as soon as its agent dies; read shows the message kept for a restart", async () => {
  const { id, tmux } = parseJson<{ id: string; tmux: { pid: number } }>(await env.run(["spawn", "executive", "--json"]));
  expect((await env.run(["send", id, "/work 60000"])).code).toBe(0);
  const waiting = watch(env.start(["send", id, "kept for later"]), "waiting send");
  await eventually(async () => (await queuedFor(id)) === 1, 30_000, "the send to queue");
  process.kill(tmux.pid, "SIGKILL");
  const result = await waiting.outcome;
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(new RegExp(`^error: Message \\S+ to "${id}" was not delivered: the instance exited: the agent exited`, "mu"));
  expect(result.stderr).toContain(`tmux-claude restart ${id} delivers it`);
  expect(result.stderr).not.toMatch(STACK_LINE);

  const read = await env.run(["read", id]);
  expect(read.code).toBe(0);
  expect(read.stdout.split("\n")[0]).toMatch(
    new RegExp(`^${id}: exited \\(.+\\); 1 queued message \\(kept: tmux-claude restart ${id} delivers them, terminate drops them\\)$`, "u"),
  );
  // Without serve, restart itself delivers what was kept before it lets go.
  const restarted = await env.run(["restart", id]);
  expect(restarted.code, restarted.stderr).toBe(0);
  expect(restarted.stdout).toMatch(new RegExp(`^Restarted ${id}; it is \\w+\\. Delivered 1 kept message\\.$`, "mu"));
  expect((await env.received()).filter((m) => m.text === "kept for later")).toHaveLength(1);
  expect((await env.run(["terminate", id])).code).toBe(0);
}, 120_000);
