// Shared knowledge and file claims across nodes: the knowledge plugin keeps
// them in store documents, which the Redis store shares, and claims are one
// compare-and-set document per hierarchy, so two nodes racing for the same
// files get exactly one winner.
import type { Kernel } from "@tmux-claude/core";
import { knowledge, type KnowledgeApi } from "../src/index.js";
import type { Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startCluster, type Cluster } from "../../plugin-redis/test/cluster.js";

let cluster: Cluster;
let h: Harness;
let a: Kernel;
let b: Kernel;

beforeAll(async () => {
  cluster = await startCluster({ label: "knowledge", first: "node-a", plugins: () => [knowledge()], limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } });
  h = cluster.h;
  a = h.kernel;
  b = await cluster.start("node-b");
});
afterAll(async () => {
  await cluster?.close();
});

test("knowledge recorded on node A is found on node B; overlapping claims from both nodes at once: exactly one wins", async () => {
  const exec = (await a.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  const mgr = (await a.spawn({ role: "manager", workDir: h.workDir, parentId: exec })).instance.id;
  const onA = (await a.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr })).instance.id;
  const onB = (await a.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr, node: "node-b" })).instance.id;
  const apiA = a.plugin<KnowledgeApi>("knowledge")!;
  const apiB = b.plugin<KnowledgeApi>("knowledge")!;
  await apiA.record(exec, onA, { key: "api/version", value: "v2 only", tags: ["api"] });
  expect(await apiB.query(exec, { tag: "api" })).toEqual([expect.objectContaining({ key: "api/version", value: "v2 only", by: onA })]);
  for (let round = 0; round < 10; round++) {
    const results = await Promise.allSettled([apiA.claim(onA, { paths: [`shared/${round}.ts`] }), apiB.claim(onB, { paths: [`shared/${round}.ts`] })]);
    expect(results.filter((r) => r.status === "fulfilled"), `round ${round}`).toHaveLength(1);
    await Promise.all([apiA.release(onA), apiB.release(onB)]);
  }
});
