// Real repositories for the tests: made in a temp dir, written with the
// plugin's own git runner, removed by the caller.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gitValue, runGit } from "../../src/git/run.js";

/** A fresh repository on branch `main` with an identity, under os.tmpdir(). */
export async function makeRepo(label: string): Promise<string> {
  const repo = await mkdtemp(path.join(os.tmpdir(), `tc-git-${label}-`));
  await runGit(repo, ["init", "-q", "-b", "main"]);
  await runGit(repo, ["config", "user.name", "t"]);
  await runGit(repo, ["config", "user.email", "t@example.invalid"]);
  await runGit(repo, ["config", "commit.gpgsign", "false"]);
  return repo;
}

/** What a commit does to one path: new content, or null to delete it. */
export type FileChanges = Record<string, string | Buffer | null>;

/**
 * Check out `branch` (created from `from` when given), apply `changes`, commit
 * them all with `message`; returns the new commit. `renames` run first (git mv).
 */
export async function commitOn(
  repo: string,
  branch: string,
  changes: FileChanges,
  options: { from?: string; message?: string; renames?: Record<string, string> } = {},
): Promise<string> {
  if (options.from) await runGit(repo, ["checkout", "-q", "-b", branch, options.from]);
  // The first commit goes on the unborn current branch, which checkout cannot name yet.
  else if ((await gitValue(repo, ["symbolic-ref", "--short", "HEAD"])) !== branch) await runGit(repo, ["checkout", "-q", branch]);
  for (const [from, to] of Object.entries(options.renames ?? {})) {
    await mkdir(path.dirname(path.join(repo, to)), { recursive: true });
    await runGit(repo, ["mv", "--", from, to]);
  }
  for (const [file, content] of Object.entries(changes)) {
    const full = path.join(repo, file);
    if (content === null) {
      await runGit(repo, ["rm", "-q", "-r", "--", file]);
      continue;
    }
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, content);
  }
  await runGit(repo, ["add", "-A"]);
  await runGit(repo, ["commit", "-q", "--allow-empty", "-m", options.message ?? `change on ${branch}`]);
  return gitValue(repo, ["rev-parse", "HEAD"]);
}

export async function removeRepo(repo: string | undefined): Promise<void> {
  if (repo) await rm(repo, { recursive: true, force: true });
}

/** `n` numbered lines (`<prefix> 1` ...), each ending in a newline. */
export function lines(prefix: string, n = 9): string {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}\n`).join("");
}
