import { startRedisNodes } from "../lib/redis-nodes.mjs";
import { cleanupAll, summarize, now } from "../lib/util.mjs";
const nodes = await startRedisNodes({ label: "exp" });
const { a } = nodes;
try {
  const local = (await a.kernel.spawn({ role: "specialist", workDir: a.workDir })).instance.id;
  const remote = (await a.kernel.spawn({ role: "specialist", workDir: a.workDir, node: "node-b" })).instance.id;
  const res = { local: [], remote: [], remoteNow: [], remoteRead: [], localRead: [] };
  for (let i = 0; i < 60; i++) {
    for (const [k, id, opts] of [["local", local, {}], ["remote", remote, {}], ["remoteNow", remote, { whenBusy: "now" }]]) {
      await a.kernel.read(id, { wait: true, timeoutMs: 10000 });
      const t0 = now();
      const r = await a.kernel.send(id, `x ${i}`, opts);
      if (i >= 5 && r.state === "delivered") res[k].push(now() - t0);
    }
    for (const [k, id] of [["localRead", local], ["remoteRead", remote]]) { const t0 = now(); await a.kernel.read(id); if (i >= 5) res[k].push(now() - t0); }
  }
  for (const [k, v] of Object.entries(res)) { const s = summarize(v); console.log(k.padEnd(12), s.n, s.median.toFixed(2), s.p95.toFixed(2)); }
} finally { await nodes.close(); await cleanupAll(); }
