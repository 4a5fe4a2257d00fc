// Test helpers: real git repositories in temp dirs, and kernels running the plugin on them.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Plugin } from "@tmux-claude/core";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { afterEach } from "vitest";
import { gitValue, runGit } from "../src/git/run.js";
import { git, type GitApi, type GitUserOptions } from "../src/index.js";

/** A started kernel with the git plugin, and a repository (branch `main`, one commit) at its workDir. */
export interface GitKernel {
  readonly h: Harness;
  readonly repo: string;
  readonly api: GitApi;
}

/**
 * For one test file: `start(options)` gives a kernel (testkit harness, private
 * tmux socket) running `git(options)` (plus `more` plugins after it) with a
 * repository holding `files`; it is closed after each test.
 */
export function gitKernels(label: string, files?: Record<string, string>): { start(options?: GitUserOptions, more?: Plugin[]): Promise<GitKernel> } {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    async start(options = {}, more = []) {
      current = await createHarness({ plugins: [git(options), ...more] }, { label });
      const repo = await makeRepo(current.workDir, files);
      return { h: current, repo, api: current.kernel.plugin<GitApi>("git")! };
    },
  };
}

/** `git init` a repository at `dir` on branch `main`, with an identity and one commit holding `files`. */
export async function makeRepo(dir: string, files: Record<string, string> = { "README.md": "hello\n" }): Promise<string> {
  await mkdir(dir, { recursive: true });
  await runGit(dir, ["init", "-q", "-b", "main"]);
  await runGit(dir, ["config", "user.name", "Test"]);
  await runGit(dir, ["config", "user.email", "test@example.invalid"]);
  await commitFiles(dir, files, "initial");
  return dir;
}

/** Write files (creating directories) and commit them. Returns the new commit. */
export async function commitFiles(dir: string, files: Record<string, string>, message: string): Promise<string> {
  await writeFiles(dir, files);
  await runGit(dir, ["add", "-A"]);
  await runGit(dir, ["commit", "-q", "-m", message]);
  return gitValue(dir, ["rev-parse", "HEAD"]);
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
}

/** Local branches of a repository. */
export async function branches(repo: string): Promise<string[]> {
  const out = await gitValue(repo, ["for-each-ref", "--format=%(refname:short)", "refs/heads"]);
  return out.split("\n").filter(Boolean).sort();
}

/** Registered worktree paths of a repository (the main one first). */
export async function worktreePaths(repo: string): Promise<string[]> {
  const out = await gitValue(repo, ["worktree", "list", "--porcelain"]);
  return out
    .split("\n")
    .filter((line) => line.startsWith("worktree "))
    .map((line) => line.slice("worktree ".length));
}
