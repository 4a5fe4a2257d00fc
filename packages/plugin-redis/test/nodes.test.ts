import { spawn as spawnProcess, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createHarness, eventually, startRedis, type Harness, type RedisServer } from "@tmux-claude/testkit";
import type { InstanceSummary, KernelApi } from "@tmux-claude/core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { redis, RedisStore } from "../src/index.js";
import { holderName } from "../src/holder.js";
import { cli, freshPrefix } from "./helpers.js";

const SERVE = fileURLToPath(new URL("./fixtures/serve-node.mjs", import.meta.url));
const TTL = 1_000;

/** A serve of a harness's node in its own process (so it can be killed with SIGKILL); resolves once it is ready. */
async function serveNode(h: Harness, node: string, url: string, prefix: string, jitiCache: string): Promise<ChildProcess> {
  const configFile = path.join(h.dir, `serve-${node}.json`);
  await writeFile(configFile, JSON.stringify({ ...h.userConfig, plugins: undefined, node: { id: node } }));
  const child = spawnProcess(process.execPath, [SERVE, configFile, url, prefix, String(TTL)], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, JITI_CACHE: jitiCache },
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => line === "ready" && resolve());
    child.once("exit", (code) => reject(new Error(`serve of ${node} exited early (${code})`)));
  });
  return child;
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

/** What `tmux-claude nodes` prints, through the command the plugin contributes. */
async function runNodes(kernel: KernelApi, argv: string[]): Promise<{ code: number; out: string }> {
  const command = (await kernel.commands()).find((c) => c.name === "nodes")!;
  const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    const code = await command.run(argv, kernel);
    return { code, out: write.mock.calls.map((call) => String(call[0])).join("") };
  } finally {
    write.mockRestore();
  }
}

const byId = (list: InstanceSummary[], id: string) => list.find((i) => i.id === id);

