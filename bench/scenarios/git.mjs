// plugin-git's worktree spawn: what the git plugin adds to a spawn, against what git itself costs.
// Detects @tmux-claude/plugin-git and reports "pending" without it.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startKernel } from "../lib/setup.mjs";
import { pendingRow, timedRow, targets } from "../lib/rows.mjs";
import { execFileAsync, killServer, now, tempDir } from "../lib/util.mjs";

/** A small repository on `main`: 200 files in 20 directories, one commit (a worktree checks them all out). */
async function makeRepo(repo) {
  mkdirSync(repo, { recursive: true });
  const git = (...args) => execFileAsync("git", args, { cwd: repo });
  await git("init", "-q", "-b", "main");
  await git("config", "user.name", "Bench");
  await git("config", "user.email", "bench@example.invalid");
  for (let d = 0; d < 20; d++) {
    mkdirSync(path.join(repo, `dir${d}`), { recursive: true });
    for (let f = 0; f < 10; f++) writeFileSync(path.join(repo, `dir${d}`, `file${f}.txt`), `file ${d}/${f}\n`.repeat(20));
  }
  await git("add", "-A");
  await git("commit", "-q", "-m", "initial");
  return (await git("rev-parse", "HEAD")).stdout.trim();
}

/**
 * Per iteration, in rotating order: a spawn with the git plugin (a tc/<id>
 * worktree and branch), the same spawn without it, and the floor: the
 * plugin's own git command run by hand (`git worktree add -q --no-track -b
 * <new branch> <path> <commit>`) in the same repository. The overhead row is
 * the paired difference of the two spawns.
 */
export async function git({ quick, log }) {
  let plugin;
  try {
    plugin = (await import("@tmux-claude/plugin-git")).git;
  } catch (error) {
    const note = `@tmux-claude/plugin-git not found (${String(error?.message ?? error).split("\n")[0]})`;
    log(`git: pending (${note})`);
    return [pendingRow({ id: "git-spawn", label: "worktree spawn overhead vs raw git worktree add", note })];
  }
  const iterations = quick ? 6 : 20;
  const warmup = 2;
  const dir = tempDir("git");
  const repo = path.join(dir, "repo");
  const commit = await makeRepo(repo);
  const withGit = await startKernel({ label: "git", plugins: [plugin()], dir: path.join(dir, "with") });
  const without = await startKernel({ label: "nogit", dir: path.join(dir, "without") });
  const floorRoot = path.join(dir, "floor-worktrees");
  mkdirSync(floorRoot, { recursive: true });
  const spawnGit = [], spawnPlain = [], overhead = [], floor = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const measured = i >= warmup;
      const spawnOn = async (k) => {
        const t0 = now();
        const { instance } = await k.kernel.spawn({ role: "specialist", workDir: repo });
        const t = now() - t0;
        await k.kernel.terminate(instance.id);
        return { t, instance };
      };
      const runs = {
        git: async () => {
          const { t, instance } = await spawnOn(withGit);
          // The plugin really made a worktree: the spawn's workDir is outside the repository.
          if (instance.workDir === repo) throw new Error(`the git plugin gave instance ${instance.id} no worktree (workDir ${instance.workDir})`);
          return t;
        },
        plain: async () => (await spawnOn(without)).t,
        floor: async () => {
          const t0 = now();
          await execFileAsync("git", ["worktree", "add", "-q", "--no-track", "-b", `bench-floor-${i}`, path.join(floorRoot, String(i)), commit], { cwd: repo });
          return now() - t0;
        },
      };
      // Rotate the order so no side always runs on a warmer machine.
      const order = ["git", "plain", "floor"];
      for (let r = 0; r < i % 3; r++) order.push(order.shift());
      const t = {};
      for (const name of order) t[name] = await runs[name]();
      if (measured) {
        spawnGit.push(t.git);
        spawnPlain.push(t.plain);
        overhead.push(t.git - t.plain);
        floor.push(t.floor);
      }
    }
    log(`git: ${iterations} iterations done`);
  } finally {
    await withGit.close();
    await without.close();
    await killServer(withGit.socket);
    await killServer(without.socket);
  }
  return [
    timedRow({
      id: "git-spawn",
      label: "worktree spawn overhead vs raw git worktree add",
      samples: overhead,
      floor,
      floorLabel: "git worktree add -q --no-track -b <new branch> <path> <commit>, same repository (200 files)",
      target: targets.floorPlus(20),
      note: "samples: spawn with the git plugin minus the same spawn without it, paired per iteration",
    }),
    timedRow({
      id: "git-spawn-total",
      label: "spawn with the git plugin (echo agent, 200-file repo)",
      samples: spawnGit,
      floor: spawnPlain,
      floorLabel: "the same spawn without the plugin",
    }),
  ];
}
