import { lstat, mkdir, readFile, readlink, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { GitApi } from "../src/index.js";
import { gitValue } from "../src/git/run.js";
import type { GitInstanceState } from "../src/types.js";
import { branches, commitFiles, gitKernels, worktreePaths, writeFiles } from "./helpers.js";

const { start } = gitKernels("git-iso", { "README.md": "hello\n", "src/app.txt": "app\n" });

const stateOf = async (api: GitApi, id: string) => (await api.status(id)) as GitInstanceState;

describe("isolation per instance", () => {
  it("gives executive, manager and specialists each their own worktree and branch, stacked on the parent's branch", async () => {
    const { h, repo, api } = await start();
    const exec = (await h.kernel.spawn({ role: "executive", workDir: repo })).instance;
    const execState = await stateOf(api, exec.id);
    expect(execState).toMatchObject({ isolation: "worktree", branch: `tc/${exec.id}`, base: "main", repo });
    expect(execState.baseCommit).toBe(await gitValue(repo, ["rev-parse", "main"]));
    expect(exec.workDir).toBe(execState.worktree);
    // Outside the user's tree, under the state dir, keyed by repository.
    expect(execState.worktree.startsWith(path.join(h.stateDir, "worktrees") + path.sep)).toBe(true);
    expect(path.relative(repo, execState.worktree).startsWith("..")).toBe(true);
    expect(await gitValue(exec.workDir, ["symbolic-ref", "--short", "HEAD"])).toBe(`tc/${exec.id}`);

    const execCommit = await commitFiles(exec.workDir, { "exec.txt": "by exec\n" }, "exec work");
    const manager = (await h.kernel.spawn({ role: "manager", parentId: exec.id, workDir: exec.workDir })).instance;
    const managerState = await stateOf(api, manager.id);
    expect(managerState).toMatchObject({ base: `tc/${exec.id}`, baseCommit: execCommit, branch: `tc/${manager.id}` });
    expect(await readFile(path.join(manager.workDir, "exec.txt"), "utf8")).toBe("by exec\n");

    const managerCommit = await commitFiles(manager.workDir, { "plan.txt": "plan\n" }, "manager plan");
    const specs = await Promise.all([1, 2, 3].map(() => h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir })));
    const worktrees = new Set<string>();
    for (const { instance } of specs) {
      const state = await stateOf(api, instance.id);
      expect(state).toMatchObject({ base: `tc/${manager.id}`, baseCommit: managerCommit, branch: `tc/${instance.id}` });
      expect(await gitValue(instance.workDir, ["rev-parse", "HEAD"])).toBe(managerCommit);
      worktrees.add(state.worktree);
    }
    expect(worktrees.size).toBe(3);
    expect(await branches(repo)).toEqual(["main", ...[exec, manager, ...specs.map((s) => s.instance)].map((i) => `tc/${i.id}`)].sort());
    // The user's checkout is untouched: still on main, clean.
    expect(await gitValue(repo, ["symbolic-ref", "--short", "HEAD"])).toBe("main");
    expect(await gitValue(repo, ["status", "--porcelain"])).toBe("");
  });

  it("keeps the workDir's place inside the repository", async () => {
    const { h, repo, api } = await start();
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: path.join(repo, "src") });
    const state = await stateOf(api, instance.id);
    expect(instance.workDir).toBe(path.join(state.worktree, "src"));
    expect(await readFile(path.join(instance.workDir, "app.txt"), "utf8")).toBe("app\n");
  });

  it("takes isolation per spawn over per role over the default", async () => {
    const { h, repo, api } = await start({ roles: { specialist: { isolation: "shared" } } });
    const shared = (await h.kernel.spawn({ role: "specialist", workDir: repo })).instance;
    expect(await stateOf(api, shared.id)).toMatchObject({ isolation: "shared", worktree: repo, branch: "main" });
    expect(shared.workDir).toBe(repo);
    const own = (await h.kernel.spawn({ role: "specialist", workDir: repo, plugins: { git: { isolation: "worktree" } } })).instance;
    expect(await stateOf(api, own.id)).toMatchObject({ isolation: "worktree", branch: `tc/${own.id}` });
    const none = (await h.kernel.spawn({ role: "manager", workDir: repo, plugins: { git: { isolation: "none" } } })).instance;
    expect(await api.status(none.id)).toBeUndefined();
    expect(none.workDir).toBe(repo);
    expect(await branches(repo)).toEqual(["main", `tc/${own.id}`]);
  });

  it("refuses invalid git options of a spawn with one clear error, and makes nothing", async () => {
    const { h, repo } = await start();
    const refused = h.kernel.spawn({ role: "specialist", workDir: repo, plugins: { git: { isolation: "private" } } });
    await expect(refused).rejects.toMatchObject({ code: "TC_GIT_SPAWN_OPTIONS_INVALID", message: expect.stringMatching(/isolation/u) });
    expect(await branches(repo)).toEqual(["main"]);
    expect(await h.kernel.list()).toEqual([]);
  });

  it("reuses the same worktree and branch on restart, and makes the worktree again if it was removed", async () => {
    const { h, repo, api } = await start();
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: repo });
    const state = await stateOf(api, instance.id);
    await commitFiles(instance.workDir, { "work.txt": "done\n" }, "work");
    const restarted = await h.kernel.restart(instance.id);
    expect(restarted.workDir).toBe(instance.workDir);
    expect(await stateOf(api, instance.id)).toEqual(state);

    // The agent checked out another branch there: still its worktree, reused as it is.
    await gitValue(instance.workDir, ["checkout", "-q", "-b", "side"]);
    expect((await h.kernel.restart(instance.id)).workDir).toBe(instance.workDir);
    await gitValue(instance.workDir, ["checkout", "-q", `tc/${instance.id}`]);

    await gitValue(repo, ["worktree", "remove", "--force", state.worktree]);
    const again = await h.kernel.restart(instance.id);
    expect(again.workDir).toBe(instance.workDir);
    expect(await readFile(path.join(again.workDir, "work.txt"), "utf8")).toBe("done\n");
    expect(await worktreePaths(repo)).toEqual([repo, state.worktree]);
  });

  it("removes the worktree and branch of a spawn that fails after beforeSpawn", async () => {
    const { h, repo } = await start({}, [{ name: "refuser", apply: (ctx) => ctx.hooks.beforeSpawn.tapPromise(async () => Promise.reject(new Error("no thanks"))) }]);
    await expect(h.kernel.spawn({ role: "specialist", workDir: repo })).rejects.toThrow(/no thanks/u);
    expect(await branches(repo)).toEqual(["main"]);
    expect(await worktreePaths(repo)).toEqual([repo]);
    const root = path.join(h.stateDir, "worktrees");
    const left = await stat(root).then(async () => (await import("node:fs/promises")).readdir(root, { recursive: true }), () => []);
    expect(left.filter((entry) => !/^[^/]+$/u.test(String(entry)))).toEqual([]);
  });

  it("copies the untracked files the include list and .worktreeinclude name, never following a symlink out of the repository", async () => {
    const { h, repo, api } = await start({ include: ["config/*.json", "links/*"] });
    await commitFiles(repo, { ".gitignore": ".env\nconfig/local.json\nnode_modules/\nlinks/\n", ".worktreeinclude": ".env\n", "config/tracked.json": "{}\n" }, "config");
    await writeFiles(repo, {
      ".env": "SECRET=1\n",
      "config/local.json": "{\"local\":true}\n",
      "config/untracked.txt": "not matched\n",
      "node_modules/dep/index.js": "not matched\n",
    });
    await mkdir(path.join(repo, "links"));
    await symlink("../README.md", path.join(repo, "links", "inside"));
    await symlink("/etc/hostname", path.join(repo, "links", "outside"));
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: repo });
    const worktree = (await stateOf(api, instance.id)).worktree;
    expect(await readFile(path.join(worktree, ".env"), "utf8")).toBe("SECRET=1\n");
    expect(await readFile(path.join(worktree, "config/local.json"), "utf8")).toBe('{"local":true}\n');
    expect(await readlink(path.join(worktree, "links", "inside"))).toBe("../README.md");
    await expect(lstat(path.join(worktree, "links", "outside"))).rejects.toThrow();
    await expect(stat(path.join(worktree, "config/untracked.txt"))).rejects.toThrow();
    await expect(stat(path.join(worktree, "node_modules"))).rejects.toThrow();
    // The copies are ignored in the worktree as in the checkout: they are not the instance's changes.
    expect(await gitValue(worktree, ["status", "--porcelain", "--", "config", ".env"])).toBe("");
  });

  it("shows each instance's branch in the BRANCH column of list", async () => {
    const { h, repo } = await start({ roles: { manager: { isolation: "shared" } } });
    const spec = (await h.kernel.spawn({ role: "specialist", workDir: repo })).instance;
    const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    const columns = await h.kernel.listColumns();
    const branch = columns.find((c) => c.header === "BRANCH")!;
    expect(branch.value(await h.kernel.get(spec.id))).toBe(`tc/${spec.id}`);
    expect(branch.value(await h.kernel.get(manager.id))).toBe("main (shared)");
  });

  it("a restart that fails after remaking the worktree removes the worktree and keeps the branch; a deleted branch is a clear error", async () => {
    let refuseRestarts = false;
    const { h, repo, api } = await start({}, [
      { name: "refuser", apply: (ctx) => ctx.hooks.beforeSpawn.tapPromise(async (plan) => (refuseRestarts && plan.restart ? Promise.reject(new Error("not now")) : plan)) },
    ]);
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: repo });
    const state = await stateOf(api, instance.id);
    const work = await commitFiles(instance.workDir, { "work.txt": "done\n" }, "work");
    await gitValue(repo, ["worktree", "remove", "--force", state.worktree]);
    refuseRestarts = true;
    await expect(h.kernel.restart(instance.id)).rejects.toThrow(/not now/u);
    expect(await worktreePaths(repo)).toEqual([repo]);
    expect(await gitValue(repo, ["rev-parse", `tc/${instance.id}`])).toBe(work);

    refuseRestarts = false;
    await gitValue(repo, ["branch", "-D", `tc/${instance.id}`]);
    await expect(h.kernel.restart(instance.id)).rejects.toMatchObject({ code: "TC_GIT_BRANCH_MISSING", message: expect.stringContaining(`"tc/${instance.id}", which no longer exists`) });
    expect(await worktreePaths(repo)).toEqual([repo]);
  });
});
