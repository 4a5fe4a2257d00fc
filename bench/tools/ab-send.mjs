// Two builds of the kernel in one process, their sends interleaved per iteration with the raw-tmux floor (rotating
// order), so both see the same load: a run's median moves more with this machine's load than builds differ.
//   AB_CORE=<other build>/packages/core/dist/index.js node bench/tools/ab-send.mjs [iterations]
// Prints each one's median send until receipt, the floor's, and each minus the floor.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { kernelConfig, startFloor } from "../lib/setup.mjs";
import { killServer, now } from "../lib/util.mjs";
const n = Number(process.argv[2] ?? 100);
if (!process.env.AB_CORE) throw new Error("Set AB_CORE to the other build's packages/core/dist/index.js (e.g. a worktree of main).");
const cores = {
  other: await import(pathToFileURL(path.resolve(process.env.AB_CORE ?? "")).href),
  this: await import("@tmux-claude/core"),
};
const kernels = {};
for (const [name, core] of Object.entries(cores)) {
  const setup = kernelConfig({ label: `ab-${name}` });
  const kernel = await core.Kernel.start({ config: core.configSchema.parse(setup.userConfig), watch: "all", logger: core.createLogger("error") });
  const { instance } = await kernel.spawn({ role: "specialist", workDir: setup.workDir });
  kernels[name] = { kernel, id: instance.id, socket: setup.socket, dir: setup.dir };
}
const floor = await startFloor("ab");
const { paneId } = await floor.spawnAgent({ env: { ECHO_AGENT_LOG: path.join(kernels.other.dir, "floor.jsonl") } });
const c = floor.control;
const samples = { other: [], this: [], floor: [] };
const run = {
  async other(i, text) { return kernelSend("other", i, text); },
  async this(i, text) { return kernelSend("this", i, text); },
  async floor(i, text) {
    const offset = c.offset(paneId);
    const t0 = now();
    await c.commands([["send-keys", "-t", paneId, "-l", "--", text], ["send-keys", "-t", paneId, "Enter"]]);
    await c.waitOutput(paneId, (s) => s.includes("\n"), { offset });
    const t = now() - t0;
    await c.waitOutput(paneId, (s) => s.includes(`echo: ${text}`) && s.endsWith("> "), { offset });
    return t;
  },
};
async function kernelSend(name, i, text) {
  const { kernel, id } = kernels[name];
  await kernel.read(id, { wait: true, timeoutMs: 10_000 });
  const t0 = now();
  const r = await kernel.send(id, text);
  const t = now() - t0;
  if (r.state !== "delivered") throw new Error(`${name} queued`);
  return t;
}
const orders = [["other", "this", "floor"], ["this", "floor", "other"], ["floor", "other", "this"], ["other", "floor", "this"], ["this", "other", "floor"], ["floor", "this", "other"]];
for (let i = 0; i < n + 5; i++) {
  for (const name of orders[i % orders.length]) {
    const t = await run[name](i, `bench message ${i} with some words in it`);
    if (i >= 5) samples[name].push(t);
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const f = med(samples.floor);
const out = Object.fromEntries(Object.entries(samples).map(([k, a]) => [k, med(a)]));
console.log(JSON.stringify({ n, load: (await import("node:os")).loadavg().map((x) => x.toFixed(2)), median: Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.toFixed(2)])), overFloor: { other: (out.other - f).toFixed(2), this: (out.this - f).toFixed(2) } }));
await floor.close();
for (const k of Object.values(kernels)) { await k.kernel.close(); await killServer(k.socket); }
await killServer(floor.socket);
process.exit(0);
