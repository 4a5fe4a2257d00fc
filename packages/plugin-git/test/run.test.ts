import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FALLBACK_IDENTITY, withIdentity } from "../src/git/identity.js";
import { gitValue, runGit } from "../src/git/run.js";
import { commitTree } from "../src/merge/commits.js";

let repo: string;

beforeAll(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), "tc-git-run-"));
  await runGit(repo, ["init", "-q", "-b", "main"]);
  await runGit(repo, ["config", "user.name", "t"]);
  await runGit(repo, ["config", "user.email", "t@example.invalid"]);
});
afterAll(() => rm(repo, { recursive: true, force: true }));

describe("runGit", () => {
  it("passes arguments without a shell: a value with shell syntax is one argument", async () => {
    await writeFile(path.join(repo, "a.txt"), "a\n");
    await runGit(repo, ["add", "a.txt"]);
    await runGit(repo, ["commit", "-q", "-m", "$(touch pwned); `id` && echo 'x'"]);
    expect(await gitValue(repo, ["log", "-1", "--format=%s"])).toBe("$(touch pwned); `id` && echo 'x'");
  });

  it("writes stdin when asked", async () => {
    const blob = await gitValue(repo, ["hash-object", "--stdin"], { input: "hello\n" });
    expect(blob).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });

  it("returns an expected non-zero exit as an answer, and fails on any other with git's words", async () => {
    const result = await runGit(repo, ["rev-parse", "--verify", "-q", "refs/heads/nope"], { ok: [0, 1] });
    expect(result.code).toBe(1);
    await expect(runGit(repo, ["rev-parse", "--verify", "refs/heads/nope"])).rejects.toMatchObject({
      code: "TC_GIT_COMMAND_FAILED",
      message: expect.stringMatching(/git rev-parse --verify refs\/heads\/nope failed in .* \(exit 128\): fatal: Needed a single revision/u),
    });
  });

  it("names a missing directory as a failure, not a crash", async () => {
    await expect(runGit(path.join(repo, "missing"), ["status"])).rejects.toMatchObject({ code: expect.stringMatching(/^TC_GIT_/u) });
  });

  it("adds a caller's variables (a scratch index) also when the environment has ones simple-git guards (EDITOR, GIT_PAGER)", async () => {
    const saved = { EDITOR: process.env.EDITOR, GIT_PAGER: process.env.GIT_PAGER };
    process.env.EDITOR = "vi";
    process.env.GIT_PAGER = "less";
    try {
      const index = path.join(repo, "scratch-index");
      await runGit(repo, ["read-tree", "HEAD"], { env: { GIT_INDEX_FILE: index } });
      expect(await gitValue(repo, ["ls-files"], { env: { GIT_INDEX_FILE: index } })).toBe("a.txt");
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe("commits on a machine without a git identity", () => {
  it("commitTree and auto-commit's identity fall back to tmux-claude; a configured identity wins", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "tc-git-home-"));
    const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
    const bare = await mkdtemp(path.join(os.tmpdir(), "tc-git-noid-"));
    try {
      process.env.HOME = home;
      delete process.env.XDG_CONFIG_HOME;
      await runGit(bare, ["init", "-q", "-b", "main"]);
      const tree = await gitValue(bare, ["write-tree"]);
      // Without the fallback git refuses: "Please tell me who you are".
      await expect(runGit(bare, ["commit-tree", tree, "-m", "x"])).rejects.toMatchObject({ code: "TC_GIT_COMMAND_FAILED" });
      const commit = await commitTree(bare, tree, [], "by the plugin");
      expect(await gitValue(bare, ["log", "-1", "--format=%an <%ae>|%cn", commit])).toBe(`${FALLBACK_IDENTITY.name} <${FALLBACK_IDENTITY.email}>|${FALLBACK_IDENTITY.name}`);
      await runGit(bare, ["config", "user.name", "Ada"]);
      await runGit(bare, ["config", "user.email", "ada@example.invalid"]);
      const own = await commitTree(bare, tree, [], "by the user's identity");
      expect(await gitValue(bare, ["log", "-1", "--format=%an <%ae>", own])).toBe("Ada <ada@example.invalid>");
      expect(await withIdentity(bare)).toEqual({});
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await rm(home, { recursive: true, force: true });
      await rm(bare, { recursive: true, force: true });
    }
  });
});
