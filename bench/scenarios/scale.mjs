// 100 concurrent spawns, list with 100 live instances, and a kernel's idle
// cost while it watches 100 idle instances (in its own process).
import path from "node:path";
import { forkKernel, startFloor, startKernel } from "../lib/setup.mjs";
import { timedRow, valueRow, targets } from "../lib/rows.mjs";
import { childPids, killServer, now, procCpuSeconds, procRssBytes, sleep, tmuxServerPid } from "../lib/util.mjs";

const N = 100;

export async function scale({ quick, log }) {
  const idleMs = quick ? 5_000 : 30_000;
  const rows = [];

  // ---- floor: 100 agents started by one write of 100 new-window commands, until every prompt shows.
  const floor = await startFloor("scale");
  let floorWall;
  try {
    const env = { ECHO_AGENT_LOG: "/dev/null" };
    await floor.control.command("switch-client", "-t", "=base");
    const { agentArgv } = await import("../lib/setup.mjs");
    const argv = agentArgv(env);
    const t0 = now();
    const replies = await floor.control.commands(
      Array.from({ length: N }, () => ["new-window", "-d", "-t", "base:", "-P", "-F", "#{pane_id}", "--", ...argv]),
    );
    await Promise.all(replies.map(([paneId]) => floor.control.waitOutput(paneId, (s) => /\n> $/u.test(s), { timeoutMs: 120_000 })));
    floorWall = now() - t0;
    log(`scale: floor started ${N} agents in ${floorWall.toFixed(0)} ms`);
  } finally {
    await floor.close();
    await killServer(floor.socket);
  }
  await sleep(1_000); // let the floor's agents die before the kernel's run

  // ---- kernel: 100 concurrent kernel.spawn calls.
  const k = await startKernel({ label: "scale", limits: { maxInstances: 2 * N } });
  let child;
  try {
    const t0 = now();
    const results = await Promise.allSettled(
      Array.from({ length: N }, () => k.kernel.spawn({ role: "specialist", workDir: k.workDir })),
    );
    const wall = now() - t0;
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length) throw new Error(`${failed.length} of ${N} concurrent spawns failed; first: ${failed[0].reason?.message}`);
    log(`scale: kernel spawned ${N} instances in ${wall.toFixed(0)} ms`);
    rows.push(
      valueRow({
        id: "spawn-100",
        label: `${N} concurrent spawns (wall)`,
        value: wall,
        unit: "ms",
        floor: floorWall,
        floorLabel: `${N} new-window commands in one write, until every prompt shows`,
        target: targets.value(3000, "ms"),
      }),
    );

    // ---- list with 100 live instances (watched, records in the store).
    const samples = [];
    for (let i = 0; i < (quick ? 30 : 100) + 5; i++) {
      const t1 = now();
      const list = await k.kernel.list();
      if (i >= 5) samples.push(now() - t1);
      if (list.length !== N) throw new Error(`list returned ${list.length}, expected ${N}`);
    }
    rows.push(timedRow({ id: "list-100-live", label: `list (${N} live instances)`, samples, target: targets.atMost(2, "ms") }));

    // ---- idle: the same 100 instances, watched by a kernel in its own process.
    await k.close();
    child = forkKernel();
    const ask = child.ask;
    const { plugins: _plugins, ...serializable } = k.userConfig;
    const started = await ask({ op: "start", config: { ...serializable, logLevel: "error" } });
    log(`scale: kernel process ${started.pid} watches ${started.instances} instances (${JSON.stringify(started.statuses)}); settling`);
    await sleep(3_000);
    const serverPid = await tmuxServerPid(k.socket);
    const [clientPid] = childPids(started.pid, "tmux");
    const server0 = procCpuSeconds(serverPid);
    const client0 = clientPid ? procCpuSeconds(clientPid) : NaN;
    const w0 = now();
    const m = await ask({ op: "measure", ms: idleMs }, idleMs + 60_000);
    const wallS = (now() - w0) / 1000;
    const serverCpu = ((procCpuSeconds(serverPid) - server0) / wallS) * 100;
    const clientCpu = clientPid ? ((procCpuSeconds(clientPid) - client0) / wallS) * 100 : NaN;
    const serverRss = procRssBytes(serverPid) / 2 ** 20;
    const kernelCpu = ((m.cpuUserMs + m.cpuSystemMs) / m.wallMs) * 100;
    log(`scale: idle ${(m.wallMs / 1000).toFixed(1)} s: kernel ${kernelCpu.toFixed(3)} %, tmux server ${serverCpu.toFixed(3)} %, statuses ${JSON.stringify(m.statuses)}`);
    rows.push(
      valueRow({
        id: "idle-cpu",
        label: `idle CPU, kernel watching ${N} instances (${(m.wallMs / 1000).toFixed(0)} s)`,
        value: kernelCpu,
        unit: "%",
        floor: serverCpu,
        floorLabel: "tmux server CPU over the same window (/proc/<pid>/stat)",
        target: targets.value(1, "%"),
        note: `% of one core; kernel user ${m.cpuUserMs.toFixed(0)} ms + system ${m.cpuSystemMs.toFixed(0)} ms; its tmux -C client ${clientCpu.toFixed(3)} %`,
        extra: { kernelTmuxClientCpu: clientCpu, statuses: m.statuses },
      }),
      valueRow({
        id: "idle-rss",
        label: `kernel RSS watching ${N} instances`,
        value: m.rss / 2 ** 20,
        unit: "MB",
        floor: serverRss,
        floorLabel: "tmux server RSS",
        target: targets.value(100, "MB"),
        note: `heap used ${(m.heapUsed / 2 ** 20).toFixed(1)} MB, max RSS ${(m.maxRss / 2 ** 20).toFixed(1)} MB; a bare node process is ~40 MB`,
      }),
    );
  } finally {
    await child?.close();
    await k.close().catch(() => undefined);
    await killServer(k.socket);
  }
  return rows;
}
