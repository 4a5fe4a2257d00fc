// Single-operation latencies, each interleaved with its tmux floor in the same run.
import path from "node:path";
import { startFloor, startKernel } from "../lib/setup.mjs";
import { timedRow, targets } from "../lib/rows.mjs";
import { killServer, now } from "../lib/util.mjs";

/** kernel.spawn (until ready) and kernel.terminate, vs new-session + prompt and kill-session. */
export async function spawn({ quick, log }) {
  const iterations = quick ? 6 : 20;
  const warmup = 2;
  const k = await startKernel({ label: "spawn" });
  const floor = await startFloor("spawn");
  const floorLog = path.join(k.dir, "floor.jsonl");
  const spawnK = [], spawnF = [], termK = [], termF = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const measured = i >= warmup;
      const doKernel = async () => {
        let t0 = now();
        const { instance } = await k.kernel.spawn({ role: "specialist", workDir: k.workDir });
        const ts = now() - t0;
        t0 = now();
        await k.kernel.terminate(instance.id);
        const tt = now() - t0;
        if (measured) spawnK.push(ts), termK.push(tt);
      };
      const doFloor = async () => {
        let t0 = now();
        const { name, paneId } = await floor.spawnAgent({ env: { ECHO_AGENT_LOG: floorLog }, cwd: k.workDir });
        const ts = now() - t0;
        t0 = now();
        await floor.killSession(name);
        const tt = now() - t0;
        floor.control.forget(paneId);
        if (measured) spawnF.push(ts), termF.push(tt);
      };
      // Alternate the order so neither side always runs on a warmer machine.
      if (i % 2) {
        await doKernel();
        await doFloor();
      } else {
        await doFloor();
        await doKernel();
      }
    }
    log(`spawn: ${iterations} iterations done`);
  } finally {
    await floor.close();
    await k.close();
    await killServer(floor.socket);
    await killServer(k.socket);
  }
  return [
    timedRow({
      id: "spawn",
      label: "spawn until ready (echo agent)",
      samples: spawnK,
      floor: spawnF,
      floorLabel: "control-mode new-session + wait for prompt on %output",
      target: targets.floorPlus(10),
    }),
    timedRow({
      id: "terminate",
      label: "terminate (echo agent)",
      samples: termK,
      floor: termF,
      floorLabel: "control-mode kill-session (tmux SIGHUPs the pane, does not wait)",
      note: "kernel: beforeTerminate, process-tree walk of /proc, SIGHUP/SIGTERM, wait for the window to close, kill-session, delete record",
    }),
  ];
}

/** kernel.send until its receipt vs send-keys -l + Enter until the agent echoes the line break. */
export async function send({ quick, log }) {
  const iterations = quick ? 20 : 60;
  const warmup = 3;
  const k = await startKernel({ label: "send" });
  const floor = await startFloor("send");
  const sendK = [], sendF = [];
  let queued = 0;
  try {
    const { instance } = await k.kernel.spawn({ role: "specialist", workDir: k.workDir });
    const { paneId } = await floor.spawnAgent({ env: { ECHO_AGENT_LOG: path.join(k.dir, "floor.jsonl") } });
    const c = floor.control;
    for (let i = 0; i < warmup + iterations; i++) {
      const measured = i >= warmup;
      const text = `bench message ${i} with some words in it`;
      const doKernel = async () => {
        // Start from an idle agent (the last message's turn is over).
        await k.kernel.read(instance.id, { wait: true, timeoutMs: 10_000 });
        const t0 = now();
        const receipt = await k.kernel.send(instance.id, text);
        const t = now() - t0;
        if (receipt.state !== "delivered") queued++;
        else if (measured) sendK.push(t);
      };
      const doFloor = async () => {
        const offset = c.offset(paneId);
        const t0 = now();
        // The cheapest possible delivery: both commands in one write, then the receipt (the echoed line break).
        await c.commands([
          ["send-keys", "-t", paneId, "-l", "--", text],
          ["send-keys", "-t", paneId, "Enter"],
        ]);
        await c.waitOutput(paneId, (s) => s.includes("\n"), { offset });
        const t = now() - t0;
        if (measured) sendF.push(t);
        // Let the agent finish its turn before the next message (not timed).
        await c.waitOutput(paneId, (s) => s.includes(`echo: ${text}`) && s.endsWith("> "), { offset });
      };
      if (i % 2) {
        await doKernel();
        await doFloor();
      } else {
        await doFloor();
        await doKernel();
      }
    }
    log(`send: ${iterations} iterations done`);
  } finally {
    await floor.close();
    await k.close();
    await killServer(floor.socket);
    await killServer(k.socket);
  }
  return [
    timedRow({
      id: "send",
      label: "send until receipt (echo agent)",
      samples: sendK,
      floor: sendF,
      floorLabel: "send-keys -l + Enter (one write) until the agent echoes the line break on %output",
      target: targets.floorPlus(2),
      note: queued ? `${queued} sends were queued (agent not idle) and not timed` : undefined,
    }),
  ];
}

/** kernel.read (no wait) of an idle instance vs a raw capture-pane of 40 lines. */
export async function read({ quick, log }) {
  const iterations = quick ? 100 : 400;
  const k = await startKernel({ label: "read" });
  const floor = await startFloor("read");
  const readK = [], readF = [];
  try {
    const { instance } = await k.kernel.spawn({ role: "specialist", workDir: k.workDir });
    const { paneId } = await floor.spawnAgent({ env: { ECHO_AGENT_LOG: path.join(k.dir, "floor.jsonl") } });
    for (let i = 0; i < 20 + iterations; i++) {
      let t0 = now();
      await k.kernel.read(instance.id);
      const tk = now() - t0;
      t0 = now();
      await floor.control.command("capture-pane", "-p", "-J", "-t", paneId, "-S", "-40");
      const tf = now() - t0;
      if (i >= 20) readK.push(tk), readF.push(tf);
    }
    log(`read: ${iterations} iterations done`);
  } finally {
    await floor.close();
    await k.close();
    await killServer(floor.socket);
    await killServer(k.socket);
  }
  return [
    timedRow({
      id: "read",
      label: "read (no wait, 40 lines)",
      samples: readK,
      floor: readF,
      floorLabel: "control-mode capture-pane -p -J -S -40",
      target: targets.atMost(2, "ms"),
    }),
  ];
}
