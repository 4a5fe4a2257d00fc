/**
 * Warm pools from one-shot CLI processes, without serve: `spawn` of a parent
 * fills its pool before the process exits, `spawn` of a pooled role takes one
 * (`--json` says `source: "pool"`) and refills the pool before it exits;
 * `list` shows the pooled one; `spawn --reuse idle` of an agent that cannot
 * reset is a cold spawn; `--reuse` with another value is a usage error.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createEnv, parseJson, type TestEnv } from "./helpers.js";

interface Listed {
  id: string;
  parentId: string | null;
  status: string;
  pooled?: { since: string };
  source?: string;
}

let env: TestEnv;
beforeAll(async () => {
  env = await createEnv({ pool: { specialist: 1 } });
});
afterAll(async () => {
  await env?.close();
});

const pooledUnder = (list: Listed[], parentId: string) => list.filter((r) => r.parentId === parentId && r.pooled && r.status === "idle").map((r) => r.id);

test("one-shot spawns fill the pool before they exit; a spawn that fits takes the pooled instance; list shows it", async () => {
  const manager = parseJson<Listed>(await env.run(["spawn", "manager", "--json"]));
  const before = parseJson<Listed[]>(await env.run(["list", "--json"]));
  const [pooled] = pooledUnder(before, manager.id);
  expect(pooled).toBeDefined();
  const table = await env.run(["list"]);
  expect(table.stdout).toMatch(new RegExp(`^${pooled!.replaceAll(".", "\\.")} +specialist +idle \\(pooled\\)`, "mu"));

  const taken = await env.run(["spawn", "specialist", "--parent", manager.id, "--json", "first", "task"]);
  expect(taken.code).toBe(0);
  expect(parseJson<Listed>(taken)).toMatchObject({ id: pooled, source: "pool", parentId: manager.id });
  expect((await env.received()).map((m) => m.text)).toContain("first task");
  const after = parseJson<Listed[]>(await env.run(["list", "--json"]));
  const refilled = pooledUnder(after, manager.id);
  expect(refilled).toHaveLength(1);
  expect(refilled[0]).not.toBe(pooled);

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
