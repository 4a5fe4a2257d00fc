// RedisStore's operations against the raw ioredis round trips they cannot
// beat (the floor), on a private redis-server (loopback, AOF on with fsync
// every second, as a production Redis would run) that the scenario starts:
//   get            one GET                      (floor: GET)
//   put            one EVALSHA (CAS + publish)  (floor: SET)
//   update         GET, then EVALSHA CAS        (floor: GET + SET)
//   enqueue        MULTI RPUSH + PUBLISH        (floor: RPUSH)
//   claim + ack    two EVALSHAs                 (floor: GET + SET)
//   withLock       acquire + release EVALSHAs   (floor: SET NX PX + DEL)
import { startBenchRedis } from "../lib/redis-nodes.mjs";
import { timedRow } from "../lib/rows.mjs";
import { timeIt } from "../lib/util.mjs";

export async function redisStore({ quick, log }) {
  const n = quick ? 300 : 2_000;
  const warmup = 50;
  const { RedisStore } = await import("@tmux-claude/plugin-redis");
  const { Redis } = await import("ioredis");
  const server = await startBenchRedis();
  const store = new RedisStore({ url: server.url, prefix: "bench" });
  const raw = new Redis(server.url);
  const rows = [];
  try {
    await store.init();
    const now = new Date().toISOString();
    const record = {
      id: "exec-1", role: "executive", parentId: null, depth: 1, agent: "echo", workDir: "/tmp", status: "idle", createdAt: now, updatedAt: now,
      tmux: { socket: "bench", session: "exec-1", paneId: "%1", windowId: "@1", pid: 1 },
      launch: { command: "node", args: ["echo-agent.mjs"], env: { ECHO_AGENT_LOG: "/tmp/received.jsonl" } },
    };
    const json = JSON.stringify(record);
    await store.put(record);
    await raw.set("floor:record", json);

    const measure = async (fn) => {
      await timeIt(warmup, fn);
      return timeIt(n, fn);
    };
    const row = async (id, label, fn, floorLabel, floorFn, note) => {
      const samples = await measure(fn);
      const floor = await measure(floorFn);
      log(`${id}: ${n} iterations done`);
      rows.push(timedRow({ id, label, samples, floor, floorLabel, note }));
    };

    await row("redis-get", "RedisStore.get", () => store.get("exec-1"), "ioredis GET", () => raw.get("floor:record"));
    await row("redis-put", "RedisStore.put", () => store.put(record), "ioredis SET", () => raw.set("floor:record", json));
    let counter = 0;
    await row(
      "redis-update",
      "RedisStore.update",
      () => store.update("exec-1", (r) => ({ ...r, pluginState: { bench: { n: ++counter } } })),
      "ioredis GET + SET",
      async () => {
        await raw.get("floor:record");
        await raw.set("floor:record", json);
      },
      "read, updater, compare-and-set script (publishes the change)",
    );
    let m = 0;
    const message = () => ({ id: `m-${++m}`, instanceId: "exec-1", text: "hello", from: null, enqueuedAt: now });
    await row("redis-enqueue", "RedisStore.enqueue", () => store.enqueue(message()), "ioredis RPUSH", () => raw.rpush("floor:queue", JSON.stringify(message())));
    // Every claim needs a message: enough were queued above (warmup + n) and more are added here.
    for (let i = 0; i < warmup + n; i++) await store.enqueue(message());
    await row(
      "redis-claim-ack",
      "RedisStore.claim + ack",
      async () => {
        const outcome = await store.claim("exec-1");
        if (outcome.state !== "claimed") throw new Error(`claim: ${outcome.state}`);
        await store.ack(outcome.claim);
      },
      "ioredis GET + SET",
      async () => {
        await raw.get("floor:record");
        await raw.set("floor:record", json);
      },
      "claim script (lease on the server clock) + ack script; the lease renewal timer is set and cleared",
    );
    await row(
      "redis-lock",
      "RedisStore.withLock (uncontended)",
      () => store.withLock("bench", async () => undefined),
      "ioredis SET NX PX + DEL",
      async () => {
        await raw.set("floor:lock", "x", "PX", 10_000, "NX");
        await raw.del("floor:lock");
      },
      "fenced acquire script + compare-and-delete release script",
    );
  } finally {
    raw.disconnect();
    await store.close();
    await server.close();
  }
  return rows;
}
