// The git plugin's worktree spawn overhead: the time its beforeSpawn tap
// takes (repository facts, base, `git worktree add -b`, state written) vs raw
// `git worktree add -b` of the same repository, interleaved in the same run.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startKernel } from "../lib/setup.mjs";
import { timedRow, targets, valueRow } from "../lib/rows.mjs";
import { execFileAsync, killServer, now, summarize, tempDir } from "../lib/util.mjs";

const FILES = 100;

const git = (cwd, ...args) => execFileAsync("git", args, { cwd, maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout.trim());

/** A repository of FILES small files in 100 directories, one commit. */
async function makeRepo(dir) {
  mkdirSync(dir, { recursive: true });
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "config", "user.name", "bench");
  await git(dir, "config", "user.email", "bench@example.invalid");
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, `d${i % 100}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `f${i}.txt`), `file ${i}\n`);
  }
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "files");
}

/**
 * Times the plugins between a first and a last beforeSpawn tap, and right
 * beside them the floor: a raw `git worktree add -b` of the same repository,
 * in the same process at the same moment. Whichever of two worktree adds in a
 * row comes second is measurably slower on this machine (the first one's
 * writes), so the floor goes first on odd spawns and second on even ones.
 */
function stopwatch(repo, floorRoot) {
  const started = new Map();
  const samples = new Map();
  const floors = new Map();
  const floorFirst = new Map();
  let count = 0;
  const floor = async (id) => {
    const t0 = now();
    await git(repo, "worktree", "add", "-q", "--no-track", "-b", `floor/${id}`, path.join(floorRoot, id), "HEAD");
    floors.set(id, now() - t0);
  };
  return {
    samples,
    floors,
    floorFirst,
    plugin: {
      name: "bench-stopwatch",
      apply(ctx) {
        ctx.hooks.beforeSpawn.tapPromise({ stage: -1000 }, async (plan) => {
          floorFirst.set(plan.id, ++count % 2 === 1);
          if (floorFirst.get(plan.id)) await floor(plan.id);
          started.set(plan.id, now());
          return plan;
        });
        ctx.hooks.beforeSpawn.tapPromise({ stage: 1000 }, async (plan) => {
          samples.set(plan.id, now() - started.get(plan.id));
          if (!floorFirst.get(plan.id)) await floor(plan.id);
          return plan;
        });
      },
    },
  };
}

export async function gitWorktree({ quick, log }) {
  const { git: gitPlugin } = await import("@tmux-claude/plugin-git");
  const iterations = quick ? 8 : 30;
  const warmup = 2;
  const dir = tempDir("git-worktree");
  const repo = path.join(dir, "repo");
  await makeRepo(repo);
  const floorRoot = path.join(dir, "floor-trees");
  const watch = stopwatch(repo, floorRoot);
  const kernel = await startKernel({ label: "git-worktree", dir, plugins: [gitPlugin({ forecast: { enabled: false } }), watch.plugin] });
  const plugin = [], floor = [], pluginSecond = [], floorSecond = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const { instance } = await kernel.kernel.spawn({ role: "specialist", workDir: repo });
      if (i >= warmup) {
        const [p, f] = [watch.samples.get(instance.id), watch.floors.get(instance.id)];
        plugin.push(p), floor.push(f);
        (watch.floorFirst.get(instance.id) ? pluginSecond : floorSecond).push(p - f);
      }
      await kernel.kernel.terminate(instance.id);
      // GC may already have removed the (merged, clean) worktree and branch at terminate.
      if (existsSync(instance.workDir)) await git(repo, "worktree", "remove", "--force", instance.workDir);
      await git(repo, "branch", "-q", "-D", `tc/${instance.id}`).catch(() => undefined);
      await git(repo, "worktree", "remove", "--force", path.join(floorRoot, instance.id));
      await git(repo, "branch", "-q", "-D", `floor/${instance.id}`);
    }
    log(`git-worktree: ${iterations} iterations done`);
  } finally {
    await kernel.close();
    await killServer(kernel.socket);
  }
  return [
    timedRow({
      id: "git-worktree-spawn",
      label: `git plugin: worktree+branch at spawn (${FILES} files)`,
      samples: plugin,
      floor,
      floorLabel: "raw git worktree add -b <branch> <path> HEAD, beside each spawn's git tap (before and after in turn)",
      target: targets.floorPlus(20),
      note: "the git plugin's beforeSpawn: repository facts, base branch, branch and path checks, git worktree add -b, plugin state written",
    }),
    // The two sides ran back to back in each spawn: their difference cancels most of a loaded machine's noise,
    // and averaging the two orders cancels the second add's handicap.
    valueRow({
      id: "git-worktree-overhead",
      label: "git plugin: overhead over raw worktree add (paired)",
      value: (summarize(pluginSecond).median + summarize(floorSecond).median) / 2,
      unit: "ms",
      n: pluginSecond.length + floorSecond.length,
      target: targets.value(20, "ms"),
      note: `per spawn: the plugin's beforeSpawn time minus the raw git worktree add beside it; mean of the medians with the plugin second (${summarize(pluginSecond).median.toFixed(1)} ms) and the floor second (${summarize(floorSecond).median.toFixed(1)} ms)`,
    }),
  ];
}
