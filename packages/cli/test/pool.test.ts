/**
 * Warm pools from one-shot CLI processes: without serve, `spawn` of a parent
 * fills no pool (it never waits for a launch); `serve` fills it, `spawn` of a
 * pooled role takes one (`--json` says `source: "pool"`) and serve refills
 * it; `list` shows the pooled one; `spawn --reuse idle` of an agent that
 * cannot reset is a cold spawn; `--reuse` with another value is a usage error.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, eventually, parseJson, type TestEnv } from "./helpers.js";

interface Listed {
  id: string;
  parentId: string | null;
  status: string;
  pooled?: { since: string };
  source?: string;
}

let env: TestEnv;
let serve: ChildProcess | undefined;
beforeAll(async () => {
  env = await createEnv({ pool: { specialist: 1 } });
});
afterAll(async () => {
  serve?.kill("SIGTERM");
  await env?.close();
});

const pooledUnder = (list: Listed[], parentId: string) => list.filter((r) => r.parentId === parentId && r.pooled && r.status === "idle").map((r) => r.id);
const listed = async () => parseJson<Listed[]>(await env.run(["list", "--json"]));

test("without serve a spawn fills no pool; serve fills it, a spawn that fits takes the pooled instance, serve refills; list shows it", async () => {
  const manager = parseJson<Listed>(await env.run(["spawn", "manager", "--json"]));
  expect((await listed()).filter((r) => r.parentId === manager.id)).toEqual([]);

  let stderr = "";
  serve = env.start(["serve", "--log-level", "info"]);
  serve.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const pooled = await eventually(async () => pooledUnder(await listed(), manager.id)[0], 30_000, "serve to fill the pool");
  expect(serve.exitCode, stderr).toBeNull();
  const table = await env.run(["list"]);
  expect(table.stdout).toMatch(new RegExp(`^${pooled.replaceAll(".", "\\.")} +specialist +idle \\(pooled\\)`, "mu"));

  const taken = await env.run(["spawn", "specialist", "--parent", manager.id, "--json", "first", "task"]);
  expect(taken.code).toBe(0);
  expect(parseJson<Listed>(taken)).toMatchObject({ id: pooled, source: "pool", parentId: manager.id });
  expect((await env.received()).map((m) => m.text)).toContain("first task");
  const refilled = await eventually(async () => {
    const now = pooledUnder(await listed(), manager.id);
    return now.length === 1 && now[0] !== pooled ? now : undefined;
  }, 30_000, "serve to refill the pool");
  expect(refilled).toHaveLength(1);

  // The echo agent cannot reset a conversation: its idle specialist in `sub` is not reused, and no pool serves `sub`.
  const sub = path.join(env.workDir, "sub");
  await mkdir(sub);
  const first = parseJson<Listed>(await env.run(["spawn", "specialist", "--parent", manager.id, "--workdir", sub, "--json"]));
  const reused = parseJson<Listed>(await env.run(["spawn", "specialist", "--parent", manager.id, "--reuse", "idle", "--workdir", sub, "--json"]));
  expect(reused.source).toBe("cold");
  expect(reused.id).not.toBe(first.id);
  const bad = await env.run(["spawn", "specialist", "--parent", manager.id, "--reuse", "busy"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--reuse.*busy.*idle/su);
}, 120_000);
