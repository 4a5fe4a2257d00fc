// Summarize a V8 .cpuprofile (node --cpu-prof, or BENCH_CPU_PROF=<dir> npm run bench -- --only scale):
//   node bench/tools/profile-top.mjs <file.cpuprofile> [top=25]
import { readFileSync } from "node:fs";
const prof = JSON.parse(readFileSync(process.argv[2], "utf8"));
const top = Number(process.argv[3] ?? 25);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) { const id = prof.samples[i]; self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0)); }
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map(), file = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const f = (cf.url || "(native)").replace(/^file:\/\/\/work\/main\//, "").replace(/^.*node_modules\//, "nm/");
  const key = `${cf.functionName || "(anon)"} ${f}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  file.set(f, (file.get(f) ?? 0) + us);
}
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(v / 1000).toFixed(1).padStart(8)} ms ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
console.log("-- by file");
for (const [k, v] of [...file].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${(v / 1000).toFixed(1).padStart(8)} ms ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
