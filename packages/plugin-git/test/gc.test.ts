import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { git as gitPlugin, type GitApi } from "../src/index.js";
import { KeptLedger } from "../src/gc/candidates.js";
import { diffSubcommand } from "../src/surfaces/diff.js";
import { directorySize } from "../src/gc/facts.js";
import { branchExists as branchIn } from "../src/git/repo.js";
import { gitValue, runGit } from "../src/git/run.js";
import type { GitInstanceState } from "../src/types.js";
import { commitFiles, makeRepo } from "./helpers.js";

// Real instances (the echo agent in tmux) get their worktrees from the
// plugin's isolation; terminate and GC run through the real kernel.

let h: Harness;
let repo: string;
let api: GitApi;

async function git(cwd: string, ...args: string[]): Promise<string> {
  return gitValue(cwd, args);
}

const branchExists = (branch: string): Promise<boolean> => branchIn(repo, branch);

/** A worktree under the plugin's worktree directory that no instance records (a crash lost its record). */
async function orphanWorktree(name: string): Promise<{ worktree: string; branch: string }> {
  const branch = `tc/${name}`;
  const worktree = path.join(h.stateDir, "worktrees", "lost", name);
  await git(repo, "worktree", "add", "-q", "-b", branch, worktree, "main");
  return { worktree, branch };
}

/** A top-level echo instance spawned in the repository: isolation gives it tc/<id> from main. */
async function instanceIn(): Promise<{ id: string; worktree: string; branch: string }> {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: repo });
  const state = (await api.status(instance.id)) as GitInstanceState;
  expect(state).toMatchObject({ isolation: "worktree", base: "main", branch: `tc/${instance.id}` });
  return { id: instance.id, worktree: state.worktree, branch: state.branch };
}

const kept = () => KeptLedger.in(h.stateDir).list();

