// Where the time of one spawn and one send goes: every filesystem call, every
// tmux command and every lock (machine mutex) of the kernel, in ms since the
// operation began, plus counts per kind. Works on another build too:
//   BENCH_CORE=<path>/dist/index.js node bench/tools/trace-ops.mjs [--rounds N]
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { traceFsCalls } from "../lib/fs-trace.mjs";
import { startKernel } from "../lib/setup.mjs";
import { cleanupAll, now } from "../lib/util.mjs";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" }, quiet: { type: "boolean", default: false } } });
const rounds = Number(values.rounds);
let t0 = 0;
let trace = [];
const mark = (start, what) => t0 && trace.push([start - t0, now() - t0, what]);

traceFsCalls(mark);
// The machine mutex (an abstract socket listen).
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const start = now();
  if (typeof args[0] === "string" && args[0].startsWith("\0")) this.once("listening", () => mark(start, "mutex listen"));
  return listen.apply(this, args);
};

const k = await startKernel({ label: "trace" });
const rt = k.kernel.runtime;
await rt.connect();
const client = rt.client;
const command = Object.getPrototypeOf(client).command;
Object.getPrototypeOf(client).command = async function (args) {
  const start = now();
  try {
    return await command.call(this, args);
  } finally {
    mark(start, `tmux ${args[0]}`);
  }
};
rt.on("output", (_pane, data) => t0 && trace.push([now() - t0, undefined, `output ${JSON.stringify(data.toString().slice(-16))}`]));
k.kernel.hooks.statusChange.tap("trace", ({ to }) => t0 && trace.push([now() - t0, undefined, `statusChange ${to}`]));

const totals = { spawn: [], send: [] };
// Milestones: when each first happened, per operation (medians printed at the end).
const MILESTONES = {
  spawn: ["tmux new-session", "tmux respawn-pane", "output", "statusChange idle", "spawn returned"],
  send: ["tmux send-keys", "output", "statusChange busy", "send returned"],
};
const milestones = { spawn: {}, send: {} };
const counts = { spawn: {}, send: {} };
function finish(kind, print) {
  trace.sort((a, b) => a[0] - b[0]);
  for (const name of MILESTONES[kind]) {
    const hit = trace.find(([, , what]) => what === name || what.startsWith(`${name} `));
    if (hit) (milestones[kind][name] ??= []).push(hit[0]);
  }
  if (kind === "send") {
    // The receipt: the last output before the send returned.
    const end = trace.find(([, , w]) => w === "send returned")?.[0];
    const last = trace.filter(([s, , w]) => w.startsWith("output") && s <= end).at(-1);
    if (last) (milestones.send["last output"] ??= []).push(last[0]);
    // The send lock: placed (end of the rename into place), released (the rename to a tombstone, then the owner read back).
    const placed = trace.find(([, , w]) => /^fs\.rename locks\/send%3A.*\.tmp$/u.test(w));
    const released = trace.find(([, , w]) => /^fs\.rename locks\/send%3A[^.]*\.lock$/u.test(w));
    const verified = trace.find(([, , w]) => /^fs\.readFile send%3A.*\.dead\/owner$/u.test(w));
    if (placed) (milestones.send["lock placed"] ??= []).push(placed[1]);
    if (released) (milestones.send["release begins"] ??= []).push(released[0]);
    if (verified) (milestones.send["release verified"] ??= []).push(verified[1]);
  }
  const c = counts[kind];
  for (const [, , what] of trace) {
    const key = what.split(" ")[0] === "output" || what.startsWith("statusChange") ? undefined : what.replace(/ .*\//u, " ").replace(/[-\w.]*\.tmp\b/u, "*.tmp");
    if (key) c[key] = (c[key] ?? 0) + 1 / rounds;
  }
  if (print && !values.quiet) {
    console.log(`--- ${kind}`);
    for (const [s, e, what] of trace) console.log(`${s.toFixed(2).padStart(8)} ${e === undefined ? "        " : e.toFixed(2).padStart(8)}  ${what}`);
  }
}
try {
  for (let i = 0; i < rounds + 2; i++) {
    const measured = i >= 2;
    trace = [];
    t0 = now();
    const { instance } = await k.kernel.spawn({ role: "specialist", workDir: k.workDir });
    trace.push([now() - t0, undefined, "spawn returned"]);
    if (measured) totals.spawn.push(now() - t0);
    t0 = 0;
    if (measured) finish("spawn", i === rounds + 1);
    await k.kernel.read(instance.id, { wait: true, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    trace = [];
    t0 = now();
    await k.kernel.send(instance.id, `trace message ${i}`);
    trace.push([now() - t0, undefined, "send returned"]);
    if (measured) totals.send.push(now() - t0);
    t0 = 0;
    if (measured) finish("send", i === rounds + 1);
    await k.kernel.read(instance.id, { wait: true, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    await k.kernel.terminate(instance.id);
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  for (const kind of ["spawn", "send"]) {
    console.log(`=== ${kind}: median ${med(totals[kind]).toFixed(2)} ms over ${rounds}; milestones (median ms since the call): ${Object.entries(milestones[kind]).sort((a, b) => med(a[1]) - med(b[1])).map(([k, v]) => `${k} ${med(v).toFixed(2)}`).join(", ")}`);
    console.log("calls per operation:");
    console.log(Object.entries(counts[kind]).sort((a, b) => b[1] - a[1]).filter(([k]) => !/\.dead|\.lock$|spec-\d/u.test(k)).map(([k, v]) => `${k} ${+v.toFixed(1)}`).join(", "));
  }
} finally {
  await k.close();
  await cleanupAll();
}
