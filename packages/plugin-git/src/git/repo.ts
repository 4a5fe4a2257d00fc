// Facts about a repository, each asked of git (never guessed from the file
// system): where its checkout starts, its main worktree and common dir, the
// branch a checkout is on, whether it is bare, whether git is new enough.
import { createHash } from "node:crypto";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { gitValue, runGit } from "./run.js";

/** `git merge-tree --write-tree` (forecast, merge) appeared in 2.38. */
export const MIN_GIT_VERSION = [2, 38] as const;

let versionCheck: Promise<string> | undefined;

/**
 * The installed git's version, once per process; a missing git or one older
 * than 2.38 is TC_GIT_UNAVAILABLE naming the version found and the fix.
 */
export function assertGitVersion(): Promise<string> {
  versionCheck ??= checkGitVersion().catch((error: unknown) => {
    // A failed check is not cached: installing git fixes the next spawn without a restart.
    versionCheck = undefined;
    throw error;
  });
  return versionCheck;
}

/** Ask the git on PATH for its version (uncached; see assertGitVersion). */
export async function checkGitVersion(): Promise<string> {
  return parseGitVersion(await gitValue(process.cwd(), ["--version"]));
}

/** `git version 2.39.5` -> "2.39.5"; older than 2.38 (or unreadable) is TC_GIT_UNAVAILABLE. */
export function parseGitVersion(printed: string): string {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/u.exec(printed);
  const [major, minor] = [Number(match?.[1] ?? 0), Number(match?.[2] ?? 0)];
  if (!match || major < MIN_GIT_VERSION[0] || (major === MIN_GIT_VERSION[0] && minor < MIN_GIT_VERSION[1])) {
    throw new TmuxClaudeError(
      GitErrorCodes.GIT_UNAVAILABLE,
      `git is too old: "${printed}"; the git plugin needs ${MIN_GIT_VERSION.join(".")} or newer (for merge-tree --write-tree). Install a newer git and put it first on PATH.`,
      { version: printed },
    );
  }
  return match[0];
}

/** Where a directory sits in git: its checkout and the repository behind it. */
export interface CheckoutFacts {
  /** The top level of the checkout holding the directory (the main worktree or a linked one). */
  readonly toplevel: string;
  /** The repository's common git dir (shared by all its worktrees), absolute. */
  readonly commonDir: string;
  /** The main worktree's top level: the user's own checkout. */
  readonly mainWorktree: string;
  /** The branch checked out there, or undefined on a detached HEAD. */
  readonly branch: string | undefined;
  /** The commit checked out there (undefined in a repository without commits). */
  readonly head: string | undefined;
}

/**
 * The checkout a directory is in, or undefined when it is in no repository.
 * A bare repository or a `.git` directory has no checkout: TC_GIT_BARE_REPO.
 */
export async function checkoutOf(dir: string): Promise<CheckoutFacts | undefined> {
  // One git call on the spawn path: the facts in order, HEAD's commit, then its symbolic name (`HEAD` when detached).
  // Git stops at the first thing it cannot answer, so a short answer says where it stopped: nothing (no repository),
  // two lines (bare, or inside .git: no work tree), four (a branch without commits).
  const args = ["rev-parse", "--is-bare-repository", "--is-inside-work-tree", "--path-format=absolute", "--git-common-dir", "--show-toplevel", "HEAD", "--symbolic-full-name", "HEAD"];
  const result = await runGit(dir, args, { ok: [0, 128] });
  const lines = result.stdout.split("\n");
  if (result.code === 128 && lines.length < 2) return undefined;
  const [bare, inside, commonDir = dir, toplevel = dir, head, symbolic] = lines;
  if (bare === "true" || inside !== "true") {
    throw new TmuxClaudeError(
      GitErrorCodes.BARE_REPO,
      `${dir} is ${bare === "true" ? "a bare git repository" : "inside a git directory"}: it has no checkout to make a worktree from. Spawn in a checkout of it (a normal clone or one of its worktrees), or use isolation "none".`,
      { workDir: dir },
    );
  }
  const hasCommit = result.code === 0 && head !== undefined && /^[0-9a-f]{40,64}$/u.test(head);
  const branch = hasCommit ? symbolic?.startsWith("refs/heads/") ? symbolic.slice("refs/heads/".length) : undefined : await currentBranch(toplevel);
  // The usual layout names the main worktree without asking: its common dir is <main worktree>/.git.
  const mainWorktree = path.basename(commonDir) === ".git" ? path.dirname(commonDir) : await mainWorktreeOf(toplevel);
  return { toplevel, commonDir, mainWorktree, branch, head: hasCommit ? head : undefined };
}

