// The deployment the root README's "Run on several machines" describes, on
// one machine: Redis with AOF, the default user locked with an admin password,
// tmux-claude's own ACL user limited to its prefix, TLS (rediss://) with a
// private CA; two nodes (two kernels, two tmux sockets) whose credentials and
// CA come through the plugin's `connection` option (ioredis's own options).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Kernel } from "@tmux-claude/core";
import { createHarness, eventually, freePort, removeTestSocket, startRedis, testSocket, type Harness, type RedisServer } from "@tmux-claude/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redis, RedisErrorCodes, RedisStore } from "../src/index.js";

const tls = (file: string) => fileURLToPath(new URL(`./fixtures/tls/${file}`, import.meta.url));
const CA = readFileSync(tls("ca.crt"), "utf8");
const USER = "tmux-claude";
const PASSWORD = "acl-user-pw-5e1d";
/** As the README's redis.conf: the default user keeps a password only an admin knows (turning it off loses transactions on an AOF reload, Redis < 8.4). */
const ACL = ["--user", ..."default on >admin-only-pw-93c1 ~* &* +@all".split(" "), "--user", ...`${USER} on >${PASSWORD} ~tmux-claude:* &tmux-claude:* +@all -@dangerous +info`.split(" ")];
const limits = { spawnTimeout: 10_000, sendTimeout: 5_000 };

let server: RedisServer;
let tlsPort: number;
let h: Harness;
let a: Kernel;
let b: Kernel;
const socketB = testSocket("deploy-b");

/** What each node's config holds: the URL without secrets, the ACL user, the password and the CA through `connection`. */
const pluginFor = (url: string, connection: Record<string, unknown>) => redis({ url, connection, commandTimeoutMs: 2_000 });
const tlsUrl = () => `rediss://127.0.0.1:${tlsPort}`;
const credentials = { username: USER, password: PASSWORD, tls: { ca: CA } };

async function initFailure(store: RedisStore): Promise<Error & { code?: string }> {
  try {
    await store.init();
  } catch (error) {
    return error as Error & { code?: string };
  } finally {
    await store.close();
  }
  throw new Error("init succeeded");
}

beforeAll(async () => {
  tlsPort = await freePort();
  server = await startRedis({
    args: [...ACL, "--tls-port", String(tlsPort), "--tls-cert-file", tls("server.crt"), "--tls-key-file", tls("server.key"), "--tls-ca-cert-file", tls("ca.crt"), "--tls-auth-clients", "no"],
  });
  h = await createHarness({ node: { id: "node-a" }, plugins: [pluginFor(tlsUrl(), credentials)], limits }, { label: "deploy-a" });
  a = h.kernel;
  b = await h.startKernel({ config: { tmux: { socket: socketB, configFile: "none", width: 120, height: 40 }, node: { id: "node-b" }, plugins: [pluginFor(tlsUrl(), credentials)], limits } });
});

afterAll(async () => {
  await h?.close();
  await removeTestSocket(socketB);
  await server?.close();
});

