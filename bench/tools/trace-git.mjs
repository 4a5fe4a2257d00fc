// Where a spawn with the git plugin spends its time: every child process (git) it starts,
// with its argv and duration, in ms since spawn() was called.
//   npx turbo run build && node bench/tools/trace-git.mjs [--rounds N]
import childProcess from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { startKernel } from "../lib/setup.mjs";
import { cleanupAll, execFileAsync, now, tempDir } from "../lib/util.mjs";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
let t0 = 0;
let trace = [];
const spawn = childProcess.spawn;
childProcess.spawn = function (command, args, ...rest) {
  const start = now();
  const child = spawn.call(this, command, args, ...rest);
  if (t0) child.once("close", () => trace.push([start - t0, now() - t0, `${path.basename(command)} ${(args ?? []).join(" ").slice(0, 110)}`]));
  return child;
};
syncBuiltinESMExports();
const { git } = await import("@tmux-claude/plugin-git");

const dir = tempDir("trace-git");
const repo = path.join(dir, "repo");
mkdirSync(repo, { recursive: true });
const run = (...args) => execFileAsync("git", args, { cwd: repo });
await run("init", "-q", "-b", "main");
await run("config", "user.name", "Bench");
await run("config", "user.email", "bench@example.invalid");
for (let f = 0; f < 200; f++) writeFileSync(path.join(repo, `file${f}.txt`), `file ${f}\n`);
await run("add", "-A");
await run("commit", "-q", "-m", "initial");
const k = await startKernel({ label: "trace-git", plugins: [git()], dir: path.join(dir, "k") });
k.kernel.hooks.beforeSpawn.tapPromise?.("trace", async (plan) => (trace.push([now() - t0, undefined, "beforeSpawn (last tap)"]), plan));
try {
  const totals = [];
  for (let i = 0; i < Number(values.rounds); i++) {
    trace = [];
    t0 = now();
    const { instance } = await k.kernel.spawn({ role: "specialist", workDir: repo });
    trace.push([now() - t0, undefined, "spawn returned"]);
    totals.push(now() - t0);
    t0 = 0;
    await k.kernel.terminate(instance.id);
  }
  for (const [s, e, what] of trace.sort((a, b) => a[0] - b[0])) console.log(`${s.toFixed(2).padStart(8)} ${e === undefined ? "        " : e.toFixed(2).padStart(8)}  ${what}`);
  console.log(`spawns: ${totals.map((t) => t.toFixed(1)).join(" ")} ms`);
} finally {
  await k.close();
  await cleanupAll();
}
