// The git plugin's worktree spawn overhead: the time its beforeSpawn tap
// takes (repository facts, base, `git worktree add -b`, state written) vs raw
// `git worktree add -b` of the same repository, interleaved in the same run.
import { writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { startKernel } from "../lib/setup.mjs";
import { timedRow, targets } from "../lib/rows.mjs";
import { execFileAsync, killServer, now } from "../lib/util.mjs";

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

/** Times the plugins between two timing taps: the first beforeSpawn tap and the last. */
function stopwatch() {
  const started = new Map();
  const samples = new Map();
  return {
    samples,
    plugin: {
      name: "bench-stopwatch",
      apply(ctx) {
        ctx.hooks.beforeSpawn.tap({ stage: -1000 }, (plan) => (started.set(plan.id, now()), plan));
        ctx.hooks.beforeSpawn.tap({ stage: 1000 }, (plan) => (samples.set(plan.id, now() - started.get(plan.id)), plan));
      },
    },
  };
}

export async function gitWorktree({ quick, log }) {
  const { git: gitPlugin } = await import("@tmux-claude/plugin-git");
  const iterations = quick ? 8 : 20;
  const warmup = 2;
  const watch = stopwatch();
  const k = await startKernel({ label: "git-worktree", plugins: [gitPlugin(), watch.plugin] });
  const repo = path.join(k.dir, "repo");
  await makeRepo(repo);
  const floorRoot = path.join(k.dir, "floor-trees");
  const plugin = [], floor = [];
  try {
    for (let i = 0; i < warmup + iterations; i++) {
      const measured = i >= warmup;
      const doPlugin = async () => {
        const { instance } = await k.kernel.spawn({ role: "specialist", workDir: repo });
        if (measured) plugin.push(watch.samples.get(instance.id));
        await k.kernel.terminate(instance.id);
        await git(repo, "worktree", "remove", "--force", instance.workDir);
        await git(repo, "branch", "-q", "-D", `tc/${instance.id}`);
      };
      const doFloor = async () => {
        const tree = path.join(floorRoot, `f${i}`);
        const t0 = now();
        await git(repo, "worktree", "add", "-q", "--no-track", "-b", `floor/${i}`, tree, "HEAD");
        if (measured) floor.push(now() - t0);
        await git(repo, "worktree", "remove", "--force", tree);
        await git(repo, "branch", "-q", "-D", `floor/${i}`);
      };
      if (i % 2) {
        await doPlugin();
        await doFloor();
      } else {
        await doFloor();
        await doPlugin();
      }
    }
    log(`git-worktree: ${iterations} iterations done`);
  } finally {
    await k.close();
    await killServer(k.socket);
  }
  return [
    timedRow({
      id: "git-worktree-spawn",
      label: `git plugin: worktree+branch at spawn (${FILES} files)`,
      samples: plugin,
      floor,
      floorLabel: "raw git worktree add -b <branch> <path> HEAD",
      target: targets.floorPlus(20),
      note: "the git plugin's beforeSpawn: repository facts, base branch, branch and path checks, git worktree add -b, plugin state written",
    }),
  ];
}
