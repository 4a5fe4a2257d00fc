// Warm pools (config `pool`) with the real Claude Code (offline, against the
// stand-in model): a specialist spawned under a manager with its prompt, until
// the spawn resolves (ready, prompt accepted: Claude Code's UserPromptSubmit
// hook), taken from the pool against a cold spawn of the same. Floors, as in
// the claude scenario, on a raw tmux session with a shell-builtin hook:
//   cold: launch until ❯ shows, then send-keys -l + Enter until UserPromptSubmit;
//   pool: send-keys -l + Enter until UserPromptSubmit into a running Claude Code.
// Then a spawn with reuse "idle" gets the taken one back after /clear; its
// floor: /clear sent raw until the SessionStart hook, then a prompt as above.
// Every iteration waits for the pool to be full again before it measures, so a
// refill's launch never runs under a measurement.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startFloor, startKernel } from "../lib/setup.mjs";
import { targets, timedRow } from "../lib/rows.mjs";
import { killServer, now, tempDir } from "../lib/util.mjs";
import { API_KEY, HookLog, LEAKY } from "./claude.mjs";

export async function pool({ quick, log }) {
  const testkit = await import("@tmux-claude/testkit");
  const agentClaude = await import("@tmux-claude/agent-claude");
  const { claudeEnv, findClaudeBinary, prepareClaudeHome, StandInModel } = testkit;
  const bin = await findClaudeBinary(); // never installs: the benchmark stays offline
  const runs = quick ? 3 : 10;
  const dir = tempDir("pool");
  const work = path.join(dir, "work");
  const coldDir = path.join(work, "cold");
  mkdirSync(coldDir, { recursive: true });
  const model = await StandInModel.start();
  model.rule({ name: "bench", reply: { text: "ok" } });
  const home = await prepareClaudeHome({ dir: path.join(dir, "home"), apiKey: API_KEY, trustedDirs: [work], settings: { skipDangerousModePermissionPrompt: false } });
  const env = claudeEnv({ home, model, base: {} });
  for (const key of Object.keys(process.env)) if (LEAKY.test(key) && !(key in env)) env[key] = "";

  const logFile = path.join(dir, "floor.log");
  const settingsFile = path.join(dir, "floor-settings.json");
  const quote = (word) => `'${word.replaceAll("'", `'\\''`)}'`;
  const hooks = Object.fromEntries(["SessionStart", "UserPromptSubmit", "Stop"].map((name) => [name, [{ hooks: [{ type: "command", timeout: 10, command: `echo ${name} >> ${quote(logFile)}` }] }]]));
  writeFileSync(settingsFile, JSON.stringify({ hooks }));
  const floorHooks = new HookLog(logFile);

  const floor = await startFloor("pool");
  let k;
  try {
    k = await startKernel({
      label: "pool",
      plugins: [agentClaude.claude()],
      agents: { claude: { adapter: "claude", command: bin.path, env } },
      limits: { spawnTimeout: 60_000, sendTimeout: 30_000 },
      pool: { specialist: { count: 1, agent: "claude" } },
    });
    const { kernel } = k;
    // Resolves once a pooled instance is ready (afterSpawn of a pool fill fires when it is idle).
    let poolFilled;
    kernel.hooks.afterSpawn.tap("bench-pool", (record) => {
      if (record.pooled) poolFilled?.();
    });
    const filled = () => new Promise((resolve) => (poolFilled = resolve));
    const manager = (await kernel.spawn({ role: "manager", workDir: work, agent: "echo" })).instance;
    const pooledNow = async () => (await kernel.list()).some((r) => r.parentId === manager.id && r.pooled && r.status === "idle");
    const waitPool = async () => {
      const next = filled();
      if (!(await pooledNow())) await next;
    };

    const coldK = [], poolK = [], reuseK = [], coldFloor = [], sendFloor = [], reuseFloor = [];
    const sendToFloor = async (paneId, text) => {
      const from = floorHooks.events.length;
      const submitted = floorHooks.wait("UserPromptSubmit", from);
      const t0 = now();
      await floor.control.commands([
        ["send-keys", "-t", paneId, "-l", "--", text],
        ["send-keys", "-t", paneId, "Enter"],
      ]);
      const t = (await submitted) - t0;
      await floorHooks.wait("Stop", from);
      return t;
    };
    /** One specialist spawned with its prompt, timed until the spawn resolved; checked to come from `source`, its turn awaited. */
    const timedSpawn = async (workDir, source, text, reuse) => {
      await waitPool();
      const t0 = now();
      const spawned = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir, agent: "claude", prompt: text, reuse });
      const t = now() - t0;
      if (spawned.source !== source || spawned.receipt?.state !== "delivered") throw new Error(`a ${source} spawn came from ${spawned.source}, its prompt ${spawned.receipt?.state}`);
      await kernel.read(spawned.instance.id, { wait: true, timeoutMs: 30_000 });
      return { t, id: spawned.instance.id };
    };
    for (let i = 0; i < runs; i++) {
      const text = `bench pool prompt ${i}`;
      // Floor: a raw Claude Code launched until ❯, then its first prompt until UserPromptSubmit; a second prompt is the warm floor.
      const t0 = now();
      const { name, paneId } = await floor.spawnAgent({ env, program: [bin.path, "--settings", settingsFile], ready: /❯/u, timeoutMs: 60_000, cwd: work });
      const launched = now() - t0;
      coldFloor.push(launched + (await sendToFloor(paneId, text)));
      sendFloor.push(await sendToFloor(paneId, `${text} again`));
      // The reuse floor: /clear typed until Claude Code's SessionStart hook ran (the new conversation), then a prompt.
      const cleared = floorHooks.wait("SessionStart", floorHooks.events.length);
      const c0 = now();
      await floor.control.commands([
        ["send-keys", "-t", paneId, "-l", "--", "/clear"],
        ["send-keys", "-t", paneId, "Enter"],
      ]);
      const clearMs = (await cleared) - c0;
      reuseFloor.push(clearMs + (await sendToFloor(paneId, `${text} after clear`)));
      await floor.killSession(name);
      floor.control.forget(paneId);

      // Cold: a workDir no pool serves. Then from the pool.
      const cold = await timedSpawn(coldDir, "cold", text);
      coldK.push(cold.t);
      await kernel.terminate(cold.id);
      const warm = await timedSpawn(work, "pool", text);
      poolK.push(warm.t);
      // Reuse: the instance just taken, idle after its turn, its conversation reset (/clear) for the next prompt.
      const reused = await timedSpawn(work, "reuse", `${text} reused`, "idle");
      if (reused.id !== warm.id) throw new Error(`reuse took ${reused.id}, not the idle ${warm.id}`);
      reuseK.push(reused.t);
      await kernel.terminate(warm.id);
    }
    log(`pool: ${runs} cold, pooled and reusing spawns done`);
    const note = `Claude Code ${bin.version}; stand-in model on loopback; pool: { specialist: 1 }`;
    return [
      timedRow({
        id: "claude-spawn-cold-prompt",
        label: "Claude Code: cold spawn until its prompt is accepted",
        samples: coldK,
        floor: coldFloor,
        floorLabel: "raw tmux: launch until ❯, then send-keys until UserPromptSubmit",
        note,
      }),
      timedRow({
        id: "claude-spawn-pool-prompt",
        label: "Claude Code: spawn from the pool until its prompt is accepted",
        samples: poolK,
        floor: sendFloor,
        floorLabel: "send-keys -l + Enter into a running Claude Code until UserPromptSubmit",
        target: targets.atMost(50, "ms"),
        note,
      }),
      timedRow({
        id: "claude-spawn-reuse-prompt",
        label: "Claude Code: spawn reusing an idle one (/clear) until its prompt is accepted",
        samples: reuseK,
        floor: reuseFloor,
        floorLabel: "send-keys /clear + Enter until SessionStart, then a prompt until UserPromptSubmit",
        note: `${note}; /clear confirmed by SessionStart (source clear) before the prompt`,
      }),
    ];
  } finally {
    floorHooks.close();
    await floor.close().catch(() => undefined);
    await k?.close().catch(() => undefined);
    if (k) await killServer(k.socket);
    await killServer(floor.socket);
    await model.close().catch(() => undefined);
  }
}
