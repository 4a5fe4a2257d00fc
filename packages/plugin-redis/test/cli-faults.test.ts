// Redis stopped under a running system, seen from a user's shell: the built
// CLI with a tmuxclaude config that imports redis() as the CLI ships it, a
// `tmux-claude serve` of its own, an echo agent running. While Redis is down
// every command fails with one line naming the URL (never its password) and
// exits; the agent and the serve keep running. Redis started again (AOF):
// the same commands work, and nothing sent before is lost or doubled.
import { execFile, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { eventually, startRedis, type RedisServer } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnv, parseJson, type RunResult, type TestEnv } from "../../cli/test/helpers.js";
import { redactUrl } from "../src/options.js";

const PASSWORD = "pw-never-printed-7f3a";
const NODE = "node-faults";
/** Each CLI call must exit by itself well within this (it is killed past it, and the test fails). */
const CALL_LIMIT_MS = 30_000;

let server: RedisServer;
let env: TestEnv;
let configFile: string;
let serve: ChildProcess;
let serveLog = "";

const run = (...args: string[]): Promise<RunResult> => env.run(["--config", configFile, ...args], { config: false, timeoutMs: CALL_LIMIT_MS });

async function ok(...args: string[]): Promise<string> {
  const result = await run(...args);
  if (result.code !== 0) throw new Error(`tmux-claude ${args.join(" ")} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

const count = async (text: string) => (await env.received()).filter((m) => m.text === text).length;

/** doctor's line for the redis plugin (the other checks, such as a claude binary on PATH, are not this test's). */
async function doctorRedis(): Promise<{ ok: boolean; detail: string }> {
  const result = await run("doctor", "--json");
  expect(`${result.stdout}${result.stderr}`).not.toContain(PASSWORD);
  return parseJson<{ checks: { name: string; ok: boolean; detail: string }[] }>(result).checks.find((check) => check.name === "redis")!;
}

beforeAll(async () => {
  server = await startRedis({ password: PASSWORD });
  env = await createEnv({ node: { id: NODE } });
  configFile = path.join(env.dir, "redis.config.mjs");
  // As a user writes it (README "Run on several machines"): the plugin imported by name, the URL from the environment.
  await writeFile(
    configFile,
    `import { redis } from "@tmux-claude/plugin-redis";\nimport base from "./tmuxclaude.config.mjs";\n` +
      `export default { ...base, plugins: [redis({ url: ${JSON.stringify(server.url)}, heartbeatTtlMs: 1_000 })] };\n`,
  );
  serve = env.start(["--config", configFile, "serve"], { config: false });
  serve.stderr!.setEncoding("utf8").on("data", (chunk: string) => (serveLog += chunk));
  await eventually(() => serveLog.includes('"msg":"serving"') || (serve.exitCode !== null ? Promise.reject(new Error(serveLog)) : null), 30_000, "serve to start");
});

afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill("SIGTERM");
  await env?.close();
  await server?.close();
});

describe("the CLI while Redis is stopped, and after it is back (AOF)", () => {
  it("fails each command with the URL (no password, no stack, no hang), keeps the agent and serve running, and loses nothing", async () => {
    const id = (await ok("spawn", "executive", "first words")).trim();
    // Typed at once, or queued while the echo agent still takes its prompt: either way it must arrive once.
    expect(await ok("send", id, "before the stop")).toMatch(/^(delivered|queued)/u);
    // A busy agent: the next message waits in its Redis queue for serve to deliver, across the outage.
    // Long enough to outlast the CLI calls below on a loaded machine (each starts a process).
    expect(await ok("send", id, "/work 10000")).toMatch(/^(delivered|queued)/u);
    // Once serve has seen it busy (a loaded machine may take a moment), the next one is queued.
    await eventually(async () => parseJson<{ status: string }[]>(await run("list", "--json"))[0]?.status === "busy", 10_000, "the agent busy with its work");
    expect(await ok("send", id, "queued before the stop")).toMatch(/^queued/u);
    const session = parseJson<{ tmux: { session: string } }[]>(await run("list", "--json"))[0]!.tmux.session;
    expect(await doctorRedis()).toMatchObject({ ok: true, detail: expect.stringMatching(/Redis \d+\.\d+.*prefix "tmux-claude" a tmux-claude store/u) });

    await server.stop();
    const url = redactUrl(server.url);
    expect(url).not.toContain(PASSWORD);
    for (const args of [["list"], ["send", id, "sent while down"], ["read", id], ["spawn", "executive"], ["nodes"], ["terminate", id]]) {
      const result = await run(...args);
      const what = `tmux-claude ${args.join(" ")} (exit ${result.code}, ${result.ms} ms):\n${result.stderr}`;
      expect(result.code, what).toBe(1);
      expect(result.stderr, what).toContain(url);
      expect(result.stderr, what).toMatch(/^error: /u);
      expect(`${result.stdout}${result.stderr}`, what).not.toContain(PASSWORD);
      // One line with what to do, no stack trace.
      expect(result.stderr, what).not.toMatch(/^\s+at /mu);
      expect(result.stderr.trim().split("\n"), what).toHaveLength(1);
    }
    // doctor says so too, as its redis line.
    expect(await doctorRedis()).toMatchObject({ ok: false, detail: expect.stringContaining(`Could not connect to Redis at ${url}`) });
    // The agent runs on in its tmux, and serve too (it logged the outage, with the URL but not the password).
    const panes = await promisify(execFile)("tmux", ["-L", env.socket, "list-panes", "-t", `=${session}`, "-F", "#{pane_dead}"]);
    expect(panes.stdout.trim()).toBe("0");
    expect(serve.exitCode).toBeNull();
    expect(serveLog).not.toContain(PASSWORD);

    await server.start();
    // serve's heartbeat comes back by itself (Redis expired the old key while it was away).
    await eventually(async () => JSON.parse(await ok("nodes", "--json")).find((n: { id: string; state: string }) => n.id === NODE && n.state === "live"), 15_000, "the node live again");
    const listed = parseJson<{ id: string; status: string }[]>(await run("list", "--json"));
    expect(listed.map((i) => i.id)).toEqual([id]);
    expect(await ok("read", id)).toContain(`${id}:`);
    // What was queued before the stop is delivered by serve, once; what failed while down never arrives.
    await eventually(async () => (await count("queued before the stop")) === 1, 15_000, "the queued message delivered");
    expect(await ok("send", id, "after the restart")).toMatch(/^(delivered|queued)/u);
    await eventually(async () => (await count("after the restart")) === 1, 15_000, "the message sent after the restart");
    const second = (await ok("spawn", "executive")).trim();
    expect(second).not.toBe(id);
    await ok("terminate", second);
    expect(await count("first words")).toBe(1);
    await eventually(async () => (await count("before the stop")) === 1, 15_000, "the first message");
    expect(await count("before the stop")).toBe(1);
    expect(await count("queued before the stop")).toBe(1);
    expect(await count("sent while down")).toBe(0);
    await ok("terminate", id);
    expect(serve.exitCode).toBeNull();
  }, 180_000);
});
