// The events of every node in one stream: three nodes (three kernels, three
// tmux sockets, one Redis). Each node appends the events its kernel fires;
// subscribers on every node get each of them once, in order.
import { spawn as spawnProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { INSTANCE_ENV, isTmuxClaudeError, ErrorCodes, secretDigest, type Kernel, type Plugin } from "@tmux-claude/core";
import { eventually } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Logger } from "@tmux-claude/core";
import { eventsKey, RedisStore, type ClusterEvent, type EventsApi, type RedisApi } from "../src/index.js";
import { EventPublisher } from "../src/events/publisher.js";
import { startCluster, type Cluster } from "./cluster.js";
import { cli, cliArgs } from "./helpers.js";

const limits = { spawnTimeout: 10_000, sendTimeout: 5_000 };
/** What a test plugin puts where the mcp plugin puts its token: the secret that must never reach the stream. */
const SECRET = `secret-token-${process.pid}-${Date.now()}`;
/** A spawn of this name fails once it launched, with an error that quotes the secret (as a careless plugin might). */
const FAILING = "fails-on-purpose";

/** Gives every instance a secret in its environment, as the mcp plugin does, and fails the spawns named FAILING after launch. */
function secretPlugin(): Plugin {
  return {
    name: "test-secret",
    apply(ctx) {
      ctx.hooks.beforeSpawn.tap((plan) => ({ ...plan, env: { ...plan.env, [INSTANCE_ENV.endpointToken]: SECRET } }));
      ctx.hooks.awaitReady.tapPromise(async (gate) => {
        if (gate.instance.name === FAILING) throw new Error(`the endpoint refused token ${SECRET}`);
      });
    },
  };
}

let cluster: Cluster;
let a: Kernel;
let b: Kernel;
let c: Kernel;
const startedAt = new Date().toISOString();

const eventsOf = (kernel: Kernel): EventsApi => kernel.plugin<RedisApi>("redis")!.events;

/** Every event a subscriber got, in the order it got them. */
async function collect(kernel: Kernel, options: Parameters<EventsApi["subscribe"]>[0] = {}): Promise<{ got: ClusterEvent[]; stop: () => void }> {
  const got: ClusterEvent[] = [];
  const stop = await eventsOf(kernel).subscribe(options, (event) => got.push(event));
  return { got, stop };
}

/** The stream as Redis holds it: every entry's event id and its JSON. */
async function streamEntries(): Promise<{ streamId: string; eventId: string; json: string }[]> {
  const entries = (await cluster.raw.xrange(`${cluster.prefix}:events`, "-", "+")) as [string, string[]][];
  return entries.map(([streamId, fields]) => ({ streamId, eventId: fields[fields.indexOf("id") + 1]!, json: fields[fields.indexOf("event") + 1]! }));
}

/** The ids of an instance's events as the stream holds them, in order: what every reader must get. */
async function storedIds(instanceId: string): Promise<string[]> {
  return (await streamEntries()).filter((entry) => (JSON.parse(entry.json) as ClusterEvent).instanceId === instanceId).map((entry) => entry.eventId);
}

const ids = (events: readonly ClusterEvent[]) => events.map((event) => event.eventId);
const of = (events: readonly ClusterEvent[], instanceId: string) => events.filter((event) => event.instanceId === instanceId);

beforeAll(async () => {
  cluster = await startCluster({ label: "events", first: "node-a", redis: { commandTimeoutMs: 2_000 }, plugins: () => [secretPlugin()], limits });
  a = cluster.h.kernel;
  b = await cluster.start("node-b");
  c = await cluster.start("node-c");
});

afterAll(async () => {
  await cluster?.close();
});

