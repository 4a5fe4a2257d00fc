// Making and unmaking an instance's worktree and branch. Every step that
// could leave something half-made is undone by the caller through
// `undoMade`, which deletes only what this process just created: a branch
// only while it still points at the commit it was made at.
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { branchExists, isValidBranchName, listWorktrees, worktreeOfBranch, type WorktreeEntry } from "../git/repo.js";
import { runGit } from "../git/run.js";

/** What one beforeSpawn made, so a failed spawn can take exactly that back. */
export interface Made {
  /** A checkout of the repository to run git in (the main worktree). */
  readonly repo: string;
  readonly worktree: string;
  readonly branch: string;
  /** Set when the branch was created here: it is deleted only while it still points at this commit. */
  readonly createdBranchAt?: string;
}

/** Refuse a branch name git would reject, or one that exists (never reuse or delete a user's branch). */
export async function assertNewBranch(repo: string, branch: string, prefixOption: string): Promise<void> {
  if (!(await isValidBranchName(repo, branch))) {
    throw new TmuxClaudeError(
      GitErrorCodes.BAD_REF,
      `"${branch}" is not a valid branch name (git check-ref-format). Change the plugin's branchPrefix ("${prefixOption}").`,
      { branch, branchPrefix: prefixOption },
    );
  }
  if (await branchExists(repo, branch)) {
    const where = await worktreeOfBranch(repo, branch);
    throw new TmuxClaudeError(
      GitErrorCodes.BRANCH_EXISTS,
      `The branch "${branch}" already exists${where ? ` (checked out in ${where.path})` : ""}; the git plugin never reuses or deletes a branch it did not make for this instance. Rename or delete that branch yourself, or set a different branchPrefix.`,
      { branch },
    );
  }
}

/** Refuse a worktree path that is already taken (a leftover, or someone's files). */
export async function assertFreePath(worktree: string): Promise<void> {
  if (await stat(worktree).then(() => true, () => false)) {
    throw new TmuxClaudeError(
      GitErrorCodes.WORKTREE_EXISTS,
      `The worktree path ${worktree} already exists. Move or remove it (after saving anything in it), or set worktreeDir to another directory.`,
      { worktree },
    );
  }
}

/** `git worktree add -b <branch> <path> <commit>`: a new branch and its worktree in one git command. */
export async function addWorktreeWithBranch(repo: string, worktree: string, branch: string, commit: string): Promise<Made> {
  await mkdir(path.dirname(worktree), { recursive: true });
  // Not -q: simple-git waits 50 ms more after a git process that printed nothing (see BENCHMARKS.md).
  await runGit(repo, ["worktree", "add", "--no-track", "-b", branch, worktree, commit]);
  return { repo, worktree, branch, createdBranchAt: commit };
}

/** Recreate the worktree of an existing branch (a restart whose worktree was removed). */
export async function addWorktreeForBranch(repo: string, worktree: string, branch: string): Promise<Made> {
  const elsewhere = await worktreeOfBranch(repo, branch);
  if (elsewhere && !elsewhere.prunable && path.resolve(elsewhere.path) !== path.resolve(worktree)) {
    throw new TmuxClaudeError(
      GitErrorCodes.WORKTREE_EXISTS,
      `The branch "${branch}" is checked out in ${elsewhere.path}, so its worktree cannot be made again at ${worktree}. Check out another branch there, or remove that worktree.`,
      { branch, worktree: elsewhere.path },
    );
  }
  // A worktree whose directory was deleted stays registered until pruned, and blocks `worktree add` of its branch.
  await runGit(repo, ["worktree", "prune"]);
  await mkdir(path.dirname(worktree), { recursive: true });
  // Not -q, as above: the progress line on stderr ends simple-git's wait.
  await runGit(repo, ["worktree", "add", worktree, branch]);
  return { repo, worktree, branch };
}

/**
 * The registered worktree at `worktree` with its directory present, or
 * undefined. Its branch may differ from the instance's (the agent checked
 * out another one): it is still the instance's worktree.
 */
export async function liveWorktree(repo: string, worktree: string): Promise<WorktreeEntry | undefined> {
  if (!(await stat(worktree).then((s) => s.isDirectory(), () => false))) return undefined;
  const entries = await listWorktrees(repo).catch(() => []);
  return entries.find((entry) => path.resolve(entry.path) === path.resolve(worktree) && !entry.prunable);
}

/**
 * Take back what was made: the worktree (it holds only what was just checked
 * out and copied in), then the branch, compare-and-delete against the commit
 * it was made at so a branch that got work is kept.
 */
export async function undoMade(made: Made, logger: Logger): Promise<void> {
  await runGit(made.repo, ["worktree", "remove", "--force", made.worktree]).catch(async (error: unknown) => {
    logger.warn({ err: error, worktree: made.worktree }, "could not remove the worktree of a failed spawn; pruning");
    await runGit(made.repo, ["worktree", "prune"]).catch(() => undefined);
  });
  if (made.createdBranchAt === undefined) return;
  await runGit(made.repo, ["update-ref", "-d", `refs/heads/${made.branch}`, made.createdBranchAt]).catch((error: unknown) =>
    logger.warn({ err: error, branch: made.branch }, "kept the branch of a failed spawn: it moved since it was made"),
  );
}
