// A kernel in its own process (as `tmux-claude serve` runs it), so its CPU and
// memory can be measured without the benchmark's own work mixed in.
// Driven over IPC (see forkKernel in setup.mjs): { op: "start", config, redis? } -> { ok, pid, instances }
// (`redis`: the redis plugin's options, for a node of several on one Redis);
// { op: "spawn", count, options } -> { ids } (that many kernel.spawn at once, on this node);
// { op: "measure", ms } -> { cpuUserMs, cpuSystemMs, wallMs, rss, maxRss, heapUsed }; { op: "close" }.
import { loadCore } from "./core.mjs";

const { Kernel, configSchema, createLogger } = await loadCore();

let kernel;

// The benchmark went away without closing us (killed): close the kernel and end, instead of failing to answer it.
process.once("disconnect", () => {
  void Promise.resolve(kernel?.close()).finally(() => process.exit(0));
});

process.on("message", async (msg) => {
  try {
    if (msg.op === "start") {
      // Plugins are functions and do not cross IPC: the redis plugin is built here from its options.
      const plugins = msg.redis ? [(await import("@tmux-claude/plugin-redis")).redis(msg.redis)] : [];
      const config = configSchema.parse({ ...msg.config, plugins });
      kernel = await Kernel.start({ config, watch: "all", logger: createLogger(msg.config.logLevel ?? "error") });
      const list = await kernel.list();
      process.send({ ok: true, pid: process.pid, instances: list.length, statuses: count(list.map((r) => r.status)) });
    } else if (msg.op === "spawn") {
      const spawned = await Promise.all(Array.from({ length: msg.count }, () => kernel.spawn(msg.options)));
      process.send({ ok: true, ids: spawned.map((s) => s.instance.id) });
    } else if (msg.op === "measure") {
      // BENCH_CPU_PROF=<dir>: a CPU profile of exactly the measured window (node:inspector).
      const profiler = process.env.BENCH_CPU_PROF ? await startProfiler() : undefined;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((resolve) => setTimeout(resolve, msg.ms));
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - t0;
      if (profiler) await profiler.stop();
      const mem = process.memoryUsage();
      const list = await kernel.list();
      process.send({
        ok: true,
        cpuUserMs: cpu.user / 1000,
        cpuSystemMs: cpu.system / 1000,
        wallMs,
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        maxRss: process.resourceUsage().maxRSS * 1024,
        statuses: count(list.map((r) => r.status)),
      });
    } else if (msg.op === "close") {
      await kernel?.close();
      process.send({ ok: true });
      process.disconnect();
    }
  } catch (error) {
    process.send({ ok: false, error: String(error?.stack ?? error) });
  }
});

async function startProfiler() {
  const { Session } = await import("node:inspector");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  const path = await import("node:path");
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  await post("Profiler.enable");
  await post("Profiler.start");
  return {
    async stop() {
      const { profile } = await post("Profiler.stop");
      const dir = process.env.BENCH_CPU_PROF;
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `idle-kernel-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      process.stderr.write(`[kernel-child] CPU profile of the idle window: ${file}\n`);
    },
  };
}

function count(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