/** The branch checked out in a checkout, or undefined on a detached HEAD. */
export async function currentBranch(checkout: string): Promise<string | undefined> {
  const result = await runGit(checkout, ["symbolic-ref", "-q", "--short", "HEAD"], { ok: [0, 1] });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** The commit a ref names, or undefined when it names none. */
export async function resolveCommit(repo: string, ref: string): Promise<string | undefined> {
  const result = await runGit(repo, ["rev-parse", "--verify", "-q", "--end-of-options", `${ref}^{commit}`], { ok: [0, 1] });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** Is there a local branch of this name? */
export async function branchExists(repo: string, branch: string): Promise<boolean> {
  return (await resolveCommit(repo, `refs/heads/${branch}`)) !== undefined;
}

/** Is `name` a branch name git accepts (`git check-ref-format --branch`)? */
export async function isValidBranchName(repo: string, name: string): Promise<boolean> {
  return (await runGit(repo, ["check-ref-format", "--branch", name], { ok: [0, 1, 128] })).code === 0;
}

/** The paths `git status` reports as changed or untracked in a checkout (empty: clean). */
export async function dirtyPaths(checkout: string): Promise<string[]> {
  const { changed, untracked } = await checkoutChanges(checkout);
  return [...changed, ...untracked];
}

/**
 * One `git status` of a checkout, split: tracked files with changes (staged
 * or not) and untracked files (merge: the first refuse a merge, the second
 * only where the merge adds a file).
 */
export async function checkoutChanges(checkout: string): Promise<{ changed: string[]; untracked: string[] }> {
  // --no-optional-locks: a status asked in the background must not take index.lock (a kill would leave it behind).
  const out = (await runGit(checkout, ["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"])).stdout;
  const changed: string[] = [];
  const untracked: string[] = [];
  const entries = out.split("\0");
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    (entry.startsWith("??") ? untracked : changed).push(entry.slice(3));
    // A rename or copy is followed by its source path, which is not a change of its own.
    if (entry[0] === "R" || entry[0] === "C") i++;
  }
  return { changed, untracked };
}

/** A registered worktree (`git worktree list --porcelain`). */
export interface WorktreeEntry {
  readonly path: string;
  readonly head: string | undefined;
  /** Short branch name, or undefined (detached, bare). */
  readonly branch: string | undefined;
  readonly bare: boolean;
  /** Registered, but its directory is gone (`prunable`). */
  readonly prunable: boolean;
}

/** Every worktree of the repository, the main one first. */
export async function listWorktrees(repo: string): Promise<WorktreeEntry[]> {
  const out = (await runGit(repo, ["worktree", "list", "--porcelain", "-z"])).stdout;
  const entries: WorktreeEntry[] = [];
  let current: { path?: string; head?: string; branch?: string; bare: boolean; prunable: boolean } = { bare: false, prunable: false };
  const flush = () => {
    if (current.path !== undefined) entries.push({ path: current.path, head: current.head, branch: current.branch, bare: current.bare, prunable: current.prunable });
    current = { bare: false, prunable: false };
  };
  for (const field of out.split("\0")) {
    if (field === "") flush();
    else if (field.startsWith("worktree ")) current.path = field.slice("worktree ".length);
    else if (field.startsWith("HEAD ")) current.head = field.slice(5);
    else if (field.startsWith("branch ")) current.branch = field.slice(7).replace(/^refs\/heads\//u, "");
    else if (field === "bare") current.bare = true;
    else if (field.startsWith("prunable")) current.prunable = true;
  }
  flush();
  return entries;
}

/** The main worktree's top level (the first entry git lists). */
export async function mainWorktreeOf(checkout: string): Promise<string> {
  const [main] = await listWorktrees(checkout);
  return main?.path ?? checkout;
}

/** The worktree a branch is checked out in, if any. */
export async function worktreeOfBranch(repo: string, branch: string): Promise<WorktreeEntry | undefined> {
  return (await listWorktrees(repo)).find((entry) => entry.branch === branch);
}

/**
 * A directory name for a repository, stable and unique per repository:
 * its main worktree's name plus a short hash of its common dir
 * (`app-3f2a9c1d`), so two clones named `app` never share a folder.
 */
export async function repoKey(facts: Pick<CheckoutFacts, "commonDir" | "mainWorktree">): Promise<string> {
  const common = await realpath(facts.commonDir).catch(() => facts.commonDir);
  const hash = createHash("sha256").update(common).digest("hex").slice(0, 8);
  const name = path.basename(facts.mainWorktree).replace(/[^A-Za-z0-9._-]+/gu, "_") || "repo";
  return `${name}-${hash}`;
}

/** The repository's common git directory (the main worktree's `.git`), absolute, from the repo or any of its worktrees. */
export function commonDirOf(repoOrWorktree: string): Promise<string> {
  return gitValue(repoOrWorktree, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
}
