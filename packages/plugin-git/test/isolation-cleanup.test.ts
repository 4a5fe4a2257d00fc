// Review findings on isolation's making and unmaking of worktrees (items 5,
// 7, 11, 12, 13): each case against real git repositories, most through a
// real kernel (testkit harness, echo agent in tmux).
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import type { Plugin } from "@tmux-claude/core";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { commitTurn } from "../src/commit/auto-commit.js";
import { gitValue, runGit } from "../src/git/run.js";
import { git, type GitApi } from "../src/index.js";
import { removeScratch, sweepStaleScratch } from "../src/resolve/scratch.js";
import { instanceGitStatus, statusText } from "../src/surfaces/status.js";
import type { GitInstanceState } from "../src/types.js";
import { copyIncluded } from "../src/worktree/include.js";
import { addWorktreeForBranch, addWorktreeWithBranch, assertNewBranch, undoMade } from "../src/worktree/worktrees.js";
import { branches, commitFiles, gitKernels, makeRepo, worktreePaths, writeFiles } from "./helpers.js";

const { start } = gitKernels("git-clean", { "README.md": "hello\n" });
const silent = pino({ level: "silent" });
const stateOf = async (api: GitApi, id: string) => (await api.status(id)) as GitInstanceState;

const temps: string[] = [];
const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A repository in a temp dir of its own (no kernel), with one commit. */
async function bareBonesRepo(): Promise<{ root: string; repo: string }> {
  const root = await mkdtemp(path.join(os.tmpdir(), "tc-git-clean-"));
  temps.push(root);
  return { root, repo: await makeRepo(path.join(root, "repo")) };
}

/**
 * A user's own worktree whose directory is away right now (an unmounted
 * volume): registered, prunable. Returns a check that it is still registered
 * and works again once its directory is back.
 */
async function userWorktreeAway(repo: string, root: string, name: string): Promise<() => Promise<void>> {
  const dir = path.join(root, `user-${name}`);
  await runGit(repo, ["worktree", "add", "-q", "-b", `user/${name}`, dir, "main"]);
  const away = `${dir}.away`;
  await rename(dir, away);
  return async () => {
    expect(await worktreePaths(repo)).toContain(dir);
    await rename(away, dir);
    expect(await gitValue(dir, ["symbolic-ref", "--short", "HEAD"])).toBe(`user/${name}`);
  };
}

describe("a failed git worktree add (review 5)", () => {
  it("a post-checkout hook that fails: git's own error, and no branch or worktree left behind", async () => {
    const { h, repo } = await start();
    const hook = path.join(repo, ".git", "hooks", "post-checkout");
    await writeFile(hook, "#!/bin/sh\necho 'npm install failed' >&2\nexit 1\n");
    await chmod(hook, 0o755);
    const refused = h.kernel.spawn({ role: "specialist", workDir: repo });
    await expect(refused).rejects.toMatchObject({ code: "TC_GIT_COMMAND_FAILED", message: expect.stringContaining("npm install failed") });
    expect(await branches(repo)).toEqual(["main"]);
    expect(await worktreePaths(repo)).toEqual([repo]);
    const root = path.join(h.stateDir, "worktrees");
    for (const dir of await readdir(root).catch(() => [])) expect(await readdir(path.join(root, dir))).toEqual([]);
    expect(await h.kernel.list()).toEqual([]);
  });
});

describe("a failed git worktree add, unit (review 5)", () => {
  it("git fails before registering the worktree (its path is taken): git's error, the branch it would have made is not left", async () => {
    const { root, repo } = await bareBonesRepo();
    const taken = path.join(root, "taken");
    await writeFiles(taken, { "someone.txt": "keep\n" });
    const commit = await gitValue(repo, ["rev-parse", "main"]);
    await expect(addWorktreeWithBranch(repo, taken, { id: "spec-1", prefix: "tc/", branch: "tc/spec-1" }, commit, silent)).rejects.toMatchObject({
      code: "TC_GIT_COMMAND_FAILED",
      message: expect.stringContaining("already exists"),
    });
    expect(await branches(repo)).toEqual(["main"]);
    expect(await worktreePaths(repo)).toEqual([repo]);
    expect(await readFile(path.join(taken, "someone.txt"), "utf8")).toBe("keep\n");
  });
});