describe("events across three nodes", () => {
  let onB: string;
  let onBEvents: ClusterEvent[];

  test("spawned on B from A, sent to from C, terminated: subscribers on A and C get each of B's events once, in order, naming B", async () => {
    const onA = await collect(a);
    const onC = await collect(c);
    onB = (await a.spawn({ role: "executive", workDir: cluster.h.workDir, node: "node-b" })).instance.id;
    expect((await c.send(onB, "hello from c")).state).toBe("delivered");
    await a.read(onB, { wait: true, timeoutMs: 10_000 });
    expect(await a.terminate(onB)).toEqual([onB]);
    for (const { got } of [onA, onC]) await eventually(() => of(got, onB).some((e) => e.type === "afterTerminate"), 10_000, "B's afterTerminate");
    // What Redis holds for the instance, in stream order, is what each subscriber must have got, no more, no less
    // (a `-> exited` statusChange may still come after afterTerminate: compared until both agree).
    const storedFor = async () => (await streamEntries()).filter((entry) => (JSON.parse(entry.json) as ClusterEvent).instanceId === onB);
    // Both sides taken at one moment (no event is handed over in between): the stream's entries and each subscriber's.
    const agree = async () => {
      const stored = await storedFor();
      const seen = [onA, onC].map(({ got }) => of(got, onB));
      return seen.every((mine) => ids(mine).join() === stored.map((entry) => entry.eventId).join()) ? { stored, seen } : undefined;
    };
    const { stored, seen } = await eventually(agree, 5_000, "each subscriber has what the stream holds for B's instance");
    onA.stop();
    onC.stop();
    onBEvents = seen[0]!;
    for (const mine of seen) {
      expect(ids(mine)).toEqual(stored.map((entry) => entry.eventId));
      expect(new Set(ids(mine)).size).toBe(mine.length);
      expect(mine.map((e) => e.streamId)).toEqual(stored.map((entry) => entry.streamId));
      expect(mine.every((e) => e.node === "node-b")).toBe(true);
    }
    const types = onBEvents.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["statusChange", "afterSpawn", "delivered", "turnEnded", "afterTerminate"]));
    expect(types.indexOf("afterSpawn")).toBeLessThan(types.indexOf("delivered"));
    expect(types.indexOf("delivered")).toBeLessThan(types.indexOf("afterTerminate"));
    expect(onBEvents.find((e) => e.type === "delivered")).toMatchObject({ text: "hello from c", from: null });
    expect(onBEvents.find((e) => e.type === "afterSpawn")).toMatchObject({ restart: false, instance: { id: onB, role: "executive", node: "node-b" } });
  });

  test("an event of A is seen on B, with node A", async () => {
    const onBNode = await collect(b, { types: ["afterSpawn", "afterTerminate"] });
    const onA = (await a.spawn({ role: "executive", workDir: cluster.h.workDir })).instance.id;
    await a.terminate(onA);
    await eventually(() => of(onBNode.got, onA).length === 2, 10_000, "A's spawn and terminate on B");
    onBNode.stop();
    expect(of(onBNode.got, onA).map((e) => [e.type, e.node])).toEqual([
      ["afterSpawn", "node-a"],
      ["afterTerminate", "node-a"],
    ]);
  });

  test("a progress report on A reaches B once, compact (no task list), and its removal as null", async () => {
    const onBNode = await collect(b, { types: ["progress"] });
    const id = (await a.spawn({ role: "executive", workDir: cluster.h.workDir })).instance.id;
    await a.setProgress(id, { done: 1, total: 3, current: "Writing tests", items: [{ text: "Write tests", state: "in_progress" }], source: "tool" });
    // The same report again changes nothing and is not published.
    await c.setProgress(id, { done: 1, total: 3, current: "Writing tests", items: [{ text: "Write tests", state: "in_progress" }], source: "tool" });
    await a.setProgress(id, null);
    await eventually(() => of(onBNode.got, id).length === 2, 10_000, "the progress and its removal on B");
    onBNode.stop();
    expect(of(onBNode.got, id).map((e) => (e.type === "progress" ? [e.node, e.progress] : e.type))).toEqual([
      ["node-a", { done: 1, total: 3, current: "Writing tests", source: "tool" }],
      ["node-a", null],
    ]);
    await a.terminate(id);
  });

  test("a subscriber started later gets the history since a time or a stream id, then what comes", async () => {
    const expected = await storedIds(onB);
    const sinceStart = await collect(c, { since: startedAt, instanceId: onB });
    expect(ids(sinceStart.got)).toEqual(expected);
    sinceStart.stop();
    const middle = onBEvents[2]!;
    const sinceId = await collect(a, { since: middle.streamId!, instanceId: onB });
    expect(ids(sinceId.got)).toEqual(expected.slice(3));
    sinceId.stop();
    // history: the newest `limit`, oldest first.
    expect(ids(await eventsOf(b).history({ instanceId: onB, limit: 1000 }))).toEqual(expected);
    expect(ids(await eventsOf(b).history({ instanceId: onB, limit: 2 }))).toEqual(expected.slice(-2));
    // Live events after the history, each once.
    const later = await collect(a, { since: startedAt, types: ["afterSpawn"] });
    const before = later.got.length;
    const another = (await a.spawn({ role: "executive", workDir: cluster.h.workDir, node: "node-c" })).instance.id;
    await eventually(() => of(later.got, another).length === 1, 10_000, "the new spawn on a subscriber with history");
    later.stop();
    expect(later.got.length).toBe(before + 1);
    await a.terminate(another);
  });

  test("one blocking reader per kernel, however many subscribe: XREAD BLOCK, no polling", async () => {
    // Clients blocked in XREAD (flags b): the feeds' readers, one per kernel that has subscribers.
    const blockedReaders = async () => ((await cluster.raw.call("CLIENT", "LIST")) as string).split("\n").filter((line) => / flags=b .* cmd=xread /u.test(line)).length;
    const first = await collect(a);
    const before = await eventually(blockedReaders, 5_000, "A's reader blocked in XREAD");
    const more = await Promise.all([collect(a), collect(a, { types: ["afterSpawn"] }), collect(a, { since: startedAt })]);
    expect(await blockedReaders()).toBe(before);
    for (const subscription of [first, ...more]) subscription.stop();
  });

  test("bad input: an unknown since or type is a clear error naming it", async () => {
    const error = await eventsOf(a).subscribe({ since: "yesterday" }, () => undefined).catch((e: unknown) => e);
    expect(isTmuxClaudeError(error, ErrorCodes.INVALID_ARGUMENT)).toBe(true);
    expect((error as Error).message).toContain('"yesterday" is neither a stream id');
    await expect(eventsOf(a).history({ types: ["spawned" as "afterSpawn"] })).rejects.toThrow(/Unknown event type\(s\): spawned/u);
  });

  test("no secret reaches the stream: not the instance's token, not its launch env, not a failed spawn's error", async () => {
    const failed = await a.spawn({ role: "executive", workDir: cluster.h.workDir, node: "node-b", name: FAILING }).catch((e: unknown) => e);
    expect(String(failed)).toContain("the endpoint refused token");
    const failure = await eventually(async () => (await eventsOf(c).history({ types: ["spawnFailed"] })).at(-1), 10_000, "the spawnFailed event");
    expect(failure).toMatchObject({ node: "node-b", role: "executive", restart: false });
    expect(failure.type === "spawnFailed" && failure.error.message).toContain("the endpoint refused token ***");
    const all = (await streamEntries()).map((entry) => entry.json).join("\n");
    expect(all).not.toContain(SECRET);
    // Not even the digest the record keeps in its place.
    expect(all).not.toContain(secretDigest(SECRET).slice("sha256:".length));
    expect(all).not.toContain(INSTANCE_ENV.endpointToken);
    expect(all).not.toContain('"launch"');
    expect(all).not.toContain(cluster.h.log);
  });

  test("tmux-claude events (the built CLI): --json lines, the table, --follow until Ctrl-C (exit 130)", async () => {
    const options = cluster.pluginOptions;
    const lines = (await cli(cluster.h, "node-c", options, "events", "--json", "--instance", onB, "--since", startedAt)).trim().split("\n");
    expect(lines.map((line) => (JSON.parse(line) as ClusterEvent).eventId)).toEqual(await storedIds(onB));
    const table = await cli(cluster.h, "node-c", options, "events", "--instance", onB, "--type", "afterSpawn,afterTerminate");
    expect(table.trim().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^\\S+Z  node-b  ${onB.replace(/\./gu, "\\.")}  afterSpawn  spawned: executive \\(echo\\)$`, "u")),
      expect.stringMatching(new RegExp(`  node-b  ${onB.replace(/\./gu, "\\.")}  afterTerminate  terminated$`, "u")),
    ]);

    // --follow from a position: an event after it is printed once, whenever the CLI gets to subscribe.
    const position = await eventsOf(a).position();
    const child = spawnProcess(process.execPath, await cliArgs(cluster.h, "node-c", options, "events", "--follow", "--json", "--since", position, "--type", "afterSpawn"), {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const printed: ClusterEvent[] = [];
    // At Ctrl-C the CLI prints its {"error": {"code": "TC_INTERRUPTED"}} too (--json, indented): only the event lines are kept.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith('{"eventId"')) printed.push(JSON.parse(line) as ClusterEvent);
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const followed = (await b.spawn({ role: "executive", workDir: cluster.h.workDir })).instance.id;
    await eventually(() => printed.some((e) => e.instanceId === followed), 15_000, "the followed spawn printed");
    child.kill("SIGINT");
    // Interrupted, as any CLI command stopped by Ctrl-C.
    expect(await exited).toBe(130);
    expect(printed.map((e) => [e.type, e.instanceId, e.node])).toEqual([["afterSpawn", followed, "node-b"]]);
    await b.terminate(followed);
  });

  test("appends while Redis is down: nothing waits on them, and many failures are one warning, not one per event", async () => {
    const store = new RedisStore({ url: cluster.server.url, prefix: cluster.prefix, commandTimeoutMs: 300 });
    await store.init();
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message: string) => void warnings.push(message) } as unknown as Logger;
    const publisher = new EventPublisher({ store, stream: eventsKey(cluster.prefix), maxLen: 1_000, logger });
    const event = (n: number): ClusterEvent => ({
      eventId: `outage-${n}`, instanceId: "exec-x", node: "node-t", at: new Date().toISOString(), type: "afterTerminate", cascade: false,
      instance: { id: "exec-x", role: "executive", parentId: null, depth: 1, agent: "echo", status: "exited", workDir: "/tmp" },
    });
    await cluster.server.stop();
    try {
      // Each resolves (never rejects) once its command timed out.
      await Promise.all(Array.from({ length: 20 }, (_, n) => publisher.publish(event(n))));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`could not append 1 event(s) to ${cluster.prefix}:events`);
    } finally {
      await cluster.server.start();
    }
    await eventually(async () => (await publisher.publish(event(20)), warnings.length === 2), 10_000, "an append once Redis is back");
    // The 19 others, and any tried before the reconnect was done.
    expect(warnings[1]).toMatch(/^events: (19|[2-9]\d) more event\(s\) could not be appended/u);
    expect((await eventsOf(a).history({ node: "node-t" })).map((e) => e.eventId)).toContain("outage-20");
    await store.close();
  });
});
