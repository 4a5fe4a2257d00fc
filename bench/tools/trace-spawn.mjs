// Timeline of one kernel.spawn of the echo agent: every tmux command (start/end),
// the agent's output and the status changes, in ms since spawn() was called.
//   npx turbo run build && node bench/tools/trace-spawn.mjs
import { startKernel } from "../lib/setup.mjs";
import { cleanupAll, now } from "../lib/util.mjs";

const k = await startKernel({ label: "trace" });
try {
  const rt = k.kernel.runtime;
  let t0 = 0;
  let trace = [];
  const command = rt.command.bind(rt);
  rt.command = async (...args) => {
    const start = now() - t0;
    try {
      return await command(...args);
    } finally {
      trace.push([start, now() - t0, `tmux ${args[0]}`]);
    }
  };
  rt.on("output", (_pane, data) => t0 && trace.push([now() - t0, undefined, `output ${JSON.stringify(data.toString().slice(-24))}`]));
  k.kernel.hooks.statusChange.tap("trace", ({ to }) => trace.push([now() - t0, undefined, `status ${to}`]));
  for (let i = 0; i < 3; i++) {
    trace = [];
    t0 = now();
    const { instance } = await k.kernel.spawn({ role: "specialist", workDir: k.workDir });
    trace.push([now() - t0, undefined, "spawn returned"]);
    t0 = 0;
    if (i === 2) {
      for (const [s, e, what] of trace.sort((a, b) => a[0] - b[0])) console.log(`${s.toFixed(2).padStart(8)} ${e === undefined ? "        " : e.toFixed(2).padStart(8)}  ${what}`);
    }
    await k.kernel.terminate(instance.id);
  }
} finally {
  await k.close();
  await cleanupAll();
}
