// plugin-redis's events across nodes (the `<prefix>:events` stream) against
// the raw Redis Streams round trip they cannot beat, on a private redis-server
// (loopback, AOF on with fsync every second):
//   append         what a kernel's hook tap costs: EventPublisher.publish up to handing XADD to ioredis (it does not wait)
//   fan-out        append on one connection -> a subscriber's listener on another (EventFeed: XREAD BLOCK)
//                  (floor: XADD on one ioredis connection -> XREAD BLOCK already waiting on another)
//   burst          10,000 appends at once until the subscriber got them all: events per second
import path from "node:path";
import { pathToFileURL } from "node:url";
import { startBenchRedis } from "../lib/redis-nodes.mjs";
import { timedRow, valueRow } from "../lib/rows.mjs";
import { ROOT, timeIt } from "../lib/util.mjs";

const dist = (file) => import(pathToFileURL(path.join(ROOT, "packages", file)).href);

export async function redisEvents({ quick, log }) {
  const n = quick ? 300 : 2_000;
  const warmup = 100;
  const burst = quick ? 2_000 : 10_000;
  // Built parts, by path: the scenario drives the publisher and the feed without kernels (the package exports neither).
  const { RedisStore, redisOptionsSchema, eventsKey } = await dist("plugin-redis/dist/index.js");
  const { EventPublisher } = await dist("plugin-redis/dist/events/publisher.js");
  const { EventFeed } = await dist("plugin-redis/dist/events/feed.js");
  const { openClient } = await dist("plugin-redis/dist/connection.js");
  const { Redis } = await import("ioredis");
  const server = await startBenchRedis();
  const options = redisOptionsSchema.parse({ url: server.url, prefix: "bench" });
  const stream = eventsKey(options.prefix);
  const logger = { warn: (o, m) => log(`warn: ${m}`), error: (o, m) => log(`error: ${m}`), debug() {} };
  // Two stores: the appending node's and the reading node's connections, as on two machines.
  const appending = new RedisStore(options);
  const reading = new RedisStore(options);
  const raw = new Redis(server.url);
  const rawReader = new Redis(server.url);
  let feed;
  const rows = [];
  try {
    await appending.init();
    await reading.init();
    const publisher = new EventPublisher({ store: appending, stream, maxLen: 10_000, logger });
    feed = new EventFeed({ store: reading, stream, logger, openReader: () => openClient(options, true, () => undefined) });
    let arrived = () => undefined;
    await feed.subscribe({}, () => arrived());
    const instance = { id: "exec-1", role: "executive", parentId: null, depth: 1, agent: "echo", status: "busy", node: "node-a", workDir: "/tmp/work" };
    const event = (i) => ({ eventId: `e-${i}`, instanceId: "exec-1", node: "node-a", at: new Date().toISOString(), type: "statusChange", instance, from: "idle", to: "busy" });

    const appendSamples = await timeIt(warmup + n, (i) => void publisher.publish(event(i)));
    rows.push(timedRow({ id: "redis-events-append", label: "events: append (the hook tap's own time)", samples: appendSamples.slice(warmup), note: "JSON + XADD handed to ioredis; the kernel never waits for Redis" }));
    // Let those land before the fan-out is timed.
    await new Promise((resolve) => {
      let seen = 0;
      arrived = () => ++seen === warmup + n && resolve();
    });

    const fanOut = async (i) => {
      const got = new Promise((resolve) => (arrived = resolve));
      void publisher.publish(event(i));
      await got;
    };
    const samples = (await timeIt(warmup + n, fanOut)).slice(warmup);
    let cursor = await raw.xadd("floor:events", "*", "x", "0");
    const floorStep = async (i) => {
      const reply = rawReader.xread("BLOCK", 0, "STREAMS", "floor:events", cursor);
      await raw.xadd("floor:events", "*", "event", JSON.stringify(event(i)));
      cursor = (await reply)[0][1].at(-1)[0];
    };
    const floor = (await timeIt(warmup + n, floorStep)).slice(warmup);
    log(`redis-events fan-out: ${n} iterations done`);
    rows.push(timedRow({ id: "redis-events-fanout", label: "events: append -> another node's subscriber", samples, floor, floorLabel: "ioredis XADD -> XREAD BLOCK", note: "EventPublisher on one store's connection, EventFeed's one blocking reader on another" }));

    const started = performance.now();
    await new Promise((resolve) => {
      let seen = 0;
      arrived = () => ++seen === burst && resolve();
      for (let i = 0; i < burst; i++) void publisher.publish(event(i));
    });
    const seconds = (performance.now() - started) / 1000;
    rows.push(valueRow({ id: "redis-events-burst", label: `events: ${burst} appended at once, all read by a subscriber`, value: Math.round(burst / seconds), unit: "events/s", n: burst }));
  } finally {
    await feed?.close();
    raw.disconnect();
    rawReader.disconnect();
    await appending.close();
    await reading.close();
    await server.close();
  }
  return rows;
}
