// A kernel with the dashboard plugin in its own process (as `tmux-claude
// serve` / `monitor` run it), so the dashboard server's CPU is measured without
// the benchmark's browser driver mixed in. It reports, with timestamps on the
// shared clock (performance.timeOrigin + performance.now(), which the page
// uses too), every status change when the store's change feed shows it (the
// kernel writes the status, then runs its statusChange hook, so the feed is
// the earliest kernel-side moment) and every output marker as the kernel's
// output subscription receives it.
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
    await kernel.start();
    followStatuses();
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
      for (const match of tail.matchAll(/mark-(\d+)\r*\n/gu)) process.send({ event: "output", marker: Number(match[1]), t });
      tail = tail.replace(/[^]*mark-\d+\r*\n/u, "");
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

/** Reads go one after another, so the statuses are reported in the order of the writes. */
function followStatuses() {
  // KernelApi.watch (d-kernel); before it, the store's own watch, as the dashboard does.
  const watch = kernel.watch ? (listener) => kernel.watch(listener) : (listener) => kernel.store.watch(listener);
  const last = new Map();
  let chain = Promise.resolve();
  watch((change) => {
    if (change.kind !== "instance") return;
    const t = stamp();
    chain = chain.then(async () => {
      const record = await kernel.get(change.id).catch(() => undefined);
      if (!record || last.get(change.id) === record.status) return;
      last.set(change.id, record.status);
      process.send({ event: "status", id: change.id, to: record.status, t });
    });
  });
}

process.on("message", async (msg) => {
  try {
    const result = await ops[msg.op](msg);
    process.send({ n: msg.n, ok: true, ...result });
    if (msg.op === "close") process.disconnect();
  } catch (error) {
    process.send({ n: msg.n, ok: false, error: String(error?.stack ?? error) });
  }
});
