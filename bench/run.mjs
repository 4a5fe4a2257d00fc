#!/usr/bin/env node
// npm run bench [-- --quick] [-- --only spawn,send]
// Measures tmux-claude's hot paths against what tmux itself costs (the floor),
// each in the same run, on private tmux sockets with a fake agent. Prints a
// table and writes bench-results/latest.json. See BENCHMARKS.md.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { renderTable } from "./lib/rows.mjs";
import { ROOT, cleanupAll, cleanupSync, machineInfo } from "./lib/util.mjs";

const SCENARIOS = {
  spawn: () => import("./scenarios/latency.mjs").then((m) => m.spawn),
  send: () => import("./scenarios/latency.mjs").then((m) => m.send),
  read: () => import("./scenarios/latency.mjs").then((m) => m.read),
  list: () => import("./scenarios/list.mjs").then((m) => m.list),
  scale: () => import("./scenarios/scale.mjs").then((m) => m.scale),
  throughput: () => import("./scenarios/throughput.mjs").then((m) => m.throughput),
  mcp: () => import("./scenarios/mcp.mjs").then((m) => m.mcp),
  claude: () => import("./scenarios/claude.mjs").then((m) => m.claude),
  pool: () => import("./scenarios/pool.mjs").then((m) => m.pool),
  git: () => import("./scenarios/git.mjs").then((m) => m.git),
  "git-worktree": () => import("./scenarios/git-worktree.mjs").then((m) => m.gitWorktree),
  "merge-tree": () => import("./scenarios/merge-tree.mjs").then((m) => m.mergeTreeBench),
  merge: () => import("./scenarios/merge.mjs").then((m) => m.mergeBench),
  dashboard: () => import("./scenarios/dashboard.mjs").then((m) => m.dashboard),
  "redis-store": () => import("./scenarios/redis-store.mjs").then((m) => m.redisStore),
  "redis-events": () => import("./scenarios/redis-events.mjs").then((m) => m.redisEvents),
  "redis-bus": () => import("./scenarios/redis-bus.mjs").then((m) => m.redisBus),
  "redis-list": () => import("./scenarios/redis-list.mjs").then((m) => m.redisList),
};

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", multiple: true },
    out: { type: "string", default: path.join(ROOT, "bench-results", "latest.json") },
    markdown: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: false,
});

if (values.help) {
  process.stdout.write(
    `Usage: npm run bench -- [--quick] [--only <name>[,<name>...]] [--out <file>] [--markdown]\n` +
      `  --quick     fewer iterations; the idle CPU window is 5 s instead of 30 s\n` +
      `  --only      run only these: ${Object.keys(SCENARIOS).join(", ")}\n` +
      `  --out       where the JSON report goes (default bench-results/latest.json)\n` +
      `  --markdown  print the table as Markdown\n`,
  );
  process.exit(0);
}

const only = (values.only ?? []).flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
for (const name of only) {
  if (!(name in SCENARIOS)) {
    process.stderr.write(`Unknown benchmark "${name}". Known: ${Object.keys(SCENARIOS).join(", ")}\n`);
    process.exit(2);
  }
}
const selected = only.length ? Object.keys(SCENARIOS).filter((n) => only.includes(n)) : Object.keys(SCENARIOS);

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  // process.on, not once: a kernel in this process leaves a signal to other listeners only while one is there; with
  // ours gone after the first call it would close itself and re-raise the signal, ending us before the cleanup.
  process.on(signal, () => {
    if (interrupted) {
      // A second signal: stop now, still removing what can be removed synchronously (the exit handler).
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write(`\n${signal}: cleaning up tmux servers and temp dirs...\n`);
    cleanupAll().finally(() => process.exit(130));
  });
}
process.once("exit", () => cleanupSync());

const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const started = Date.now();
const machine = await machineInfo();
const git = await (async () => {
  const { execFileAsync } = await import("./lib/util.mjs");
  const run = (...args) => execFileAsync("git", args, { cwd: ROOT }).then((r) => r.stdout.trim(), () => undefined);
  const commit = await run("rev-parse", "HEAD");
  const dirty = await run("status", "--porcelain");
  return commit ? { commit, uncommittedFiles: dirty ? dirty.split("\n").length : 0 } : undefined;
})();
log(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.tmux}; load ${machine.loadAverageAtStart.join(" ")}`);
const rows = [];
const scenarioTimes = {};
let failed = false;
for (const name of selected) {
  if (interrupted) break;
  const t0 = Date.now();
  log(`${name}...`);
  try {
    const run = await SCENARIOS[name]();
    const out = await run({ quick: values.quick, log });
    rows.push(...out);
  } catch (error) {
    failed = true;
    log(`${name} failed: ${error?.stack ?? error}`);
    rows.push({ id: name, label: name, error: String(error?.message ?? error).split("\n")[0] });
  } finally {
    await cleanupAll();
  }
  scenarioTimes[name] = (Date.now() - t0) / 1000;
}

const report = {
  when: new Date().toISOString(),
  quick: values.quick,
  only: only.length ? selected : undefined,
  durationSeconds: (Date.now() - started) / 1000,
  scenarioSeconds: scenarioTimes,
  machine: { ...machine, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  git,
  core: process.env.BENCH_CORE ?? "@tmux-claude/core",
  rows,
};
mkdirSync(path.dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);

process.stdout.write(`\n${renderTable(rows, { markdown: values.markdown })}\n\n`);
const missed = rows.filter((r) => r.target && !r.target.pass).map((r) => r.id);
process.stdout.write(
  `${rows.filter((r) => r.target?.pass).length} targets met, ${missed.length} missed${missed.length ? ` (${missed.join(", ")})` : ""}` +
    `; ${rows.filter((r) => r.pending).length} pending. ${report.durationSeconds.toFixed(0)} s. Report: ${path.relative(process.cwd(), values.out) || values.out}\n`,
);
process.exitCode = failed ? 1 : 0;
