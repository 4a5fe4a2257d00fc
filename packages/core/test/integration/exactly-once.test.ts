import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test } from "vitest";
import { FileStore } from "../../src/store/file-store.js";
import { messageEntry, withQueued } from "../../src/instances/message-history.js";
import { createHarness, eventually, startReadyProcess, type Harness } from "@tmux-claude/testkit";

const WORKER = fileURLToPath(new URL("../fixtures/serve-worker.mjs", import.meta.url));
const KILLS = 20;
let h: Harness | undefined;

afterAll(async () => {
  await h?.close();
});

/** Start a serving kernel in its own process; resolves once it serves, with how to kill it. */
function startServe(configFile: string, jitiCache: string) {
  return startReadyProcess(WORKER, [configFile], { ...process.env, JITI_CACHE: jitiCache });
}

test(`every queued message is delivered exactly once across ${KILLS} kill -9s of a serving kernel mid-drain`, async () => {
  h = await createHarness({ limits: { maxInstances: 10 } }, { watch: "on-demand" });
  const instances = [];
  for (let i = 0; i < 2; i++) instances.push((await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id);
  // From here on only the serving workers deliver.
  await h.kernel.close();
  const configFile = path.join(h.dir, "config.json");
  await writeFile(configFile, JSON.stringify({ ...h.config, stateDir: h.stateDir, plugins: [] }));
  const jitiCache = await mkdtemp(path.join(os.tmpdir(), "tc-jiti-"));
  const store = new FileStore(h.stateDir);
  await store.init();

  // Each message keeps its agent busy for a moment, so a drain spans many deliveries and a kill lands inside one.
  const sent = new Map<string, string[]>(instances.map((id) => [id, []]));
  let n = 0;
  const enqueue = async (count: number) => {
    for (let i = 0; i < count; i++) {
      for (const id of instances) {
        const text = `/work 15 q ${id} #${n++}`;
        sent.get(id)!.push(text);
        const enqueuedAt = new Date().toISOString();
        // As a sending kernel does: in the history first, then in the queue.
        await store.update(id, withQueued(messageEntry({ id: `m-${n}`, text, from: null }, enqueuedAt, "queued")));
        await store.enqueue({ id: `m-${n}`, instanceId: id, text, from: null, enqueuedAt });
      }
    }
  };
  const received = async () => (await h!.received()).map((m) => m.text).filter((t) => t.startsWith("/work 15 q "));
  /** What a round that delivers nothing is stuck on: claims, statuses and screens. */
  const stuck = async () => {
    const claims = await readdir(path.join(h!.stateDir, "claims"));
    const lines = [`claims: ${claims.join(", ")}`, `queued: ${await queued()}`];
    for (const record of await store.list()) lines.push(`${record.id} ${record.status}:\n${await h!.tmux("capture-pane", "-p", "-t", record.tmux.paneId).catch(String)}`);
    return lines.join("\n");
  };
  const queued = async () => (await readdir(path.join(h!.stateDir, "queue"))).filter((f) => f.endsWith(".json")).length;

  let claimedAtKill = 0;
  for (let round = 0; round < KILLS; round++) {
    if ((await queued()) < 12) await enqueue(15);
    const before = (await received()).length;
    const serve = await startServe(configFile, jitiCache);
    // Kill it inside a drain: after it delivered something, at a moment that varies from round to round.
    try {
      await eventually(async () => (await received()).length > before, 20_000, `round ${round}: a delivery`).catch(async (error: unknown) => {
        throw new Error(`${String(error)}\n${await stuck()}`);
      });
      await new Promise((resolve) => setTimeout(resolve, (round * 7) % 45));
    } finally {
      // Also when the round failed: a worker left running would outlive the test.
      await serve.kill();
    }
    const claims = await readdir(path.join(h.stateDir, "claims")).catch(() => []);
    claimedAtKill += claims.filter((f) => f.endsWith(".claim")).length;
  }

  // A last kernel drains what is left.
  const kernel = await h.startKernel({ watch: "all" });
  await eventually(async () => (await queued()) === 0, 60_000, "the queues drained");
  await eventually(async () => (await kernel.list()).every((r) => r.status === "idle"), 10_000, "idle agents");

  const got = await received();
  const all = [...sent.values()].flat();
  const lost = all.filter((text) => !got.includes(text));
  const duplicated = got.filter((text, i) => got.indexOf(text) !== i);
  console.log(`exactly-once: ${KILLS} kill -9s, ${all.length} messages, ${claimedAtKill} claims outstanding at a kill, ${lost.length} lost, ${duplicated.length} duplicated`);
  expect({ lost, duplicated }).toEqual({ lost: [], duplicated: [] });
  for (const id of instances) expect(got.filter((t) => t.includes(` ${id} #`))).toEqual(sent.get(id));
  expect(claimedAtKill).toBeGreaterThan(0);
  // The history says the same, also for deliveries a killed kernel began or acked without marking: none left queued.
  for (const id of instances) {
    const history = (await kernel.get(id)).messages ?? [];
    expect(history.length).toBeGreaterThan(0);
    expect(history.filter((m) => m.state !== "delivered")).toEqual([]);
    expect(history.at(-1)!.acceptedAt).toEqual(expect.any(String));
    expect(new Set(history.map((m) => m.id)).size).toBe(history.length);
  }

  await store.close();
  for (const id of instances) await kernel.terminate(id).catch(() => undefined);
  await rm(jitiCache, { recursive: true, force: true });
}, 300_000);
