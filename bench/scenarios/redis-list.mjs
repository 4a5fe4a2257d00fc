// `list` with 300 live instances over 3 nodes on one Redis (the issue's
// target: <= 20 ms), against the floor of reading every record straight from
// Redis in one round trip (MGET of the 300 record keys) and parsing them.
//
// Everything is real: node A is a serving kernel in this process, nodes B and
// C serving kernels in their own processes (bench/lib/redis-nodes.mjs), and
// each node spawns 100 instances of a cheap `command` agent (`/bin/sh -i`,
// whose `$ ` prompt is the command adapter's idle prompt) in its own tmux.
// Measured on node A: kernel.list() of its serve, and the CLI's
// `list --json` (its main() in this process: config, a one-shot kernel that
// connects to Redis, list, JSON, close; and the whole process once per
// iteration, against the same CLI process printing its version).
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { startRedisNodes } from "../lib/redis-nodes.mjs";
import { timedRow, targets } from "../lib/rows.mjs";
import { ROOT, now } from "../lib/util.mjs";

const execFileAsync = promisify(execFile);
const PER_NODE = 100;
const CLI_BIN = path.join(ROOT, "packages/cli/dist/bin.js");
const PLUGIN = path.join(ROOT, "packages/plugin-redis/dist/index.js");

export async function redisList({ quick, log }) {
  const iterations = quick ? 30 : 100;
  const cliIterations = quick ? 10 : 30;
  const total = 3 * PER_NODE;
  const agents = { sh: { adapter: "command", command: "/bin/sh", args: ["-i"] } };
  const nodes = await startRedisNodes({ label: "list", others: ["node-b", "node-c"], agents, limits: { maxInstances: total + 10, spawnTimeout: 120_000 } });
  const { a } = nodes;
  const { Redis } = await import("ioredis");
  const raw = new Redis(nodes.redis.url);
  const rows = [];
  try {
    const t0 = now();
    const options = { role: "specialist", workDir: a.workDir, agent: "sh" };
    await Promise.all([
      Promise.all(Array.from({ length: PER_NODE }, () => a.kernel.spawn(options))),
      ...nodes.nodes.map((node) => node.child.ask({ op: "spawn", count: PER_NODE, options }, 300_000)),
    ]);
    log(`redis-list: ${total} instances spawned on 3 nodes in ${((now() - t0) / 1000).toFixed(1)} s`);

    const keys = (await raw.smembers(`${nodes.redisOptions.prefix}:records`)).map((id) => `${nodes.redisOptions.prefix}:record:${id}`);
    if (keys.length !== total) throw new Error(`${keys.length} records in Redis, expected ${total}`);
    const floor = async () => (await raw.mget(keys)).map((json) => JSON.parse(json));
    const check = (list) => {
      const byNode = {};
      for (const i of list) if (i.status !== "exited" && !i.unreachable) byNode[i.tmux.node] = (byNode[i.tmux.node] ?? 0) + 1;
      if (list.length !== total || Object.values(byNode).some((n) => n !== PER_NODE)) throw new Error(`list: ${list.length} instances, live by node ${JSON.stringify(byNode)}`);
    };

    // kernel.list() of node A's serve, interleaved with the floor.
    const listK = [], listF = [], mgetOnly = [];
    for (let i = 0; i < 5 + iterations; i++) {
      let t = now();
      const list = await a.kernel.list();
      const tk = now() - t;
      t = now();
      await floor();
      const tf = now() - t;
      t = now();
      await raw.mget(keys);
      const tm = now() - t;
      if (i === 0) check(list);
      if (i >= 5) listK.push(tk), listF.push(tf), mgetOnly.push(tm);
    }
    log(`redis-list: kernel.list ${iterations} iterations done`);
    const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const record = keys.length ? (await raw.get(keys[0])).length : 0;
    rows.push(
      timedRow({
        id: "redis-list-300",
        label: `list, ${total} live instances over 3 nodes (serve's kernel.list)`,
        samples: listK,
        floor: listF,
        floorLabel: "MGET of the 300 records + JSON.parse",
        target: targets.atMost(20, "ms"),
        note: `MGET alone ${median(mgetOnly).toFixed(2)} ms; a record is ~${record} bytes of JSON`,
      }),
    );

    // The CLI's `list --json` on node A: in this process (main), and as its own process.
    const configFile = path.join(a.dir, "cli.config.mjs");
    const { plugins: _none, ...config } = a.userConfig;
    writeFileSync(configFile, `import { redis } from ${JSON.stringify(PLUGIN)};\nexport default { ...${JSON.stringify(config)}, plugins: [redis(${JSON.stringify(nodes.redisOptions)})] };\n`);
    const { main } = await import("tmux-claude");
    const argv = ["node", "tmux-claude", "--config", configFile, "list", "--json"];
    const runMain = async () => {
      let out = "";
      const stdout = new Writable({ write: (chunk, _enc, done) => ((out += chunk), done()) });
      const code = await main(argv, { stdout });
      if (code !== 0) throw new Error(`tmux-claude list --json exited ${code}`);
      return out;
    };
    const cliMain = [], cliFloor = [];
    for (let i = 0; i < 2 + cliIterations; i++) {
      let t = now();
      const out = await runMain();
      const tk = now() - t;
      t = now();
      await floor();
      const tf = now() - t;
      if (i === 0) check(JSON.parse(out));
      if (i >= 2) cliMain.push(tk), cliFloor.push(tf);
    }
    rows.push(
      timedRow({
        id: "redis-list-300-cli",
        label: `CLI list --json, ${total} instances over 3 nodes (main() in-process)`,
        samples: cliMain,
        floor: cliFloor,
        floorLabel: "MGET of the 300 records + JSON.parse",
        note: "config loaded, a one-shot kernel started (Redis connected; node A's serve is live, so its 100 instances are not looked at again), list, JSON printed, kernel closed",
      }),
    );
    const cliProcess = [], versionProcess = [];
    for (let i = 0; i < 1 + Math.ceil(cliIterations / 3); i++) {
      let t = now();
      const { stdout } = await execFileAsync(process.execPath, [CLI_BIN, ...argv.slice(2)], { maxBuffer: 64 * 2 ** 20 });
      const tk = now() - t;
      t = now();
      await execFileAsync(process.execPath, [CLI_BIN, "--version"]);
      const tf = now() - t;
      if (i === 0) check(JSON.parse(stdout));
      if (i >= 1) cliProcess.push(tk), versionProcess.push(tf);
    }
    log(`redis-list: CLI ${cliIterations} + ${cliProcess.length} iterations done`);
    rows.push(
      timedRow({
        id: "redis-list-300-cli-process",
        label: `tmux-claude list --json process, ${total} instances over 3 nodes`,
        samples: cliProcess,
        floor: versionProcess,
        floorLabel: "tmux-claude --version process (Node start, CLI loaded)",
      }),
    );
  } finally {
    raw.disconnect();
    await nodes.close();
  }
  return rows;
}
