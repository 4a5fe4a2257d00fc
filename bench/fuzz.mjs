#!/usr/bin/env node
// npm run fuzz [-- --count 10000] [-- --seed 9] [-- --out file.json]
// Sends seeded hostile texts (paste markers, control characters, tmux and
// shell syntax, Unicode, long lines, line breaks) through the kernel to two
// echo agents that use bracketed paste (raw terminal, and signal keys on as
// readline leaves them) and counts per delivery: exact, mangled, extra
// submissions, lost, failed, signaled, and executed (a canary file or a file
// in the agents' workdir appeared). The same generator runs 1,000 inputs in
// `npm test` (packages/core/test/integration/paste-fuzz.test.ts).
// Exit 1 when anything but exact happened.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { logReader, runFuzz } from "@tmux-claude/testkit/paste-fuzz";
import { startKernel } from "./lib/setup.mjs";
import { ECHO_AGENT, NODE, ROOT, cleanupAll, cleanupSync, machineInfo, tempDir } from "./lib/util.mjs";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    seed: { type: "string", default: "9" },
    "send-timeout": { type: "string", default: "15000" },
    out: { type: "string", default: path.join(ROOT, "bench-results", "fuzz.json") },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write("Usage: npm run fuzz -- [--count N] [--seed S] [--send-timeout ms] [--out file.json]\n");
  process.exit(0);
}
const count = Number(values.count);
const seed = Number(values.seed);
const sendTimeout = Number(values["send-timeout"]);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || !(sendTimeout > 0)) {
  process.stderr.write(`--count and --send-timeout must be positive integers and --seed an integer (got ${values.count}, ${values["send-timeout"]}, ${values.seed}).\n`);
  process.exit(2);
}

process.once("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

const dir = tempDir("fuzz");
const canaryDir = path.join(dir, "canary");
mkdirSync(canaryDir);
const logs = { raw: path.join(dir, "raw.jsonl"), signals: path.join(dir, "signals.jsonl") };
const env = { raw: { ECHO_AGENT_LOG: logs.raw }, signals: { ECHO_AGENT_LOG: logs.signals, ECHO_AGENT_TTY: "signals" } };
const started = Date.now();
const k = await startKernel({
  label: "fuzz",
  dir,
  limits: { sendTimeout },
  agents: Object.fromEntries(Object.entries(env).map(([kind, vars]) => [`echo-${kind}`, { adapter: "command", command: NODE, args: [ECHO_AGENT], env: vars }])),
});
try {
  const targets = await Promise.all(
    Object.keys(env).map(async (kind) => {
      const spawn = async () => (await k.kernel.spawn({ role: "executive", agent: `echo-${kind}`, workDir: k.workDir })).instance.id;
      return { name: `echo-${kind}`, id: await spawn(), read: logReader(logs[kind]), spawn };
    }),
  );
  let last = Date.now();
  const result = await runFuzz({
    kernel: k.kernel,
    targets,
    workDirs: [k.workDir],
    seed,
    count,
    canaryDir,
    onProgress(totals) {
      if (Date.now() - last < 10_000) return;
      last = Date.now();
      process.stderr.write(`  ${totals.inputs}/${count} inputs, ${JSON.stringify(totals)}\n`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const { totals } = result;
  const report = { ...result, seconds, at: new Date().toISOString(), machine: await machineInfo() };
  mkdirSync(path.dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    `seed ${seed}, ${totals.inputs} inputs x ${targets.length} agents = ${totals.deliveries} deliveries in ${seconds.toFixed(0)} s\n` +
      `exact ${totals.exact}, mangled ${totals.mangled}, executed ${totals.executed}, extra submissions ${totals.extra}, ` +
      `lost ${totals.lost}, failed ${totals.failed}, signaled ${totals.signaled}\n` +
      `report: ${path.relative(process.cwd(), values.out)}\n`,
  );
  for (const problem of result.problems.slice(0, 10)) process.stdout.write(`  ${JSON.stringify(problem).slice(0, 400)}\n`);
  process.exitCode = totals.exact === totals.deliveries && totals.executed === 0 && totals.signaled === 0 ? 0 : 1;
} finally {
  await k.close();
  await cleanupAll();
}
