// The git plugin's worktree spawn overhead: the time its beforeSpawn tap
// takes (repository facts, base, `git worktree add -b`, state written) vs raw
// `git worktree add -b` of the same repository, interleaved in the same run.
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { startKernel } from "../lib/setup.mjs";
import { timedRow, targets } from "../lib/rows.mjs";
import { execFileAsync, killServer, now, tempDir } from "../lib/util.mjs";

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
 * beside them (before on odd spawns, after on even ones, so neither side
 * always finds a warmer cache) the floor: a raw `git worktree add -b` of the
 * same repository, in the same process at the same moment.
 */
function stopwatch(repo, floorRoot) {
  const started = new Map();
  const samples = new Map();
  const floors = new Map();
  let count = 0;
  const floor = async (id) => {
    const t0 = now();
    await git(repo, "worktree", "add", "-q", "--no-track", "-b", `floor/${id}`, path.join(floorRoot, id), "HEAD");
    floors.set(id, now() - t0);
  };
  return {
    samples,
    floors,
    plugin: {
      name: "bench-stopwatch",
      apply(ctx) {
        ctx.hooks.beforeSpawn.tapPromise({ stage: -1000 }, async (plan) => {
          if (++count % 2) await floor(plan.id);
          started.set(plan.id, now());
          return plan;
        });
        ctx.hooks.beforeSpawn.tapPromise({ stage: 1000 }, async (plan) => {
          samples.set(plan.id, now() - started.get(plan.id));
          if (!floors.has(plan.id)) await floor(plan.id);
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
  const kernel = await startKernel({ label: "git-worktree", dir, plugins: [gitPlugin(), watch.plugin] });
  const plugin = [], floor = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const { instance } = await kernel.kernel.spawn({ role: "specialist", workDir: repo });
      if (i >= warmup) plugin.push(watch.samples.get(instance.id)), floor.push(watch.floors.get(instance.id));
      await kernel.kernel.terminate(instance.id);
      await git(repo, "worktree", "remove", "--force", instance.workDir);
      await git(repo, "branch", "-q", "-D", `tc/${instance.id}`);
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
      floorLabel: "raw git worktree add -b <branch> <path> HEAD, run beside each spawn's taps",
      target: targets.floorPlus(20),
      note: "the git plugin's beforeSpawn: repository facts, base branch, branch and path checks, git worktree add -b, plugin state written",
    }),
    // The two sides ran back to back in each spawn: their difference cancels most of a loaded machine's noise.
    timedRow({
      id: "git-worktree-overhead",
      label: "git plugin: overhead over raw worktree add (paired)",
      samples: plugin.map((sample, i) => sample - floor[i]),
      target: targets.atMost(20, "ms"),
      note: "per spawn: the plugin's beforeSpawn time minus the raw git worktree add run beside it",
    }),
  ];
}
