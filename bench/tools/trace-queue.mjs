// How fast queued messages drain: N echo agents, M sends to each issued at once
// (as the throughput scenario does; a send that finds its agent busy queues, and
// so do all after it), until the last is delivered; then the timeline of one
// queued delivery of the first instance (fs calls, tmux commands, output, status).
//   BENCH_CORE=<path>/dist/index.js node bench/tools/trace-queue.mjs [--instances N] [--count M]
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { traceFsCalls } from "../lib/fs-trace.mjs";
import { startKernel } from "../lib/setup.mjs";
import { cleanupAll, now } from "../lib/util.mjs";

const { values } = parseArgs({ options: { count: { type: "string", default: "100" }, instances: { type: "string", default: "10" } } });
let t0 = 0;
let trace = [];
const mark = (start, what) => t0 && trace.push([start - t0, now() - t0, what]);
traceFsCalls(mark);
const k = await startKernel({ label: "trace-queue" });
try {
  const rt = k.kernel.runtime;
  await rt.connect();
  const proto = Object.getPrototypeOf(rt.client);
  const command = proto.command;
  const paneOf = new Map();
  proto.command = async function (args) {
    const start = now();
    try {
      return await command.call(this, args);
    } finally {
      mark(start, `tmux ${args[0]} ${args[0] === "send-keys" || args[0] === "capture-pane" ? args[args.indexOf("-t") + 1] : ""}`);
    }
  };
  rt.on("output", (pane, data) => t0 && trace.push([now() - t0, undefined, `output ${pane} ${JSON.stringify(data.toString().slice(-20))}`]));
  k.kernel.hooks.statusChange.tap("trace", ({ instance, to }) => t0 && trace.push([now() - t0, undefined, `statusChange ${instance.id} ${to}`]));
  k.kernel.hooks.delivered.tap("trace", ({ instanceId, queued }) => t0 && trace.push([now() - t0, undefined, `delivered ${instanceId}${queued ? " (queued)" : ""}`]));
  const ids = [];
  for (let i = 0; i < Number(values.instances); i++) {
    const { instance } = await k.kernel.spawn({ role: "specialist", workDir: k.workDir });
    ids.push(instance.id);
    paneOf.set(instance.id, instance.tmux.paneId);
  }
  const count = Number(values.count);
  t0 = now();
  const receipts = await Promise.all(ids.flatMap((id) => Array.from({ length: count }, (_, i) => k.kernel.send(id, `queued message ${i}`))));
  const lasts = ids.map((id) => receipts.filter((r) => r.instanceId === id).at(-1));
  await Promise.all(lasts.map((r) => (r.state === "queued" ? k.kernel.waitDelivered(r, 300_000) : undefined)));
  const wall = now() - t0;
  const queued = receipts.filter((r) => r.state === "queued").length;
  const first = ids.find((id) => receipts.some((r) => r.instanceId === id && r.state === "queued")) ?? ids[0];
  const delivered = trace.filter(([, , w]) => w === `delivered ${first} (queued)`).map(([s]) => s);
  const gaps = delivered.slice(1).map((s, i) => s - delivered[i]).sort((a, b) => a - b);
  console.log(`${ids.length} x ${count} sends, ${queued} queued: ${wall.toFixed(0)} ms (${((ids.length * count) / (wall / 1000)).toFixed(0)} msgs/s); ${first}: ${delivered.length} queued deliveries, median gap ${gaps[gaps.length >> 1]?.toFixed(1)} ms`);
  const mid = Math.floor(delivered.length / 2);
  if (mid > 0) {
    const pane = paneOf.get(first);
    const mine = (w) => !/(spec-\d+|%\d+)/u.test(w) || w.includes(`${first} `) || w.endsWith(first) || w.includes(`${first}.`) || w.includes(`${first}@`) || w.includes(`%3A${first}`) || w.includes(`${pane} `) || w.endsWith(pane) || w.includes(`${first}.json`);
    for (const [s, e, what] of trace.filter(([s, , w]) => s >= delivered[mid - 1] && s <= delivered[mid] + 0.5 && mine(w)).sort((a, b) => a[0] - b[0])) {
      console.log(`${s.toFixed(2).padStart(9)} ${e === undefined ? "         " : e.toFixed(2).padStart(9)}  ${what}`);
    }
  }
} finally {
  t0 = 0;
  await k.close();
  await cleanupAll();
}
