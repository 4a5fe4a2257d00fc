// A send to another node's instance (through the Redis bus) against a send to
// this node's instance (the floor the target is set against: local +
// 3 ms), both on the same Redis store, interleaved in one run; and the raw
// floor of the bus itself: one request through a stream and its answer on
// pub/sub with bare ioredis.
//
// Node A is a serving kernel in this process, node B a serving kernel in its
// own process (bench/lib/redis-nodes.mjs), one echo agent on each. A sends to
// its own agent and to B's (also with whenBusy "now": typed at once on B,
// without the queue a routed send goes through, to split the bus's share from
// the queue's); each send starts from an idle agent.
import { startRedisNodes } from "../lib/redis-nodes.mjs";
import { timedRow, targets } from "../lib/rows.mjs";
import { now } from "../lib/util.mjs";

export async function redisBus({ quick, log }) {
  const iterations = quick ? 30 : 150;
  const warmup = 5;
  const nodes = await startRedisNodes({ label: "bus", limits: { sendTimeout: 10_000 } });
  const { a } = nodes;
  const floor = await busFloor(nodes.redis.url);
  const sendLocal = [], sendRemote = [], sendRemoteNow = [], readLocal = [], readRemote = [], raw = [];
  let notDelivered = 0;
  try {
    const local = (await a.kernel.spawn({ role: "specialist", workDir: a.workDir })).instance.id;
    const remote = (await a.kernel.spawn({ role: "specialist", workDir: a.workDir, node: "node-b" })).instance.id;
    const sendTo = async (id, samples, measured, i, options) => {
      // Start from an idle agent (the last message's turn is over); for B's agent this read travels on the bus too.
      await a.kernel.read(id, { wait: true, timeoutMs: 10_000 });
      const t0 = now();
      const receipt = await a.kernel.send(id, `bench message ${i} with some words in it`, options);
      const t = now() - t0;
      if (receipt.state !== "delivered") notDelivered++;
      else if (measured) samples.push(t);
    };
    const readOf = async (id, samples, measured) => {
      const t0 = now();
      await a.kernel.read(id);
      if (measured) samples.push(now() - t0);
    };
    for (let i = 0; i < warmup + iterations; i++) {
      const measured = i >= warmup;
      const steps = [
        () => sendTo(local, sendLocal, measured, i),
        () => sendTo(remote, sendRemote, measured, i),
        () => sendTo(remote, sendRemoteNow, measured, i, { whenBusy: "now" }),
        () => readOf(local, readLocal, measured),
        () => readOf(remote, readRemote, measured),
        async () => {
          const t = await floor.roundTrip();
          if (measured) raw.push(t);
        },
      ];
      // Rotate the order so no side always runs right after the same other one.
      for (let s = 0; s < steps.length; s++) await steps[(s + i) % steps.length]();
    }
    log(`redis-bus: ${iterations} iterations done`);
  } finally {
    await floor.close();
    await nodes.close();
  }
  return [
    timedRow({
      id: "redis-send-local",
      label: "send until receipt, this node's instance (Redis store)",
      samples: sendLocal,
      floor: raw,
      floorLabel: "raw bus round trip (below)",
      note: "kernel.send on node A to A's echo agent; the store is Redis",
    }),
    timedRow({
      id: "redis-send-remote",
      label: "send until receipt, another node's instance (bus)",
      samples: sendRemote,
      floor: sendLocal,
      floorLabel: "send to this node's instance (above)",
      target: targets.floorPlus(3),
      note: notDelivered ? `${notDelivered} sends were answered queued (agent not idle) and not timed` : undefined,
    }),
    timedRow({
      id: "redis-send-remote-now",
      label: "send whenBusy now (no queue), another node's instance (bus)",
      samples: sendRemoteNow,
      floor: sendLocal,
      floorLabel: "send to this node's instance (above)",
      note: "typed at once on node B, without the queue that makes a routed send exactly once across a kill -9 of B: the bus's own share of the row above",
    }),
    timedRow({
      id: "redis-read-remote",
      label: "read (no wait), another node's instance (bus)",
      samples: readRemote,
      floor: readLocal,
      floorLabel: "read of this node's instance",
    }),
    timedRow({
      id: "redis-bus-floor",
      label: "raw bus round trip: XADD -> XREADGROUP -> PUBLISH",
      samples: raw,
      note: "bare ioredis, one process: XADD to a stream, a reader blocked in XREADGROUP takes it and PUBLISHes an answer, the caller's subscriber gets it",
    }),
  ];
}

/**
 * The bus without tmux-claude: a reader blocked in XREADGROUP on its own
 * connection answers every entry with a PUBLISH on the channel the entry
 * names (then XACKs it), as the owner does; `roundTrip()` XADDs one entry
 * and resolves with the ms until the answer arrived on the subscriber.
 */
async function busFloor(url) {
  const { Redis } = await import("ioredis");
  const [caller, subscriber, reader, answerer] = [0, 0, 0, 0].map(() => new Redis(url));
  const stream = "floor:bus:in", group = "floor", channel = "floor:bus:reply";
  await caller.xgroup("CREATE", stream, group, "$", "MKSTREAM");
  await subscriber.subscribe(channel);
  let waiting;
  subscriber.on("message", (_channel, id) => waiting?.(id));
  let running = true;
  const loop = (async () => {
    while (running) {
      const reply = await reader.xreadgroup("GROUP", group, "owner", "COUNT", 100, "BLOCK", 0, "STREAMS", stream, ">").catch(() => null);
      for (const [entryId, fields] of reply?.[0]?.[1] ?? []) {
        await answerer.publish(fields[3], fields[1]);
        await answerer.multi().xack(stream, group, entryId).xdel(stream, entryId).exec();
      }
    }
  })();
  let n = 0;
  return {
    async roundTrip() {
      const id = `r${++n}`;
      const answered = new Promise((resolve) => {
        waiting = (got) => got === id && resolve();
      });
      const t0 = now();
      await caller.xadd(stream, "*", "id", id, "reply", channel);
      await answered;
      return now() - t0;
    },
    async close() {
      running = false;
      // The blocked XREADGROUP only ends with its connection.
      reader.disconnect();
      await loop;
      for (const c of [caller, subscriber, answerer]) c.disconnect();
    },
  };
}