describe("two nodes over TLS with an ACL user, as the README deploys them", () => {
  it("spawns, sends and reads across nodes, and a Redis restart (AOF) keeps every record and queued message", async () => {
    const { instance } = await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b", prompt: "over tls" });
    expect((await b.get(instance.id)).tmux.node).toBe("node-b");
    const received = async (text: string) => (await h.received()).filter((m) => m.text === text).length;
    // Node B's receipt: typed at once, or queued while the agent still works on its prompt.
    expect((await a.send(instance.id, "hello b")).state).toMatch(/^(delivered|queued)$/u);
    await eventually(async () => (await received("hello b")) === 1, 10_000, "hello b typed on node B");
    expect(await received("over tls")).toBe(1);
    expect((await a.read(instance.id)).id).toBe(instance.id);
    // A busy agent: the next message waits in Redis, over the restart.
    await a.send(instance.id, "/work 2000");
    expect((await a.send(instance.id, "queued over the restart")).state).toBe("queued");

    const raw = new Redis(tlsUrl(), { ...credentials, lazyConnect: true });
    raw.on("error", () => undefined);
    const stored = async () => ({ listed: await raw.smembers("tmux-claude:records"), queued: (await raw.lrange(`tmux-claude:queue:${instance.id}`, 0, -1)).length });
    const before = await stored();
    await server.stop();
    await server.start();
    // Read at once, before the kernels reconnect and write again: what Redis itself kept in its AOF (a "user
    // default off" Redis before 8.4 drops every MULTI/Lua write here, and the records set comes back empty).
    const after = await stored();
    raw.disconnect();
    expect(after.listed).toContain(instance.id);
    expect(after.queued).toBeGreaterThanOrEqual(Math.min(before.queued, 1));

    const listed = await eventually(async () => (await a.list().catch(() => undefined))?.find((i) => i.id === instance.id), 15_000, "the instance listed after the restart");
    expect(listed.tmux.node).toBe("node-b");
    await eventually(async () => (await received("queued over the restart")) === 1, 20_000, "the queued message delivered by node B");
    expect((await eventually(() => a.send(instance.id, "after the restart").catch(() => undefined), 15_000, "a send across nodes again")).state).toMatch(/delivered|queued/u);
    await eventually(async () => (await received("after the restart")) === 1, 15_000, "the message after the restart");
    await eventually(async () => (await a.list()).find((i) => i.id === instance.id)?.queuedIds.length === 0, 15_000, "node B's queue empty");
    // Each message typed once, across the restart.
    for (const text of ["over tls", "hello b", "/work 2000", "queued over the restart", "after the restart"]) expect(await received(text), text).toBe(1);
    await a.terminate(instance.id);
  }, 90_000);

  it("messages flowing from A to B while Redis restarts: every answered send is typed once, in order; a failed one at most once", async () => {
    const { instance } = await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b" });
    const outcomes: { text: string; answered: boolean }[] = [];
    const TOTAL = 60;
    const sending = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        const text = `flow-${i}`;
        const answered = await a.send(instance.id, text).then(
          () => true,
          () => false,
        );
        outcomes.push({ text, answered });
      }
    })();
    // Restart Redis once the flow is under way, while sends are in flight.
    await eventually(() => outcomes.length >= 15, 20_000, "the first sends answered");
    await server.stop();
    await server.start();
    await sending;
    const answered = outcomes.filter((o) => o.answered).map((o) => o.text);
    expect(answered.length).toBeGreaterThan(15);
    const typed = async () => (await h.received()).map((m) => m.text).filter((text) => text.startsWith("flow-"));
    await eventually(async () => {
      const all = await typed();
      return answered.every((text) => all.includes(text));
    }, 20_000, "every answered send typed");
    const all = await typed();
    for (const text of answered) expect(all.filter((t) => t === text), text).toHaveLength(1);
    for (const { text } of outcomes.filter((o) => !o.answered)) expect(all.filter((t) => t === text).length, text).toBeLessThanOrEqual(1);
    // Typed in the order they were sent (a failed one, if it ran late, may not be in order: it is left out).
    expect(all.filter((text) => answered.includes(text))).toEqual(answered);
    await a.terminate(instance.id);
  }, 120_000);

  it("the ACL user reaches only its prefix: another application's keys are refused by Redis itself", async () => {
    const raw = new Redis(tlsUrl(), { ...credentials, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await raw.connect();
      expect(await raw.exists("tmux-claude:meta")).toBe(1);
      await expect(raw.set("shop:cart:7", "x")).rejects.toThrow(/NOPERM/u);
      await expect(raw.flushall()).rejects.toThrow(/NOPERM/u);
    } finally {
      raw.disconnect();
    }
  });

  it("without the CA, with a wrong password, or over plain TLS-less redis:// to the TLS port: a clear error naming the URL, no secret", async () => {
    const noCa = await initFailure(new RedisStore({ url: tlsUrl(), connection: { username: USER, password: PASSWORD }, connectTimeoutMs: 2_000 }));
    expect(noCa.code).toBe(RedisErrorCodes.UNREACHABLE);
    expect(noCa.message).toContain(tlsUrl());
    expect(noCa.message).toMatch(/certificate/u);
    expect(noCa.message).toMatch(/connection\.tls\.ca/u);
    const wrong = await initFailure(new RedisStore({ url: tlsUrl(), connection: { ...credentials, password: "not-it-x9" } }));
    expect(wrong.code).toBe(RedisErrorCodes.AUTH_FAILED);
    expect(wrong.message).not.toContain("not-it-x9");
    expect(wrong.message).not.toContain(PASSWORD);
    const plain = await initFailure(new RedisStore({ url: `redis://${USER}:${PASSWORD}@127.0.0.1:${tlsPort}`, connectTimeoutMs: 1_000 }));
    expect(plain.code).toBe(RedisErrorCodes.UNREACHABLE);
    expect(plain.message).not.toContain(PASSWORD);
  });
});
