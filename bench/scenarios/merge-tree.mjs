// plugin-git's merge-tree (forecast and merge's "would this conflict?") on a
// 10,000-file repository, against raw `git merge-tree --write-tree` of the
// same pair of branches (the floor). Two pairs: one that merges cleanly, one
// with a same-line conflict (where mergeTree also reads the conflicted blob
// and cuts its hunks). Then one whole forecast round of a specialist with two
// siblings (api.forecast.check: list, rev-parse, three merge-trees, the state
// writes) against the three raw merge-trees it needs. Rounds alternate floor
// and measured, after warm-ups.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startKernel } from "../lib/setup.mjs";
import { timedRow, targets } from "../lib/rows.mjs";
import { execFileAsync, killServer, now } from "../lib/util.mjs";

const FILES = 10_000;
const PER_DIR = 100;

const git = (cwd, ...args) => execFileAsync("git", args, { cwd, maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout.trim());

/** main with FILES files in FILES/PER_DIR directories; `clean-a`/`clean-b` edit different files, `conflict-a`/`conflict-b` the same line. */
export async function buildRepo(dir) {
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "config", "user.name", "bench");
  await git(dir, "config", "user.email", "bench@example.invalid");
  for (let d = 0; d < FILES / PER_DIR; d++) {
    mkdirSync(path.join(dir, `dir${d}`));
    for (let f = 0; f < PER_DIR; f++) {
      writeFileSync(path.join(dir, `dir${d}`, `file${f}.txt`), Array.from({ length: 20 }, (_, i) => `dir ${d} file ${f} line ${i}\n`).join(""));
    }
  }
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "base");
  const branch = async (name, edits) => {
    await git(dir, "checkout", "-q", "-b", name, "main");
    for (const [file, text] of edits) writeFileSync(path.join(dir, file), text);
    await git(dir, "commit", "-q", "-am", name);
  };
  const edited = (d, f, line) => Array.from({ length: 20 }, (_, i) => (i === 10 ? `${line}\n` : `dir ${d} file ${f} line ${i}\n`)).join("");
  await branch("clean-a", [["dir1/file1.txt", edited(1, 1, "a")], ["dir2/file2.txt", edited(2, 2, "a")]]);
  await branch("clean-b", [["dir3/file3.txt", edited(3, 3, "b")], ["dir4/file4.txt", edited(4, 4, "b")]]);
  await branch("conflict-a", [["dir5/file5.txt", edited(5, 5, "ours")], ["dir6/file6.txt", edited(6, 6, "a")]]);
  await branch("conflict-b", [["dir5/file5.txt", edited(5, 5, "theirs")], ["dir7/file7.txt", edited(7, 7, "b")]]);
  await git(dir, "checkout", "-q", "main");
}

export async function mergeTreeBench({ quick, log }) {
  const { git: gitPlugin, mergeTree } = await import("@tmux-claude/plugin-git");
  // Continuous forecasting off: only the measured check() forecasts, nothing runs in the background.
  const plugin = gitPlugin({ forecast: { enabled: false } });
  const k = await startKernel({ label: "merge-tree", plugins: [plugin] });
  const rows = [];
  try {
    const dir = k.workDir;
    const t0 = now();
    await buildRepo(dir);
    log(`merge-tree: ${FILES}-file repository built in ${(now() - t0).toFixed(0)} ms`);
    const iterations = quick ? 30 : 100;
    for (const [pair, ours, theirs] of [["clean", "clean-a", "clean-b"], ["1 conflict", "conflict-a", "conflict-b"]]) {
      const floor = [];
      const samples = [];
      for (let i = 0; i < 5 + iterations; i++) {
        let t = now();
        await rawMergeTree(dir, ours, theirs);
        const f = now() - t;
        t = now();
        const result = await mergeTree(dir, ours, theirs);
        const m = now() - t;
        if (result.clean !== (pair === "clean")) throw new Error(`mergeTree(${ours}, ${theirs}) answered clean=${result.clean}`);
        if (pair !== "clean" && !result.conflicts[0]?.hunks) throw new Error(`mergeTree(${ours}, ${theirs}) gave no hunks`);
        if (i >= 5) {
          floor.push(f);
          samples.push(m);
        }
      }
      log(`merge-tree (${pair}): ${iterations} rounds done`);
      rows.push(
        timedRow({
          id: `merge-tree-${pair === "clean" ? "clean" : "conflict"}`,
          label: `mergeTree, ${FILES} files (${pair})`,
          samples,
          floor,
          floorLabel: "git merge-tree --write-tree",
          target: targets.floorPlus(10),
          note: pair === "clean" ? "two branches editing different files" : "same line edited on both; includes reading the conflicted blob and cutting its hunks",
        }),
      );
    }
    rows.push(await forecastRound({ k, api: plugin.api, dir, iterations: quick ? 15 : 40, log }));
  } finally {
    await k.close();
    await killServer(k.socket);
  }
  return rows;
}

/** The floor: git's own answer, exit 1 meaning "conflicts", as a caller would run it. */
function rawMergeTree(dir, ours, theirs) {
  return execFileAsync("git", ["merge-tree", "--write-tree", ours, theirs], { cwd: dir }).catch((error) => {
    if (error.code !== 1) throw error;
  });
}

/** A manager and three specialists in their worktrees; two edit the same line. Forecast the first: its target and two siblings. */
async function forecastRound({ k, api, dir, iterations, log }) {
  await git(dir, "checkout", "-q", "main");
  const manager = (await k.kernel.spawn({ role: "manager", workDir: dir })).instance;
  const specs = [];
  for (let i = 0; i < 3; i++) specs.push((await k.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })).instance);
  const edits = ["s1 says so", "s2 says otherwise", null];
  for (const [i, s] of specs.entries()) {
    const file = edits[i] === null ? path.join(s.workDir, "dir8/file8.txt") : path.join(s.workDir, "dir5/file5.txt");
    writeFileSync(file, `${edits[i] ?? "s3 alone"}\n`);
    await git(s.workDir, "commit", "-q", "-am", `spec ${i + 1}`);
  }
  const branch = (instance) => `tc/${instance.id}`;
  const [s1, s2, s3] = specs;
  const pairs = [[branch(manager), branch(s1)], [branch(s1), branch(s2)], [branch(s1), branch(s3)]];
  const floor = [];
  const samples = [];
  for (let i = 0; i < 3 + iterations; i++) {
    let t = now();
    for (const [ours, theirs] of pairs) await rawMergeTree(dir, ours, theirs);
    const f = now() - t;
    t = now();
    const forecast = await api.forecast.check(s1.id);
    const m = now() - t;
    if (Object.keys(forecast?.siblings ?? {}).join() !== s2.id) throw new Error(`the forecast of ${s1.id} names ${JSON.stringify(forecast?.siblings)}, not ${s2.id} alone`);
    if (i >= 3) {
      floor.push(f);
      samples.push(m);
    }
  }
  log(`merge-tree (forecast round): ${iterations} rounds done`);
  return timedRow({
    id: "forecast-round",
    label: `forecast check, ${FILES} files (target + 2 siblings)`,
    samples,
    floor,
    floorLabel: "3 x git merge-tree --write-tree",
    note: "api.forecast.check of a specialist: list, one rev-parse, three merge-trees (one conflicting), one state write per instance; informational, no target",
  });
}