beforeAll(async () => {
  h = await createHarness({ plugins: [gitPlugin()] }, { label: "git-gc" });
  repo = await makeRepo(h.workDir, { ".gitignore": "node_modules/\n", "a.txt": "one\n" });
  api = h.kernel.plugin<GitApi>("git")!;
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe("at terminate", () => {
  test("a merged, clean worktree goes with its tc/ branch; an unmerged or dirty one is kept, recorded and nothing of it changes", async () => {
    const merged = await instanceIn();
    const tip = await commitFiles(merged.worktree, { "merged.txt": "merged\n" }, "edit");
    await git(repo, "merge", "-q", "--ff-only", merged.branch);
    // Ignored files (installed dependencies) are not work: they go with the tree.
    await mkdir(path.join(merged.worktree, "node_modules"));
    await writeFile(path.join(merged.worktree, "node_modules", "x.js"), "x\n");

    const unmerged = await instanceIn();
    const unmergedTip = await commitFiles(unmerged.worktree, { "b.txt": "unmerged\n" }, "edit");

    const dirty = await instanceIn();
    await writeFile(path.join(dirty.worktree, "a.txt"), "changed, not committed\n");
    await writeFile(path.join(dirty.worktree, "new.txt"), "untracked\n");

    for (const { id } of [merged, unmerged, dirty]) await h.kernel.terminate(id);

    expect(existsSync(merged.worktree)).toBe(false);
    expect(await branchExists(merged.branch)).toBe(false);
    expect(await git(repo, "rev-parse", "main")).toBe(tip);

    expect(await git(unmerged.worktree, "rev-parse", "HEAD")).toBe(unmergedTip);
    expect(await branchExists(unmerged.branch)).toBe(true);

    expect(await readFile(path.join(dirty.worktree, "a.txt"), "utf8")).toBe("changed, not committed\n");
    expect(await readFile(path.join(dirty.worktree, "new.txt"), "utf8")).toBe("untracked\n");
    expect(await branchExists(dirty.branch)).toBe(true);

    const keptNow = await kept();
    expect(keptNow.map((k) => [k.id, k.reason])).toEqual(
      expect.arrayContaining([
        [unmerged.id, "not merged into main"],
        [dirty.id, "uncommitted changes in 2 file(s): a.txt, new.txt (--force saves the work on a ref and removes it)"],
      ]),
    );
    expect(keptNow.map((k) => k.id)).not.toContain(merged.id);
  });

  test("a squash-merged branch counts as merged: its worktree and branch go", async () => {
    const squashed = await instanceIn();
    await commitFiles(squashed.worktree, { "s1.txt": "first\n" }, "edit");
    await commitFiles(squashed.worktree, { "s2.txt": "second\n" }, "edit");
    await git(repo, "merge", "-q", "--squash", squashed.branch);
    await git(repo, "commit", "-q", "-m", "squash of squashed");
    await h.kernel.terminate(squashed.id);
    expect(existsSync(squashed.worktree)).toBe(false);
    // Its repo key directory held only worktrees that are gone or kept: it goes when empty.
    const keyDir = path.dirname(squashed.worktree);
    expect(!existsSync(keyDir) || (await readdir(keyDir)).length > 0).toBe(true);
    expect(await branchExists(squashed.branch)).toBe(false);
  });

  test("a merged manager's worktree goes, but its branch stays while a stored child builds on it", async () => {
    const manager = await instanceIn();
    const { instance: child } = await h.kernel.spawn({ role: "manager", parentId: manager.id, workDir: manager.worktree });
    expect(((await api.status(child.id)) as GitInstanceState).base).toBe(manager.branch);
    await h.kernel.send(child.id, "/exit");
    await eventually(async () => (await h.kernel.get(child.id)).status === "exited" || undefined, 10_000, "the child to exit");
    // The manager's branch has nothing main lacks (it is main's commit): merged and clean.
    // Once get reports the child exited, terminate sees it so too (it waits for this process's pending writes).
    await h.kernel.terminate(manager.id);
    expect(existsSync(manager.worktree)).toBe(false);
    expect(await branchExists(manager.branch)).toBe(true);
    await h.kernel.terminate(child.id);
  });

  test("a detached HEAD with commits no branch holds is kept, and the reason does not call it merged and clean", async () => {
    const detached = await instanceIn();
    await git(detached.worktree, "checkout", "-q", "--detach");
    await commitFiles(detached.worktree, { "detached.txt": "work\n" }, "detached work");
    await h.kernel.terminate(detached.id);
    expect(existsSync(detached.worktree)).toBe(true);
    const entry = (await kept()).find((k) => k.id === detached.id)!;
    expect(entry.reason).toMatch(/^a detached HEAD whose commits no branch holds/u);
    expect(entry.reason).not.toContain("clean");
    // Kept, its instance gone: git diff still answers by the old id (from the kept list).
    let printed = "";
    const out = { json: false, result: (_value: unknown, text: () => string) => void (printed = text()), note: () => undefined };
    expect(await diffSubcommand.run({ positionals: [detached.id], flags: {}, kernel: h.kernel, out })).toBe(0);
    expect(printed).toContain(`# ${detached.id}: ${detached.branch} against main`);
  });

  test("a cascade keeps the parent's merged branch while a kept child worktree builds on it", async () => {
    const manager = await instanceIn();
    const { instance: child } = await h.kernel.spawn({ role: "manager", parentId: manager.id, workDir: manager.worktree });
    const childState = (await api.status(child.id)) as GitInstanceState;
    // The child's unmerged commit keeps its worktree; the manager is merged (main's commit) and clean.
    await commitFiles(childState.worktree, { "child.txt": "child work\n" }, "child work");
    await h.kernel.terminate(manager.id, { cascade: true });
    expect(existsSync(childState.worktree)).toBe(true);
    expect((await kept()).map((k) => k.id)).toContain(child.id);
    expect(existsSync(manager.worktree)).toBe(false);
    expect(await branchExists(manager.branch)).toBe(true);
  });

  test("with force a dirty worktree goes only after its work is saved on refs/tmux-claude/stash/<id>; its unmerged branch stays", async () => {
    const forced = await instanceIn();
    const committed = await commitFiles(forced.worktree, { "committed.txt": "committed\n" }, "edit");
    await writeFile(path.join(forced.worktree, "a.txt"), "tracked change\n");
    await mkdir(path.join(forced.worktree, "deep", "dir"), { recursive: true });
    await writeFile(path.join(forced.worktree, "deep", "dir", "untracked.txt"), "untracked work\n");
    const indexBefore = await git(forced.worktree, "ls-files", "--stage");

    await expect(h.kernel.terminate(forced.id, { plugins: { git: { forse: true } } })).rejects.toMatchObject({
      code: "TC_GIT_TERMINATE_OPTIONS_INVALID",
      message: expect.stringContaining("git takes only force"),
    });
    expect(existsSync(forced.worktree)).toBe(true);
    expect(await git(forced.worktree, "ls-files", "--stage")).toBe(indexBefore);

    await h.kernel.terminate(forced.id, { plugins: { git: { force: true } } });
    expect(existsSync(forced.worktree)).toBe(false);
    const ref = `refs/tmux-claude/stash/${forced.id}`;
    expect(await git(repo, "show", `${ref}:a.txt`)).toBe("tracked change");
    expect(await git(repo, "show", `${ref}:deep/dir/untracked.txt`)).toBe("untracked work");
    expect(await git(repo, "show", `${ref}:committed.txt`)).toBe("committed");
    expect(await git(repo, "rev-parse", `${ref}^1`)).toBe(committed);
    expect(await git(repo, "rev-parse", `refs/heads/${forced.branch}`)).toBe(committed);
    expect((await kept()).map((k) => k.id)).not.toContain(forced.id);
  });
});

describe("tmux-claude git gc policy", () => {
  test("dry-run decides and changes nothing; orphans go when clean, a dirty one only with force (then its work is on the stash ref)", async () => {
    const clean = await orphanWorktree("orphan-clean");
    const cleanTip = await commitFiles(clean.worktree, { "o.txt": "orphan\n" }, "edit");
    const dirty = await orphanWorktree("orphan-dirty");
    await writeFile(path.join(dirty.worktree, "wip.txt"), "work in progress\n");
    // A user's own worktree outside the plugin's directory is never a candidate.
    const mine = path.join(h.dir, "my-own-worktree");
    await git(repo, "worktree", "add", "-q", "-b", "mine", mine, "main");
    // Also one under the plugin's directory that isolation did not lay out (not on tc/<its name>).
    const mineInside = path.join(h.stateDir, "worktrees", "lost", "feature-work");
    await git(repo, "worktree", "add", "-q", "-b", "feature", mineInside, "main");

    const dry = await api.gc({ dryRun: true, force: true, ids: ["orphan-clean", "orphan-dirty"] });
    expect(dry.decisions.map((d) => [d.id, d.origin, d.action])).toEqual([
      ["orphan-clean", "orphan", "remove"],
      ["orphan-dirty", "orphan", "remove"],
    ]);
    expect(dry.decisions[1]!.stash).toMatchObject({ ref: "refs/tmux-claude/stash/orphan-dirty", recover: "git checkout -b recovered-orphan-dirty refs/tmux-claude/stash/orphan-dirty" });
    expect(existsSync(clean.worktree) && existsSync(dirty.worktree)).toBe(true);
    expect((await runGit(repo, ["rev-parse", "--verify", "-q", "refs/tmux-claude/stash/orphan-dirty"], { ok: [0, 1] })).code).toBe(1);

    const report = await api.gc({});
    const byId = new Map(report.decisions.map((d) => [d.id, d]));
    expect(byId.get("orphan-clean")).toMatchObject({ action: "remove", reason: "orphan: no instance records it" });
    expect(byId.get("orphan-dirty")).toMatchObject({ action: "keep", reason: expect.stringMatching(/^uncommitted changes in 1 file\(s\): wip.txt/u) });
    expect([...byId.keys()]).not.toContain("my-own-worktree");
    expect([...byId.keys()]).not.toContain("feature-work");
    expect(existsSync(clean.worktree)).toBe(false);
    // An orphan's branch is nobody's to judge merged: it stays, with its commits.
    expect(await git(repo, "rev-parse", "refs/heads/tc/orphan-clean")).toBe(cleanTip);
    expect(await readFile(path.join(dirty.worktree, "wip.txt"), "utf8")).toBe("work in progress\n");
    expect(existsSync(mine)).toBe(true);

    const forced = await api.gc({ force: true, ids: ["orphan-dirty"] });
    expect(forced.decisions[0]).toMatchObject({ action: "remove", stash: { ref: "refs/tmux-claude/stash/orphan-dirty", commit: expect.stringMatching(/^[0-9a-f]{40}$/u) } });
    expect(existsSync(dirty.worktree)).toBe(false);
    expect(await git(repo, "show", "refs/tmux-claude/stash/orphan-dirty:wip.txt")).toBe("work in progress");
    await api.gc({ force: true, diskBudgetMb: 0.001 });
    expect(existsSync(mine) && existsSync(mineInside)).toBe(true);
  });

  test("a kept worktree deleted by hand is pruned from git's list; its unmerged branch stays", async () => {
    const gone = await instanceIn();
    const tip = await commitFiles(gone.worktree, { "kept.txt": "kept\n" }, "edit");
    await h.kernel.terminate(gone.id);
    expect((await kept()).map((k) => k.id)).toContain(gone.id);
    await rm(gone.worktree, { recursive: true, force: true });
    expect(await git(repo, "worktree", "list", "--porcelain")).toContain(gone.worktree);
    const report = await api.gc({ ids: [gone.id] });
    expect(report.decisions[0]).toMatchObject({ origin: "kept", status: "gone", action: "remove", reason: expect.stringContaining("directory is gone") });
    expect(await git(repo, "worktree", "list", "--porcelain")).not.toContain(gone.worktree);
    expect(await git(repo, "rev-parse", gone.branch)).toBe(tip);
    expect((await kept()).map((k) => k.id)).not.toContain(gone.id);
  });

  test("a kept worktree whose repository was deleted is reported and kept; GC of the others goes on", async () => {
    const other = await makeRepo(path.join(h.dir, "other-repo"), { "o.txt": "o\n" });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: other });
    const state = (await api.status(instance.id)) as GitInstanceState;
    await commitFiles(state.worktree, { "p.txt": "p\n" }, "unmerged");
    await h.kernel.terminate(instance.id);
    const orphan = await orphanWorktree("orphan-beside-broken");
    const { instance: second } = await h.kernel.spawn({ role: "executive", workDir: other });
    await rm(other, { recursive: true, force: true });
    // Terminate still succeeds: the worktree it cannot judge is kept and listed.
    await h.kernel.terminate(second.id);
    expect((await kept()).find((k) => k.id === second.id)?.reason).toMatch(/^could not be inspected: /u);
    const report = await api.gc({ diskBudgetMb: 0.001 });
    expect(report.decisions.find((d) => d.id === instance.id)).toMatchObject({ action: "keep", reason: expect.stringMatching(/^could not be inspected, kept: /u), error: expect.any(String) });
    expect(existsSync(state.worktree)).toBe(true);
    expect(report.decisions.find((d) => d.id === "orphan-beside-broken")).toMatchObject({ action: "remove" });
    expect(existsSync(orphan.worktree)).toBe(false);
  });

  test("older than N days: an exited instance's clean worktree untouched that long goes, a recent one stays", async () => {
    const old = await instanceIn();
    const recent = await instanceIn();
    const longAgo = new Date(Date.now() - 30 * 86_400_000);
    await writeFile(path.join(old.worktree, "old.txt"), "old\n");
    await git(old.worktree, "add", "old.txt");
    // git's own dates, set through its environment (the plugin's runner keeps GIT_* out of git on purpose).
    execFileSync("git", ["commit", "-q", "-m", "old work"], { cwd: old.worktree, env: { ...process.env, GIT_COMMITTER_DATE: longAgo.toISOString(), GIT_AUTHOR_DATE: longAgo.toISOString() } });
    await utimes(old.worktree, longAgo, longAgo);
    await commitFiles(recent.worktree, { "recent.txt": "recent\n" }, "recent work");
    for (const { id } of [old, recent]) {
      await h.kernel.send(id, "/exit");
      await eventually(async () => (await h.kernel.get(id)).status === "exited" || undefined, 10_000, "the instance to exit");
    }
    const report = await api.gc({ olderThanDays: 7, ids: [old.id, recent.id] });
    expect(report.decisions.map((d) => [d.id, d.action, d.reason])).toEqual([
      [old.id, "remove", "untouched for more than 7 day(s)"],
      [recent.id, "keep", "not merged into main; its instance exited (restart reuses the worktree)"],
    ]);
    expect(existsSync(old.worktree)).toBe(false);
    expect(await git(repo, "show", `${old.branch}:old.txt`)).toBe("old");
    for (const { id } of [old, recent]) await h.kernel.terminate(id);
  });

  test("over a disk budget, stale worktrees go largest first until the rest fits; active ones count but stay", async () => {
    const sizes = { small: 1, large: 3, medium: 2 } as const;
    const made: Record<string, { id: string; worktree: string; branch: string }> = {};
    for (const [name, megabytes] of Object.entries(sizes)) {
      const instance = await instanceIn();
      // Committed, not merged: only the budget may remove these.
      await commitFiles(instance.worktree, { "blob.bin": "x".repeat(megabytes * 1024 * 1024) }, "edit");
      made[name] = instance;
    }
    const active = await instanceIn();
    await commitFiles(active.worktree, { "blob.bin": "y".repeat(4 * 1024 * 1024) }, "edit");
    for (const name of Object.keys(sizes)) {
      await h.kernel.send(made[name]!.id, "/exit");
      await eventually(async () => (await h.kernel.get(made[name]!.id)).status === "exited" || undefined, 10_000, "the instance to exit");
    }
    const ids = [...Object.values(made), active].map((m) => m.id);
    const sizeOf = async (name: string) => directorySize(made[name]!.worktree);
    const total = (await sizeOf("small")) + (await sizeOf("medium")) + (await sizeOf("large")) + (await directorySize(active.worktree));
    // Freeing the small and the medium one would fit too; largest first frees the large one alone.
    const budgetMb = (total - (await sizeOf("large")) + 1024) / 1024 / 1024;

    const withoutBudget = await api.gc({ ids });
    expect(withoutBudget.decisions.every((d) => d.action === "keep")).toBe(true);
    expect(withoutBudget.decisions.find((d) => d.id === made.large!.id)!.reason).toMatch(/^not merged into main; its instance exited/u);

    const dry = await api.gc({ ids, diskBudgetMb: budgetMb, dryRun: true });
    expect(dry.decisions.filter((d) => d.action === "remove").map((d) => d.id)).toEqual([made.large!.id]);
    expect(existsSync(made.large!.worktree)).toBe(true);

    const report = await api.gc({ ids, diskBudgetMb: budgetMb });
    expect(report.decisions.filter((d) => d.action === "remove").map((d) => d.id)).toEqual([made.large!.id]);
    expect(report.decisions.find((d) => d.id === made.large!.id)!.reason).toMatch(/^over the disk budget of [0-9.]+ MB \([0-9.]+ MB in use\), largest stale first$/u);
    expect(existsSync(made.large!.worktree)).toBe(false);
    expect(existsSync(made.medium!.worktree)).toBe(true);
    expect(existsSync(active.worktree)).toBe(true);
    expect(report.remainingBytes).toBeLessThanOrEqual(budgetMb * 1024 * 1024);
    // The branch stays (its instance may restart on it): a restart rebuilds the worktree from it.
    expect(report.decisions.find((d) => d.id === made.large!.id)).toMatchObject({ deleteBranch: false, branchKept: expect.stringContaining("may be restarted on the branch") });
    const largeTip = await git(repo, "rev-parse", made.large!.branch);
    await h.kernel.restart(made.large!.id);
    expect(await git(made.large!.worktree, "rev-parse", "HEAD")).toBe(largeTip);
    await h.kernel.terminate(made.large!.id);
    await h.kernel.terminate(active.id, { plugins: { git: { force: true } } });
  }, 60_000);
});
