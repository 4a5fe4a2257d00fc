// The timeline of sends through Redis, from Redis's side: every command the
// nodes send (MONITOR, microsecond server timestamps), relative to the start
// of the send, for a send to this node's instance and one to another node's
// (through the bus), with the kernel's own start and end marks.
//   node bench/tools/trace-bus.mjs [--rounds N]
// Prints, per round and kind, each command as "+ms  client  COMMAND key ...".
import { parseArgs } from "node:util";
import { startRedisNodes } from "../lib/redis-nodes.mjs";
import { cleanupAll, cleanupSync } from "../lib/util.mjs";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
const rounds = Number(values.rounds);
const clock = () => performance.timeOrigin + performance.now();

// Ctrl-C: exit at once (before the kernel's own handler re-raises the signal), removing tmux servers and children on exit.
process.once("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

const nodes = await startRedisNodes({ label: "trace-bus" });
const { a } = nodes;
const { Redis } = await import("ioredis");
const base = new Redis(nodes.redis.url);
const monitor = await base.monitor();
const lines = [];
monitor.on("monitor", (time, args, source) => lines.push({ at: Number(time) * 1000, source, args }));
const names = new Map();
try {
  const local = (await a.kernel.spawn({ role: "specialist", workDir: a.workDir })).instance.id;
  const remote = (await a.kernel.spawn({ role: "specialist", workDir: a.workDir, node: "node-b" })).instance.id;
  for (let r = 0; r < rounds; r++) {
    for (const [kind, id] of [["local", local], ["remote", remote]]) {
      await a.kernel.read(id, { wait: true, timeoutMs: 10_000 });
      // Let the read's own commands reach the monitor before the window opens.
      await new Promise((resolve) => setTimeout(resolve, 50));
      lines.length = 0;
      const t0 = clock();
      const receipt = await a.kernel.send(id, `trace ${r}`);
      const t1 = clock();
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log(`\n== round ${r}, ${kind} send: ${(t1 - t0).toFixed(2)} ms, ${receipt.state}`);
      // Commands inside a script show as the "lua" client: they run in the EVALSHA before them.
      for (const line of lines.filter((l) => l.at <= t1 + 1 && l.source !== "lua")) {
        if (!names.has(line.source)) names.set(line.source, `c${names.size + 1}`);
        const args = line.args.map((x) => (x.length > 60 ? `${x.slice(0, 57)}...` : x)).join(" ");
        console.log(`${(line.at - t0).toFixed(2).padStart(8)}  ${names.get(line.source).padEnd(4)} ${args}`);
      }
      console.log(`${(t1 - t0).toFixed(2).padStart(8)}  (receipt)`);
    }
  }
} finally {
  monitor.disconnect();
  base.disconnect();
  await nodes.close();
  await cleanupAll();
}