describe("include copies only what the repository ignores (review 7)", () => {
  it("a matched file git does not ignore is not copied, so auto-commit cannot commit it; an ignored one is", async () => {
    const { root, repo } = await bareBonesRepo();
    await commitFiles(repo, { ".gitignore": "local.json\n" }, "ignore local.json");
    await writeFiles(repo, { ".env": "API_KEY=secret\n", "local.json": "{}\n" });
    const worktree = path.join(root, "wt");
    await runGit(repo, ["worktree", "add", "-q", "-b", "tc/x", worktree, "main"]);
    expect(await copyIncluded(repo, worktree, [".env", "local.json"], silent)).toEqual(["local.json"]);
    await expect(stat(path.join(worktree, ".env"))).rejects.toThrow();
    expect(await readFile(path.join(worktree, "local.json"), "utf8")).toBe("{}\n");

    await writeFile(path.join(worktree, "README.md"), "changed\n");
    const state = { isolation: "worktree", worktree, branch: "tc/x" } as GitInstanceState;
    const result = await commitTurn({ instanceId: "x", reason: "idle", lastReply: "ok" }, state);
    expect(result?.files).toEqual(["README.md"]);
    expect(await gitValue(repo, ["ls-tree", "-r", "--name-only", "tc/x"])).not.toMatch(/\.env|local\.json/u);
    // Nothing left uncommitted: the worktree is clean, so GC can take it once merged.
    expect(await gitValue(worktree, ["status", "--porcelain"])).toBe("");
  });

  it("an absolute symlink into the checkout is copied relative: it points into the worktree, not the user's files", async () => {
    const { h, repo, api } = await start({ include: ["links/*"] });
    await commitFiles(repo, { ".gitignore": "links/\n", "config/app.conf": "user's\n" }, "config");
    await mkdir(path.join(repo, "links"));
    await symlink(path.join(repo, "config", "app.conf"), path.join(repo, "links", "absolute"));
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: repo });
    const worktree = (await stateOf(api, instance.id)).worktree;
    const copied = path.join(worktree, "links", "absolute");
    expect(path.isAbsolute(await readlink(copied))).toBe(false);
    await writeFile(copied, "the agent's\n");
    expect(await readFile(path.join(worktree, "config", "app.conf"), "utf8")).toBe("the agent's\n");
    expect(await readFile(path.join(repo, "config", "app.conf"), "utf8")).toBe("user's\n");
    expect((await lstat(copied)).isSymbolicLink()).toBe(true);
  });
});

describe("only the plugin's own worktree registration is removed, never by a repo-wide prune (review 11)", () => {
  it("removing a resolution's scratch worktree, and sweeping a dead process's one, keep a user's unmounted worktree", async () => {
    const { root, repo } = await bareBonesRepo();
    const stillThere = await userWorktreeAway(repo, root, "scratch");
    const scratch = path.join(root, "scratch", "resolve-1");
    await runGit(repo, ["worktree", "add", "-q", "--detach", scratch, "main"]);
    await writeFile(path.join(scratch, "half-resolved.txt"), "x\n");
    await removeScratch(repo, scratch);
    expect(await worktreePaths(repo)).not.toContain(scratch);
    await expect(stat(scratch)).rejects.toThrow();

    // A scratch worktree of a killed process (a pid that cannot be alive).
    const stale = path.join(root, "scratch", "resolve-999999999-x-1");
    await runGit(repo, ["worktree", "add", "-q", "--detach", stale, "main"]);
    expect(await sweepStaleScratch(path.join(root, "scratch"))).toEqual([stale]);
    expect(await worktreePaths(repo)).not.toContain(stale);
    await stillThere();
  });

  it("undoing a failed spawn keeps a user's unmounted worktree", async () => {
    const { root, repo } = await bareBonesRepo();
    const stillThere = await userWorktreeAway(repo, root, "spawn");
    const commit = await gitValue(repo, ["rev-parse", "main"]);
    const made = path.join(root, "trees", "spec-1");
    await runGit(repo, ["worktree", "add", "-q", "-b", "tc/spec-1", made, commit]);
    await undoMade({ id: "spec-1", repo, worktree: made, branch: "tc/spec-1", createdBranchAt: commit }, silent);
    expect(await branches(repo)).toEqual(["main", "user/spawn"]);
    // One git cannot remove (someone locked it): kept, and still nothing else is unregistered.
    const locked = path.join(root, "trees", "spec-3");
    await runGit(repo, ["worktree", "add", "-q", "-b", "tc/spec-3", locked, commit]);
    await runGit(repo, ["worktree", "lock", locked]);
    await undoMade({ id: "spec-3", repo, worktree: locked, branch: "tc/spec-3", createdBranchAt: commit }, silent);
    expect(await worktreePaths(repo)).toContain(locked);
    expect(await branches(repo)).toContain("tc/spec-3");
    await stillThere();
  });

  it("remaking a restart's removed worktree keeps a user's unmounted worktree", async () => {
    const { root, repo } = await bareBonesRepo();
    const stillThere = await userWorktreeAway(repo, root, "restart");
    const commit = await gitValue(repo, ["rev-parse", "main"]);
    // A restart whose worktree directory was deleted by hand: still registered, git would refuse to add it again.
    const restarted = path.join(root, "trees", "spec-2");
    await runGit(repo, ["worktree", "add", "-q", "-b", "tc/spec-2", restarted, commit]);
    await rm(restarted, { recursive: true, force: true });
    await addWorktreeForBranch("spec-2", repo, restarted, "tc/spec-2");
    expect(await gitValue(restarted, ["symbolic-ref", "--short", "HEAD"])).toBe("tc/spec-2");
    await stillThere();
  });

  it("gc of a kept worktree deleted by hand keeps a user's unmounted worktree", async () => {
    const { h, repo, api } = await start();
    const stillThere = await userWorktreeAway(repo, h.dir, "gc");
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: repo });
    const state = await stateOf(api, instance.id);
    await commitFiles(state.worktree, { "work.txt": "unmerged\n" }, "work");
    await h.kernel.terminate(instance.id);
    await rm(state.worktree, { recursive: true, force: true });
    const report = await api.gc({ ids: [instance.id] });
    expect(report.decisions[0]).toMatchObject({ action: "remove" });
    expect(await worktreePaths(repo)).not.toContain(state.worktree);
    await stillThere();
  });
});

