import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { createEnv, eventually, parseJson, type TestEnv, DELIVERED } from "./helpers.js";

let env: TestEnv;
let serve: ChildProcess | undefined;
let serveStderr = "";

beforeAll(async () => {
  env = await createEnv();
});
afterEach(async () => {
  if (serve && serve.exitCode === null && serve.signalCode === null) {
    serve.kill("SIGTERM");
    await once(serve, "close");
  }
  serve = undefined;
});
afterAll(async () => {
  await env?.close();
});

const serveFile = () => path.join(env.stateDir, "serve.json");

async function startServe(): Promise<ChildProcess> {
  serveStderr = "";
  const child = env.start(["serve", "--log-level", "info"]);
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (serveStderr += chunk));
  serve = child;
  await eventually(() => serveStderr.includes('"msg":"serving"') || child.exitCode !== null, 15_000, "serve to start");
  expect(child.exitCode, serveStderr).toBeNull();
  return child;
}

test("serve writes serve.json, refuses a second serve, and exits 0 on SIGTERM, removing the file", async () => {
  const child = await startServe();
  const info = JSON.parse(await readFile(serveFile(), "utf8")) as Record<string, unknown>;
  expect(info).toMatchObject({ pid: child.pid, socket: env.socket });
  expect(typeof info.startedAt).toBe("string");
  expect(typeof info.version).toBe("string");
  expect((await stat(serveFile())).mode & 0o777).toBe(0o600);
  const log = serveStderr.split("\n").find((line) => line.includes('"msg":"serving"'));
  expect(JSON.parse(log!)).toMatchObject({ level: 30, socket: env.socket, stateDir: env.stateDir });

  const second = await env.run(["serve"]);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`pid ${child.pid}`);

  const doctor = parseJson<{ checks: { name: string; detail: string }[] }>(await env.run(["doctor", "--json"]));
  expect(doctor.checks.find((check) => check.name === "serve")?.detail).toBe(`running (pid ${child.pid})`);

  child.kill("SIGTERM");
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  expect({ code, signal }).toEqual({ code: 0, signal: null });
  await expect(stat(serveFile())).rejects.toThrow(/ENOENT/u);
});

test("serve replaces a serve.json left by a dead process; SIGINT stops it too", async () => {
  const { writeFile } = await import("node:fs/promises");
  await writeFile(serveFile(), JSON.stringify({ pid: 2 ** 22 + 12_345, startedAt: "then", socket: env.socket, version: "0" }));
  const child = await startServe();
  expect(JSON.parse(await readFile(serveFile(), "utf8"))).toMatchObject({ pid: child.pid });
  child.kill("SIGINT");
  const [code] = (await once(child, "close")) as [number | null];
  expect(code).toBe(0);
  await expect(stat(serveFile())).rejects.toThrow(/ENOENT/u);
});

test("with serve running, send to a busy instance returns 'queued' at once and serve delivers it", async () => {
  await startServe();
  const spawned = await env.run(["spawn", "executive"]);
  expect(spawned.code, spawned.stderr).toBe(0);
  const id = spawned.stdout.trim();

  const work = await env.run(["send", id, "/work 4000"]);
  expect(work.stdout, work.stderr).toMatch(DELIVERED);
  const queued = await env.run(["send", id, "after the work"]);
  expect(queued.code, queued.stderr).toBe(0);
  expect(queued.stdout).toMatch(/^queued \(position 1, message \S+, thread \S+\); serve \(pid \d+\) delivers it when exec-1 is idle\n$/u);
  // At once: the CLI returned while the agent still worked, before serve delivered the message.
  expect((await env.received()).map((m) => m.text)).not.toContain("after the work");

  const delivered = await eventually(async () => (await env.received()).find((m) => m.text === "after the work"), 15_000, "serve to deliver");
  expect(delivered.busy).toBe(false);
  const started = (await env.received()).find((m) => m.text === "/work 4000")!;
  expect(delivered.t - started.t).toBeGreaterThanOrEqual(3900);
  expect((await env.run(["terminate", id])).code).toBe(0);
});
