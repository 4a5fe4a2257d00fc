import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { afterAll, expect, test } from "vitest";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

const WORKER = fileURLToPath(new URL("../fixtures/kernel-worker.mjs", import.meta.url));
let h: Harness | undefined;

afterAll(async () => {
  await h?.close();
});

interface Step {
  step: string;
  id?: string;
  role?: string;
  parentId?: string | null;
  text?: string;
}

/** Run the worker until `enough(steps)` holds, then SIGKILL it. */
async function runAndKill(configFile: string, jitiCache: string, enough: (steps: Step[]) => boolean): Promise<Step[]> {
  const child = spawn(process.execPath, [WORKER, configFile], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, JITI_CACHE: jitiCache } });
  const steps: Step[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      steps.push(JSON.parse(line) as Step);
      if (enough(steps)) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`worker exited early (${code})`)));
  }).catch(async (error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  await exited;
  return steps;
}

test("kill -9 of a serving kernel mid-spawn and mid-send loses nothing", async () => {
  // The harness kernel is only used for its socket, dirs and cleanup; it is closed before the worker runs.
  h = await createHarness({ limits: { maxInstances: 100, spawnTimeout: 15_000 } }, { watch: "on-demand" });
  await h.kernel.close();
  const configFile = path.join(h.dir, "config.json");
  await writeFile(configFile, JSON.stringify({ ...h.config, stateDir: h.stateDir, plugins: [] }));
  const jitiCache = await mkdtemp(path.join(os.tmpdir(), "tc-jiti-"));

  let killedAfter = 0;
  for (let round = 0; round < 3; round++) {
    // Kill at a different point each round: after 2, 5 and 9 steps past the last round.
    const target = killedAfter + [2, 5, 9][round]!;
    // Rounds 2 and 3 die right after a message was queued behind a busy agent.
    const steps = await runAndKill(
      configFile,
      jitiCache,
      (s) => s.filter((x) => x.step !== "started").length >= target - killedAfter && (round === 0 || s.at(-1)!.step === "queued"),
    );
    killedAfter = target;
    expect(steps.length).toBeGreaterThan(0);
  }

  // What the dead kernel left queued, read before a kernel runs again and starts delivering it.
  const queuedFiles = await readdir(path.join(h.stateDir, "queue"));
  const stillQueued = [];
  for (const file of queuedFiles.filter((f) => f.endsWith(".json"))) stillQueued.push(JSON.parse(await readFile(path.join(h.stateDir, "queue", file), "utf8")) as { text: string });
  expect(stillQueued.length).toBeGreaterThan(0);

  // Serve again.
  const kernel = await h.startKernel({ watch: "all" });
  const listed = await kernel.list();
  const live = listed.filter((r) => r.status !== "exited");
  const sessions = (await h.tmux("list-sessions", "-F", "#{session_name}")).split("\n").filter((s) => s && !s.startsWith("_tc-monitor"));

  // Every live tmux session is a listed instance with its role and parent; nothing half-registered remains.
  expect(live.map((r) => r.tmux.session).sort()).toEqual(sessions.sort());
  for (const record of listed) {
    expect(record.tmux.paneId, `${record.id} has a pane`).not.toBe("");
    expect(["executive", "manager"]).toContain(record.role);
    if (record.role === "manager") expect(record.parentId).toMatch(/^exec-\d+$/u);
    else expect(record.parentId).toBeNull();
    expect(record.id.startsWith(record.parentId ? `${record.parentId}.mgr-` : "exec-")).toBe(true);
  }
  expect(live.length).toBeGreaterThanOrEqual(4);

  // Every message ever queued is delivered, in order per instance, exactly once.
  await eventually(async () => (await readdir(path.join(h!.stateDir, "queue"))).filter((f) => f.endsWith(".json")).length === 0, 20_000, "queues drained");
  const received = (await h.received()).map((m) => m.text).filter((t) => t.startsWith("queued "));
  for (const message of stillQueued) expect(received).toContain(message.text);
  expect(new Set(received).size).toBe(received.length);
  for (const record of live) {
    const mine = received.filter((t) => t.startsWith(`queued ${record.id} #`)).map((t) => Number(t.split("#")[1]));
    expect(mine).toEqual([...mine].sort((a, b) => a - b));
  }

  // The store parses cleanly.
  for (const file of await readdir(path.join(h.stateDir, "instances"))) {
    if (file.endsWith(".json")) JSON.parse(await readFile(path.join(h.stateDir, "instances", file), "utf8"));
  }
  await kernel.terminate(live.find((r) => r.role === "executive")!.id, { cascade: true }).catch(() => undefined);
  for (const record of await kernel.list()) await kernel.terminate(record.id, { cascade: true }).catch(() => undefined);
  await rm(jitiCache, { recursive: true, force: true });
}, 120_000);