describe("a failed spawn's cleanup never loses work (review 12)", () => {
  it("the agent wrote files before a later plugin's afterSpawn failed: saved on the stash ref, then removed", async () => {
    const failing: Plugin = {
      name: "late-failure",
      apply: (ctx) =>
        ctx.hooks.afterSpawn.tapPromise(async (instance) => {
          await writeFile(path.join(instance.workDir, "notes.txt"), "work after the first prompt\n");
          throw new Error("late failure");
        }),
    };
    // Before git, so its afterSpawn fails while git still counts the worktree as the spawn's to undo.
    const h = await createHarness({ plugins: [failing, git()] }, { label: "git-clean12" });
    harnesses.push(h);
    const repo = await makeRepo(h.workDir);
    await expect(h.kernel.spawn({ role: "specialist", workDir: repo })).rejects.toThrow(/late failure/u);
    expect(await worktreePaths(repo)).toEqual([repo]);
    const saved = (await gitValue(repo, ["for-each-ref", "--format=%(refname)", "refs/tmux-claude/stash/"])).split("\n").filter(Boolean);
    expect(saved).toHaveLength(1);
    expect(await gitValue(repo, ["show", `${saved[0]}:notes.txt`])).toBe("work after the first prompt");
    // The branch held no commits of its own: deleted, as before.
    expect(await branches(repo)).toEqual(["main"]);
  });

  it("a clean worktree whose HEAD has commits off its branch (a detached HEAD) is saved too", async () => {
    const { root, repo } = await bareBonesRepo();
    const commit = await gitValue(repo, ["rev-parse", "main"]);
    const made = path.join(root, "trees", "spec-1");
    await runGit(repo, ["worktree", "add", "-q", "-b", "tc/spec-1", made, commit]);
    await runGit(made, ["checkout", "-q", "--detach"]);
    const detached = await commitFiles(made, { "detached.txt": "only on HEAD\n" }, "work on a detached HEAD");
    await undoMade({ id: "spec-1", repo, worktree: made, branch: "tc/spec-1", createdBranchAt: commit }, silent);
    expect(await worktreePaths(repo)).toEqual([repo]);
    expect(await gitValue(repo, ["rev-parse", "refs/tmux-claude/stash/spec-1^1"])).toBe(detached);
  });
});

describe("clear errors and documented behaviour (review 13)", () => {
  it("a branch name git rejects because of the instance id blames the id, not branchPrefix", async () => {
    const { repo } = await bareBonesRepo();
    await expect(assertNewBranch(repo, "tc/a..b", { id: "a..b", prefix: "tc/" })).rejects.toMatchObject({
      code: "TC_GIT_BAD_REF",
      message: expect.stringContaining('the instance id "a..b" makes it invalid, not the branchPrefix "tc/"'),
    });
    await expect(assertNewBranch(repo, "bad..x/spec-1", { id: "spec-1", prefix: "bad..x/" })).rejects.toMatchObject({
      message: expect.stringContaining('the plugin\'s branchPrefix "bad..x/" makes it invalid'),
    });
  });

  it("uncommitted changes in the parent's checkout: the spawn succeeds, and its state says what the branch left out", async () => {
    const { h, repo, api } = await start();
    const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    expect((await stateOf(api, manager.id)).uncommittedLeftOut).toBeUndefined();
    await writeFiles(manager.workDir, { "draft.txt": "not committed\n" });
    const { instance } = await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir });
    const leftOut = { checkout: manager.workDir, count: 1, paths: ["draft.txt"] };
    expect((instance.pluginState?.git as GitInstanceState | undefined)?.uncommittedLeftOut).toEqual(leftOut);
    expect((await stateOf(api, instance.id)).uncommittedLeftOut).toEqual(leftOut);
    const status = (await instanceGitStatus(await h.kernel.get(instance.id), {}))!;
    expect(status.uncommittedLeftOut).toEqual(leftOut);
    expect(statusText([status], false)).toContain(`without 1 uncommitted change(s) in ${manager.workDir}`);
  });
});
