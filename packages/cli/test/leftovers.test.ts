// No process outlives the command that started it: after a one-shot CLI
// command, a kernel API process that closes, or one stopped by a signal, no
// tmux control client of the socket runs and no monitor session is left; what
// a kill -9 leaves is removed by the next kernel, and doctor reports and cleans it.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdir, readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { testSocket } from "@tmux-claude/testkit";
import { createEnv, eventually, parseJson, type TestEnv } from "./helpers.js";

const execFileAsync = promisify(execFile);
const API_KERNEL = fileURLToPath(new URL("./fixtures/api-kernel.mjs", import.meta.url));

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv();
});
afterAll(async () => {
  await env?.close();
});

const tmux = async (...args: string[]) => (await execFileAsync("tmux", ["-L", env.socket, ...args])).stdout;

/** The tmux server's pid, or undefined when none runs. */
async function serverPid(socket: string): Promise<number | undefined> {
  const out = await execFileAsync("tmux", ["-L", socket, "display-message", "-p", "#{pid}"]).then((r) => r.stdout, () => "");
  return Number(out.trim()) || undefined;
}

/** Control clients (`tmux -L <socket> ... -C ...`) of `socket` that run now, from /proc; the server is not one. */
async function controlClients(socket: string): Promise<{ pid: number; argv: string[] }[]> {
  const server = await serverPid(socket);
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/u.test(entry) || Number(entry) === server) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\u0000");
    const at = argv.indexOf("-L");
    if (at !== -1 && argv[at + 1] === socket && argv.includes("-C")) found.push({ pid: Number(entry), argv });
  }
  return found;
}

async function monitors(): Promise<string[]> {
  return (await tmux("list-sessions", "-F", "#{session_name}").catch(() => "")).split("\n").filter((name) => name.startsWith("_tc-monitor-"));
}

/** What runs of tmux-claude's own on the socket besides the server and the agents. */
async function leftovers(): Promise<{ clients: string[]; monitors: string[] }> {
  return { clients: (await controlClients(env.socket)).map((c) => `${c.pid}: ${c.argv.join(" ")}`), monitors: await monitors() };
}

const nothing = { clients: [], monitors: [] };

interface Ready {
  step: string;
  id: string;
  session: string;
}

/** Start the API fixture and wait for its kernel to be connected with one instance spawned. */
async function startApiKernel(mode: "close" | "wait"): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, [API_KERNEL, env.configJson, env.workDir, mode], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<Ready>((resolve, reject) => {
    lines.once("line", (line) => resolve(JSON.parse(line) as Ready));
    child.once("exit", (code) => reject(new Error(`api-kernel exited before it was ready (${code}): ${stderr}`)));
  });
  return { child, ready };
}

async function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
  return { code: child.exitCode, signal: child.signalCode };
}

test("each one-shot CLI command leaves no control client and no monitor session", async () => {
  const spawned = await env.run(["spawn", "executive", "--json"]);
  expect(spawned.code, spawned.stderr).toBe(0);
  const { id } = parseJson<{ id: string }>(spawned);
  expect(await leftovers(), "after spawn").toEqual(nothing);
  // The instance itself lives on in its own session, with the server.
  expect(await serverPid(env.socket)).toBeGreaterThan(0);

  const steps: [string, string[]][] = [
    ["send", ["send", id, "hello"]],
    ["read", ["read", id, "--wait"]],
    ["list", ["list"]],
    ["restart", ["restart", id]],
    ["doctor", ["doctor"]],
    ["terminate", ["terminate", id]],
  ];
  for (const [name, args] of steps) {
    const result = await env.run(args);
    // doctor fails only on checks unrelated here (none expected with the echo agent).
    expect(result.code, `${name}: ${result.stderr}${result.stdout}`).toBe(0);
    expect(await leftovers(), `after ${name}`).toEqual(nothing);
  }
});

test("a kernel API process that calls close() leaves no control client and no monitor session", async () => {
  const { child, ready } = await startApiKernel("close");
  expect(await exited(child)).toEqual({ code: 0, signal: null });
  expect(await leftovers()).toEqual(nothing);
  expect((await tmux("list-sessions", "-F", "#{session_name}")).split("\n")).toContain(ready.session);
  expect((await env.run(["terminate", ready.id])).code).toBe(0);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`a kernel API process stopped with ${signal} closes its kernel first and dies of the signal`, async () => {
    const { child, ready } = await startApiKernel("wait");
    expect((await leftovers()).monitors).toHaveLength(1);
    child.kill(signal);
    expect(await exited(child)).toEqual({ code: null, signal });
    expect(await leftovers()).toEqual(nothing);
    // Its instance outlives it.
    expect((await tmux("list-sessions", "-F", "#{session_name}")).split("\n")).toContain(ready.session);
    expect((await env.run(["terminate", ready.id])).code).toBe(0);
  });
}