describe("nodes on the redis plugin", () => {
  let server: RedisServer;
  let a: Harness;
  let b: Harness;
  let jitiCache: string;
  const children: ChildProcess[] = [];
  const prefix = freshPrefix("nodes");

  beforeAll(async () => {
    server = await startRedis();
    jitiCache = await mkdtemp(path.join(os.tmpdir(), "tc-jiti-"));
    const plugins = [redis({ url: server.url, prefix, heartbeatTtlMs: TTL })];
    a = await createHarness({ plugins, node: { id: "node-a" } }, { label: "node-a" });
    b = await createHarness({ plugins, node: { id: "node-b" } }, { label: "node-b", start: false });
  });

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(children.map(killed));
    await a?.close();
    await b?.close();
    await server?.close();
  });

  it("a killed node is lost within 5 s, its instances unreachable (not exited) elsewhere, and live again once its serve runs again", async () => {
    const serveB = await serveNode(b, "node-b", server.url, prefix, jitiCache);
    children.push(serveB);
    // A one-shot kernel of node B (as the CLI on B) spawns there; it does not register the node.
    const oneShotB = await b.startKernel({ watch: "on-demand" });
    const { instance } = await oneShotB.spawn({ role: "executive", workDir: b.workDir });
    expect(instance.tmux.node).toBe("node-b");

    // Node B's serve records the agent's status (idle once its prompt shows).
    await eventually(async () => byId(await a.kernel.list(), instance.id)?.status === "idle", 10_000, "idle, as node B's serve saw it");
    expect(byId(await a.kernel.list(), instance.id)).toMatchObject({ status: "idle", tmux: { node: "node-b" } });
    expect(byId(await a.kernel.list(), instance.id)!.unreachable).toBeUndefined();
    const live = JSON.parse((await runNodes(a.kernel, ["--json"])).out) as { id: string; state: string; instances: string[]; self: boolean }[];
    expect(live.map((n) => [n.id, n.state, n.instances, n.self])).toEqual([
      ["node-a", "live", [], true],
      ["node-b", "live", [instance.id], false],
    ]);

    // Node A's serve tells its own watchers (a dashboard there) when B's instances become unreachable: their records do not change.
    const told: string[] = [];
    const watch = a.kernel.watch((change) => void (change.kind === "instance" && told.push(change.id)));
    await watch.ready;
    const killedAt = Date.now();
    serveB.kill("SIGKILL");
    await killed(serveB);
    const lost = await eventually(async () => byId(await a.kernel.list(), instance.id)?.unreachable, 5_000, "node-b's instance unreachable on node-a");
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    await eventually(() => told.includes(instance.id), 5_000, "node-a's watchers told about node-b's instance");
    watch.stop();
    expect(lost).toMatch(/node "node-b" is lost \(no heartbeat for over 1000 ms from its serve pid \d+/u);
    // Its status stays what node B last wrote: nobody else may write exited.
    expect(byId(await a.kernel.list(), instance.id)!.status).toBe("idle");
    // Not even a kernel of node A that starts (its reconcile does not find B's pane in A's tmux, and must not care).
    const oneShotA = await a.startKernel({ watch: "on-demand" });
    expect(byId(await oneShotA.list(), instance.id)).toMatchObject({ status: "idle", unreachable: lost });
    // An operation on it fails at once, naming the node and what to do.
    const started = Date.now();
    await expect(a.kernel.read(instance.id)).rejects.toMatchObject({ code: "TC_NODE_UNREACHABLE", message: expect.stringMatching(/node "node-b" is lost.*tmux-claude serve/u) });
    expect(Date.now() - started).toBeLessThan(1_000);
    const table = (await runNodes(a.kernel, [])).out;
    expect(table).toMatch(/^node-b\s+lost\s+1\s+0\s/mu);
    expect(table).toMatch(/^node-a \*\s+live\s+0\s+0\s/mu);
    // The same through the CLI of node A: `nodes` (a plugin command) and `list`.
    const viaCli = JSON.parse(await cli(a, "node-a", { url: server.url, prefix, heartbeatTtlMs: TTL }, "nodes", "--json")) as { id: string; state: string; instances: string[] }[];
    expect(viaCli.find((n) => n.id === "node-b")).toMatchObject({ state: "lost", instances: [instance.id] });
    expect(await cli(a, "node-a", { url: server.url, prefix, heartbeatTtlMs: TTL }, "list")).toMatch(new RegExp(`^${instance.id}\\s+executive\\s+unreachable\\s`, "mu"));
    expect(JSON.parse(await cli(a, "node-a", { url: server.url, prefix, heartbeatTtlMs: TTL }, "list", "--json"))[0]).toMatchObject({ id: instance.id, status: "idle", unreachable: lost });

    // A message that may wait is queued in Redis meanwhile; one that may not fails at once.
    await expect(a.kernel.send(instance.id, "now or never", { whenBusy: "now" })).rejects.toMatchObject({ code: "TC_NODE_UNREACHABLE" });
    const whileDown = await a.kernel.send(instance.id, "while b is down");
    expect(whileDown).toMatchObject({ state: "queued", position: 1 });
    // Waiting for it waits for node B's serve (it cannot be typed from here); a wait that ends first says why.
    await expect(a.kernel.waitDelivered(whileDown, 300)).rejects.toMatchObject({
      code: "TC_SEND_TIMEOUT",
      message: expect.stringMatching(/still queued after 300 ms: node "node-b" is lost.*node "node-b" delivers it once `tmux-claude serve` runs there again/u),
    });
    const waiting = a.kernel.waitDelivered(whileDown, 30_000).then(() => "delivered", (error: unknown) => error);
    // The CLI says whose serve delivers it: node B's, not one on this node.
    expect((await cli(a, "node-a", { url: server.url, prefix, heartbeatTtlMs: TTL }, "send", instance.id, "cli while b is down")).replace(/, message \S+, thread \S+\)/u, ")")).toBe(`queued (position 2); the serve of node "node-b" delivers it when ${instance.id} is idle\n`);

    // Node B's serve again: it re-attaches to its tmux and the instance is live again, its agent the same.
    children.push(await serveNode(b, "node-b", server.url, prefix, jitiCache));
    const back = await eventually(async () => {
      const listed = byId(await a.kernel.list(), instance.id);
      return listed && listed.unreachable === undefined ? listed : undefined;
    }, 5_000, "node-b's instance reachable again");
    // Its agent lives on (busy for a moment if B is already delivering what was queued for it).
    expect(["idle", "busy"]).toContain(back.status);
    // It delivered what was queued while it was down, once.
    await eventually(async () => (await b.received()).some((m) => m.text === "while b is down"), 10_000, "the queued message delivered by B's serve");
    expect(await waiting).toBe("delivered");
    await eventually(async () => (await a.kernel.list()).find((i) => i.id === instance.id)?.queuedIds.length === 0, 5_000, "B's queue empty");
    expect((await b.received()).filter((m) => m.text === "while b is down")).toHaveLength(1);
    expect((await b.received()).filter((m) => m.text === "cli while b is down")).toHaveLength(1);
    expect((await b.received()).some((m) => m.text === "now or never")).toBe(false);
    expect((await oneShotB.send(instance.id, "still here")).state).toBe("delivered");
    await eventually(async () => (await b.received()).some((m) => m.text === "still here"), 10_000, "the agent got the message");
  });

  it("a kernel's reconcile leaves another node's unfinished spawn alone: its spawner's pid means nothing on this machine", async () => {
    const store = new RedisStore({ url: server.url, prefix });
    await store.init();
    try {
      const oneShotB = await b.startKernel({ watch: "on-demand" });
      const { instance } = await oneShotB.spawn({ role: "executive", workDir: b.workDir });
      const record = (await store.get(instance.id))!;
      // As node B's record looks while B's spawner (a pid of B's machine) has not got its pane yet.
      const ghost = { ...record, id: "exec-ghost", tmux: { ...record.tmux, paneId: "", windowId: "" }, agentState: { spawner: { pid: 2 ** 22 - 7, start: "gone" } } };
      await store.put(ghost);
      const oneShotA = await a.startKernel({ watch: "on-demand" });
      expect(await store.get("exec-ghost")).toBeDefined();
      expect((await oneShotA.get(instance.id)).status).toBe("idle");
      await store.delete("exec-ghost");
      await oneShotB.terminate(instance.id);
    } finally {
      await store.close();
    }
  });

  it("a second serve of a node id that a live serve holds is a clear error at start; one left by a dead process of this machine is taken over", async () => {
    const holderOf = async (node: string) => JSON.parse((await raw.get(`${prefix}:node:${node}`)) ?? "null") as { host: string; process: { pid: number } } | null;
    const raw = new Redis(server.url);
    try {
      const error = (await a.startKernel({ watch: "all" }).catch((e: unknown) => e)) as Error;
      expect(error).toMatchObject({ code: "TC_REDIS_NODE_ID_IN_USE" });
      expect(error.message).toMatch(/Node id "node-a" is already claimed by a running serve \(serve pid \d+ on host ".+", since .+\).*node\.id in the config/u);
      // The first serve keeps its claim.
      expect((await holderOf("node-a"))?.process.pid).toBe(process.pid);

      // A heartbeat key that vanished (Redis lost it, or was away past the TTL) is written again by the next beat.
      await raw.del(`${prefix}:node:node-a`);
      await eventually(async () => (await holderOf("node-a"))?.process.pid === process.pid, TTL, "node-a's heartbeat back");
      // One another serve took meanwhile is left to it: a beat only extends its own claim.
      const own = await raw.get(`${prefix}:node:node-a`);
      const other = JSON.stringify({ ...JSON.parse(own!), token: "someone-else" });
      await raw.set(`${prefix}:node:node-a`, other, "PX", 60_000);
      const ttlBefore = await raw.pttl(`${prefix}:node:node-a`);
      await eventually(async () => (await raw.pttl(`${prefix}:node:node-a`)) < ttlBefore - TTL, 3 * TTL, "a beat or more passed");
      expect(await raw.get(`${prefix}:node:node-a`)).toBe(other);
      // The serve's health says so, and what to do.
      expect((await a.kernel.health()).checks.find((c) => c.name === "node")).toMatchObject({ ok: false, detail: expect.stringMatching(/held by another serve .*node\.id/u) });
      await raw.set(`${prefix}:node:node-a`, own!, "PX", TTL);
      expect((await a.kernel.health()).checks.find((c) => c.name === "node")).toMatchObject({ ok: true, detail: 'node "node-a" live, heartbeat every 333 ms' });

      // A claim of another machine is refused, naming it; one of a dead process here is taken over at once.
      // A dead process of this boot and pid namespace (see src/holder.ts); the same pid of another boot cannot be judged.
      const [boot, pidNamespace] = (await holderName()).split("|");
      const claim = (host: string, holderBoot: string) =>
        JSON.stringify({ id: "node-c", token: "t", host, process: { pid: 2 ** 22 - 7, start: "gone" }, holder: [holderBoot, pidNamespace, String(2 ** 22 - 7), "gone"].join("|"), startedAt: new Date().toISOString() });
      await raw.set(`${prefix}:node:node-c`, claim("elsewhere", "another-boot"), "PX", 60_000);
      await expect(a.startKernel({ watch: "all", config: { node: { id: "node-c" } } })).rejects.toMatchObject({ message: expect.stringMatching(/on host "elsewhere"/u) });
      // The same host name is not enough: a container sharing it may be another pid namespace.
      await raw.set(`${prefix}:node:node-c`, claim(os.hostname(), "another-boot"), "PX", 60_000);
      await expect(a.startKernel({ watch: "all", config: { node: { id: "node-c" } } })).rejects.toMatchObject({ message: expect.stringMatching(/already claimed/u) });
      await raw.set(`${prefix}:node:node-c`, claim(os.hostname(), boot!), "PX", 60_000);
      const c = await a.startKernel({ watch: "all", config: { node: { id: "node-c" } } });
      expect((await holderOf("node-c"))?.process.pid).toBe(process.pid);
      // A serve that closes says goodbye: stopped, not lost.
      await c.close();
      const nodes = JSON.parse((await runNodes(a.kernel, ["--json"])).out) as { id: string; state: string; reason?: string }[];
      expect(nodes.find((n) => n.id === "node-c")).toMatchObject({ state: "stopped", reason: expect.stringMatching(/stopped at/u) });
      expect(await raw.exists(`${prefix}:node:node-c`)).toBe(0);
    } finally {
      raw.disconnect();
    }
  });

  it("nodes refuses an unknown flag with its usage", async () => {
    await expect(runNodes(a.kernel, ["--bogus"])).rejects.toMatchObject({ code: "TC_INVALID_ARGUMENT", message: expect.stringMatching(/Usage: tmux-claude nodes \[--json\]/u) });
  });
});
