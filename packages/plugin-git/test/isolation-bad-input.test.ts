import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { Harness } from "@tmux-claude/testkit";
import { describe, expect, it } from "vitest";
import { checkGitVersion, parseGitVersion } from "../src/git/repo.js";
import { gitValue, runGit } from "../src/git/run.js";
import { git } from "../src/index.js";
import { branches, commitFiles, gitKernels, worktreePaths, writeFiles } from "./helpers.js";

const { start } = gitKernels("git-bad");

/** Nothing of a refused spawn is left: no instance, no new branch, no worktree, nothing under the worktree dir. */
async function expectNothingMade(h: Harness, repo: string, userBranches: string[] = ["main"]): Promise<void> {
  expect(await h.kernel.list()).toEqual([]);
  expect(await branches(repo)).toEqual(userBranches);
  expect(await worktreePaths(repo)).toEqual([repo]);
  const root = path.join(h.stateDir, "worktrees");
  const repoDirs = await readdir(root).catch(() => []);
  for (const dir of repoDirs) expect(await readdir(path.join(root, dir))).toEqual([]);
}

describe("bad input to isolation: one clear error, nothing half-created", () => {
  it("a workDir outside any repository: runs without git by default, refused when the spawn or config asks for a worktree", async () => {
    const { h, api } = await start();
    const plain = path.join(h.dir, "plain");
    await mkdir(plain);
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: plain });
    expect(instance.workDir).toBe(plain);
    expect(await api.status(instance.id)).toBeUndefined();
    await expect(h.kernel.spawn({ role: "specialist", workDir: plain, plugins: { git: { isolation: "worktree" } } })).rejects.toMatchObject({
      code: "TC_GIT_NOT_A_REPO",
      message: expect.stringContaining(`${plain} is not inside a git repository`),
    });
    expect((await h.kernel.list()).map((i) => i.id)).toEqual([instance.id]);

    const strict = await h.startKernel({ config: { plugins: [git({ outsideRepo: "error" })] } });
    await expect(strict.spawn({ role: "specialist", workDir: plain })).rejects.toMatchObject({ code: "TC_GIT_NOT_A_REPO", message: expect.stringContaining('outsideRepo: "skip"') });
  });

  it("a detached HEAD: refused naming the commit and the fix; baseRef lets it through", async () => {
    const { h, repo, api } = await start();
    await runGit(repo, ["checkout", "-q", "--detach"]);
    await expect(h.kernel.spawn({ role: "specialist", workDir: repo })).rejects.toMatchObject({
      code: "TC_GIT_DETACHED_HEAD",
      message: expect.stringMatching(/detached HEAD .*Check out a branch there, or set baseRef/u),
    });
    await expectNothingMade(h, repo);
    // Sharing the checkout means working on its branch: there is none, whatever the baseRef.
    await expect(h.kernel.spawn({ role: "specialist", workDir: repo, plugins: { git: { isolation: "shared", baseRef: "main" } } })).rejects.toMatchObject({
      code: "TC_GIT_DETACHED_HEAD",
      message: expect.stringContaining("a shared instance works on the branch checked out there"),
    });
    await expectNothingMade(h, repo);
    const { instance } = await h.kernel.spawn({ role: "specialist", workDir: repo, plugins: { git: { baseRef: "main" } } });
    expect(await api.status(instance.id)).toMatchObject({ base: "main", baseCommit: await gitValue(repo, ["rev-parse", "main"]) });
  });

  it("a bare repository: refused, it has no checkout", async () => {
    const { h, repo } = await start();
    const bare = path.join(h.dir, "bare.git");
    await runGit(h.dir, ["clone", "-q", "--bare", repo, bare]);
    await expect(h.kernel.spawn({ role: "specialist", workDir: bare })).rejects.toMatchObject({
      code: "TC_GIT_BARE_REPO",
      message: expect.stringContaining(`${bare} is a bare git repository`),
    });
    expect(await h.kernel.list()).toEqual([]);
    expect(await gitValue(bare, ["for-each-ref", "--format=%(refname:short)", "refs/heads"])).toBe("main");
  });

  it("uncommitted changes in the parent's worktree: the child branches from the parent's last commit, without them", async () => {
    const { h, repo, api } = await start();
    const manager = (await h.kernel.spawn({ role: "manager", workDir: repo })).instance;
    const committed = await commitFiles(manager.workDir, { "done.txt": "committed\n" }, "manager work");
    await writeFiles(manager.workDir, { "draft.txt": "not committed\n", "done.txt": "edited, not committed\n" });
    const { instance } = await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: manager.workDir });
    expect(await api.status(instance.id)).toMatchObject({ base: `tc/${manager.id}`, baseCommit: committed });
    expect(await readFile(path.join(instance.workDir, "done.txt"), "utf8")).toBe("committed\n");
    await expect(stat(path.join(instance.workDir, "draft.txt"))).rejects.toThrow();
    // The parent's uncommitted work is where it was.
    expect(await readFile(path.join(manager.workDir, "draft.txt"), "utf8")).toBe("not committed\n");
  });

  it("a branch that exists: refused, the user's branch untouched", async () => {
    const { h, repo } = await start();
    await runGit(repo, ["branch", "tc/spec-1"]);
    const before = await gitValue(repo, ["rev-parse", "tc/spec-1"]);
    await expect(h.kernel.spawn({ role: "specialist", workDir: repo })).rejects.toMatchObject({
      code: "TC_GIT_BRANCH_EXISTS",
      message: expect.stringContaining('The branch "tc/spec-1" already exists'),
    });
    expect(await gitValue(repo, ["rev-parse", "tc/spec-1"])).toBe(before);
    await expectNothingMade(h, repo, ["main", "tc/spec-1"]);
  });

  it("a branch prefix git rejects, a baseRef that names nothing, a worktree path that is taken", async () => {
    const { h, repo } = await start({ branchPrefix: "bad..prefix/" });
    await expect(h.kernel.spawn({ role: "specialist", workDir: repo })).rejects.toMatchObject({ code: "TC_GIT_BAD_REF", message: expect.stringContaining("branchPrefix") });
    await expectNothingMade(h, repo);

    const other = await h.startKernel({ config: { plugins: [git({ worktreeDir: path.join(h.dir, "trees") })] } });
    await expect(other.spawn({ role: "specialist", workDir: repo, plugins: { git: { baseRef: "no-such-branch" } } })).rejects.toMatchObject({
      code: "TC_GIT_BAD_REF",
      message: expect.stringContaining('"no-such-branch", which names no commit'),
    });
    const { instance } = await other.spawn({ role: "specialist", workDir: repo });
    // The next instance's worktree path, occupied by someone's files.
    const taken = path.join(path.dirname(instance.workDir), instance.id.replace(/\d+$/u, (n) => String(Number(n) + 1)));
    await mkdir(taken);
    await writeFiles(taken, { "mine.txt": "keep me\n" });
    await expect(other.spawn({ role: "specialist", workDir: repo })).rejects.toMatchObject({ code: "TC_GIT_WORKTREE_EXISTS", message: expect.stringContaining(taken) });
    expect(await readFile(path.join(taken, "mine.txt"), "utf8")).toBe("keep me\n");
    expect(await branches(repo)).toEqual(["main", `tc/${instance.id}`]);
  });

  it("invalid plugin options: one error naming the plugin, the option and the fix", () => {
    expect(() => git({ isolation: "private" as never, include: [""] })).toThrow(
      expect.objectContaining({ code: "TC_PLUGIN_OPTIONS_INVALID", message: expect.stringMatching(/plugin "git":\n {2}- isolation: .*\n {2}- include\[0\]: .*\nFix the options/u) }),
    );
    expect(() => git({ worktreDir: "/x" } as never)).toThrow(/worktreDir/u);
  });

  it("git older than 2.38 or missing: TC_GIT_UNAVAILABLE naming the version and the fix", async () => {
    expect(() => parseGitVersion("git version 2.37.1")).toThrow(expect.objectContaining({ code: "TC_GIT_UNAVAILABLE", message: expect.stringContaining('"git version 2.37.1"; the git plugin needs 2.38 or newer') }));
    expect(parseGitVersion("git version 2.39.5")).toBe("2.39.5");
    expect(parseGitVersion("git version 3.0.0.windows.1")).toBe("3.0.0");
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(process.cwd(), "no-such-bin");
    try {
      await expect(checkGitVersion()).rejects.toMatchObject({ code: "TC_GIT_UNAVAILABLE", message: expect.stringContaining("Install git 2.38 or newer") });
    } finally {
      process.env.PATH = savedPath;
    }
  });
});