test("after kill -9 of a kernel process, the next kernel on the socket removes its client and monitor session", async () => {
  const { child, ready } = await startApiKernel("wait");
  const [monitor] = await monitors();
  expect(monitor).toMatch(new RegExp(`^_tc-monitor-${child.pid}-`, "u"));
  child.kill("SIGKILL");
  await exited(child);
  // Its own client sees its stdin close and goes; a client that outlived its process (its stdin held open
  // elsewhere) is what is left then: attach one to the dead process's monitor, as such a client would be.
  await eventually(async () => (await controlClients(env.socket)).length === 0, 5_000, "the killed kernel's client to exit");
  const stray = spawn("tmux", ["-L", env.socket, "-C", "attach-session", "-t", `=${monitor}`], { stdio: ["pipe", "ignore", "ignore"] });
  try {
    await eventually(async () => (await controlClients(env.socket)).some((c) => c.pid === stray.pid), 5_000, "the stray client");
    expect(await monitors()).toEqual([monitor]);

    // The next kernel (any command) removes both.
    const listed = await env.run(["list", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(parseJson<{ id: string }[]>(listed).map((r) => r.id)).toContain(ready.id);
    expect(await monitors()).toEqual([]);
    await exited(stray);
    expect(await leftovers()).toEqual(nothing);
  } finally {
    stray.kill("SIGKILL");
  }
  expect((await env.run(["terminate", ready.id])).code).toBe(0);
});

interface DoctorReport {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

test("doctor reports what a killed process left as a failed check, and doctor --clean removes it", async () => {
  const { child, ready } = await startApiKernel("wait");
  const [monitor] = await monitors();
  child.kill("SIGKILL");
  await exited(child);
  const stray = spawn("tmux", ["-L", env.socket, "-C", "attach-session", "-t", `=${monitor}`], { stdio: ["pipe", "ignore", "ignore"] });
  try {
    await eventually(async () => (await controlClients(env.socket)).some((c) => c.pid === stray.pid), 5_000, "the stray client");

    const report = await env.run(["doctor", "--json"]);
    expect(report.code).toBe(1);
    const check = parseJson<DoctorReport>(report).checks.find((c) => c.name === "leftovers");
    expect(check).toMatchObject({ ok: false, fix: expect.stringContaining("tmux-claude doctor --clean") });
    expect(check!.detail).toContain(monitor);
    expect(check!.detail).toContain(`control client pid ${stray.pid}`);
    // Reporting changed nothing.
    expect(await monitors()).toEqual([monitor]);

    const cleaned = await env.run(["doctor", "--clean", "--json"]);
    expect(cleaned.code, cleaned.stdout).toBe(0);
    expect(parseJson<DoctorReport>(cleaned).checks.find((c) => c.name === "leftovers")).toMatchObject({ ok: true, detail: expect.stringContaining(`removed 1 monitor session`) });
    expect(await monitors()).toEqual([]);
    await exited(stray);
    expect(await leftovers()).toEqual(nothing);
    // The instance was not touched.
    expect((await tmux("list-sessions", "-F", "#{session_name}")).split("\n")).toContain(ready.session);

    const again = parseJson<DoctorReport>(await env.run(["doctor", "--json"]));
    expect(again.checks.find((c) => c.name === "leftovers")).toMatchObject({ ok: true });
  } finally {
    stray.kill("SIGKILL");
  }
  expect((await env.run(["terminate", ready.id])).code).toBe(0);
});

test("doctor and doctor --clean never start a tmux server", async () => {
  const socket = testSocket("doctor-none");
  for (const args of [["doctor"], ["doctor", "--clean"]]) {
    const result = await env.run(["--socket", socket, ...args, "--json"]);
    expect(parseJson<DoctorReport>(result).checks.find((c) => c.name === "leftovers")).toMatchObject({ ok: true });
    expect(await serverPid(socket)).toBeUndefined();
    expect(await execFileAsync("tmux", ["-L", socket, "list-sessions"]).then(() => "running", (e: { stderr: string }) => e.stderr)).toMatch(/no server running|error connecting/u);
  }
});
