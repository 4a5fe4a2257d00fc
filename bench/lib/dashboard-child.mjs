// A kernel with the dashboard plugin in its own process (as `tmux-claude
// serve` / `monitor` run it), so the dashboard server's CPU is measured without
// the benchmark's browser driver mixed in. It reports, with timestamps on the
// shared clock (performance.timeOrigin + performance.now(), which the page
// uses too), every status change as the kernel's statusChange hook sees it and
// every output marker as the kernel's output subscription receives it.
// Driven over IPC: requests { n, op, ... } -> replies { n, ok, ... };
// events { event: "status" | "output", ... } at any time.
import { loadCore } from "./core.mjs";

const { Kernel, configSchema, createLogger } = await loadCore();
const { dashboard } = await import("@tmux-claude/plugin-dashboard");

const stamp = () => performance.timeOrigin + performance.now();
let kernel;
const subscriptions = [];

const ops = {
  async start({ config }) {
    const parsed = configSchema.parse({ ...config, plugins: [dashboard({ port: 0 })] });
    kernel = new Kernel({ config: parsed, watch: "all", logger: createLogger(config.logLevel ?? "error") });
    kernel.hooks.statusChange.tap("bench", (change) => {
      process.send({ event: "status", id: change.instance.id, to: change.to, t: stamp() });
    });
    await kernel.start();
    const api = kernel.plugin("dashboard");
    await api.listening();
    return { pid: process.pid, url: api.url() };
  },
  async spawn({ options }) {
    const { instance } = await kernel.spawn(options);
    return { id: instance.id, record: await kernel.get(instance.id) };
  },
  async send({ id, text }) {
    await kernel.send(id, text);
    return {};
  },
  /** Reports each `mark-<n>` as the kernel's output subscription (tmux's %output) delivers it. */
  async followOutput({ id }) {
    let tail = "";
    const subscription = await kernel.output(id, (chunk) => {
      const t = stamp();
      tail = (tail + chunk.toString("latin1")).slice(-256);
      for (const match of tail.matchAll(/mark-(\d+)\r?\n/gu)) process.send({ event: "output", marker: Number(match[1]), t });
      tail = tail.replace(/[^]*mark-\d+\r?\n/u, "");
    });
    subscriptions.push(subscription);
    return {};
  },
  async measure({ ms }) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const cpu = process.cpuUsage(cpu0);
    return { cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, wallMs: performance.now() - t0 };
  },
  async close() {
    for (const subscription of subscriptions) subscription.unsubscribe();
    await kernel?.close();
    return {};
  },
};

process.on("message", async (msg) => {
  try {
    const result = await ops[msg.op](msg);
    process.send({ n: msg.n, ok: true, ...result });
    if (msg.op === "close") process.disconnect();
  } catch (error) {
    process.send({ n: msg.n, ok: false, error: String(error?.stack ?? error) });
  }
});
