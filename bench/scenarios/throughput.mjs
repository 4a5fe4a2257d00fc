// 1000 messages over 10 instances: throughput, and none lost (checked in the agents' own logs).
import { readFileSync } from "node:fs";
import path from "node:path";
import { startFloor, startKernel } from "../lib/setup.mjs";
import { valueRow } from "../lib/rows.mjs";
import { killServer, now, tempDir } from "../lib/util.mjs";

const INSTANCES = 10;

/** Each instance logs to its own file, so order and loss can be checked per instance. */
function perInstanceLog(dir) {
  return {
    name: "bench-per-instance-log",
    apply(ctx) {
      ctx.hooks.beforeSpawn.tapPromise(async (plan) => ({ ...plan, env: { ...plan.env, ECHO_AGENT_LOG: path.join(dir, `${plan.id}.jsonl`) } }));
    },
  };
}

function verify(file, expected) {
  let lines = [];
  try {
    lines = readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).text);
  } catch {}
  const lost = expected.filter((t) => !lines.includes(t)).length;
  const inOrder = JSON.stringify(lines) === JSON.stringify(expected);
  return { received: lines.length, lost, inOrder };
}

export async function throughput({ quick, log }) {
  const total = quick ? 200 : 1000;
  const perInstance = total / INSTANCES;
  const logs = tempDir("throughput-logs");

  // ---- floor: 10 panes, each fed its messages one at a time (send-keys + Enter, wait for the
  // agent's answer and prompt), the 10 panes in parallel.
  const floor = await startFloor("throughput");
  let floorWall;
  let floorCheck;
  try {
    const panes = [];
    for (let p = 0; p < INSTANCES; p++) panes.push(await floor.newWindowAgent({ env: { ECHO_AGENT_LOG: path.join(logs, `floor-${p}.jsonl`) } }));
    await Promise.all(panes.map((paneId) => floor.control.waitOutput(paneId, (s) => /\n> $/u.test(s))));
    const c = floor.control;
    const t0 = now();
    await Promise.all(
      panes.map(async (paneId, p) => {
        for (let i = 0; i < perInstance; i++) {
          const text = `floor ${p} message ${i}`;
          const offset = c.offset(paneId);
          await c.commands([
            ["send-keys", "-t", paneId, "-l", "--", text],
            ["send-keys", "-t", paneId, "Enter"],
          ]);
          await c.waitOutput(paneId, (s) => s.includes(`echo: ${text}`) && s.endsWith("> "), { offset });
        }
      }),
    );
    floorWall = now() - t0;
    floorCheck = panes.map((_, p) =>
      verify(path.join(logs, `floor-${p}.jsonl`), Array.from({ length: perInstance }, (_, i) => `floor ${p} message ${i}`)),
    );
    log(`throughput: floor delivered ${total} in ${floorWall.toFixed(0)} ms`);
  } finally {
    await floor.close();
    await killServer(floor.socket);
  }

  // ---- kernel: all sends issued at once (a busy agent's messages queue); wait for the last of each instance.
  const k = await startKernel({ label: "throughput", plugins: [perInstanceLog(logs)] });
  try {
    const ids = [];
    for (let p = 0; p < INSTANCES; p++) ids.push((await k.kernel.spawn({ role: "specialist", workDir: k.workDir })).instance.id);
    const t0 = now();
    const sends = [];
    for (let i = 0; i < perInstance; i++) {
      for (const id of ids) sends.push(k.kernel.send(id, `${id} message ${i}`));
    }
    const receipts = await Promise.all(sends);
    const tQueued = now() - t0;
    const lastOf = new Map();
    for (const r of receipts) lastOf.set(r.instanceId, r);
    await Promise.all([...lastOf.values()].map((r) => (r.state === "queued" ? k.kernel.waitDelivered(r, 300_000) : undefined)));
    const wall = now() - t0;
    const delivered = receipts.filter((r) => r.state === "delivered").length;
    const checks = ids.map((id) => verify(path.join(logs, `${id}.jsonl`), Array.from({ length: perInstance }, (_, i) => `${id} message ${i}`)));
    const lost = checks.reduce((a, c) => a + c.lost, 0);
    const outOfOrder = checks.filter((c) => !c.inOrder).length;
    const floorLost = floorCheck.reduce((a, c) => a + c.lost, 0);
    log(`throughput: kernel delivered ${total} in ${wall.toFixed(0)} ms (all send() calls returned after ${tQueued.toFixed(0)} ms); lost ${lost}`);
    return [
      valueRow({
        id: "throughput",
        label: `${total} messages over ${INSTANCES} instances`,
        value: total / (wall / 1000),
        unit: "msgs/s",
        floor: total / (floorWall / 1000),
        floorLabel: "send-keys + Enter per message, next one when the agent answered, 10 panes in parallel",
        note:
          `lost ${lost}, instances out of order ${outOfOrder} (floor lost ${floorLost}); wall ${(wall / 1000).toFixed(2)} s vs floor ${(floorWall / 1000).toFixed(2)} s; ` +
          `${delivered} delivered at once, ${total - delivered} queued; send() calls all returned after ${tQueued.toFixed(0)} ms`,
        target: { text: "none lost, in order", pass: lost === 0 && outOfOrder === 0 },
        extra: { lost, outOfOrder, floorLost, wallMs: wall, floorWallMs: floorWall },
      }),
    ];
  } finally {
    await k.close();
    await killServer(k.socket);
  }
}
