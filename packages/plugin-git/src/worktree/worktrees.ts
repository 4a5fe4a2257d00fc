// Making and unmaking an instance's worktree and branch. Every step that
// could leave something half-made is undone by the caller through
// `undoMade`, which deletes only what this process just created: a branch
// only while it still points at the commit it was made at, a worktree only
// after any work in it is saved.
import { mkdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { recoverCommand, saveWork } from "../gc/stash.js";
import { branchExists, isValidBranchName, listWorktrees, resolveCommit, worktreeOfBranch, type WorktreeEntry } from "../git/repo.js";
import { runGit } from "../git/run.js";

/** What one beforeSpawn made, so a failed spawn can take exactly that back. */
export interface Made {
  /** The instance it was made for (names the stash ref its work is saved on). */
  readonly id: string;
  /** A checkout of the repository to run git in (the main worktree). */
  readonly repo: string;
  readonly worktree: string;
  readonly branch: string;
  /** Set when the branch was created here: it is deleted only while it still points at this commit. */
  readonly createdBranchAt?: string;
}

/** Where an instance's branch name comes from, so a name git rejects is blamed on the right one. */
export interface BranchNaming {
  readonly id: string;
  readonly prefix: string;
}

/** Refuse a branch name git would reject, or one that exists (never reuse or delete a user's branch). */
export async function assertNewBranch(repo: string, branch: string, naming: BranchNaming): Promise<void> {
  if (!(await isValidBranchName(repo, branch))) {
    // The prefix is at fault only when it is invalid with any id; otherwise the id makes the name invalid (a role prefix, say).
    const prefixAtFault = !(await isValidBranchName(repo, `${naming.prefix}a`));
    throw new TmuxClaudeError(
      GitErrorCodes.BAD_REF,
      prefixAtFault
        ? `"${branch}" is not a valid branch name (git check-ref-format): the plugin's branchPrefix "${naming.prefix}" makes it invalid. Change branchPrefix in git({...}).`
        : `"${branch}" is not a valid branch name (git check-ref-format): the instance id "${naming.id}" makes it invalid, not the branchPrefix "${naming.prefix}". Give the role an id prefix git accepts in branch names (roles.<role>.prefix: letters, digits, "-", "_"), or spawn it with --plugin git.isolation=shared or none.`,
      { branch, id: naming.id, branchPrefix: naming.prefix, blamed: prefixAtFault ? "branchPrefix" : "id" },
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

/**
 * A new branch at `commit` and its worktree. The branch is made first,
 * create-only (`update-ref <ref> <commit> ""`), so which branch is ours is
 * never a guess: git's `worktree add -b` keeps a branch it made when a later
 * step fails, and a failure after the checkout (a post-checkout hook that
 * exits non-zero) keeps the worktree too. Whatever fails after the branch
 * exists is taken back, and git's own error is what the spawn reports.
 */
export async function addWorktreeWithBranch(repo: string, worktree: string, naming: BranchNaming & { branch: string }, commit: string, logger: Logger): Promise<Made> {
  const made: Made = { id: naming.id, repo, worktree, branch: naming.branch, createdBranchAt: commit };
  const created = await runGit(repo, ["update-ref", "-m", `tmux-claude: branch of instance ${naming.id}`, `refs/heads/${naming.branch}`, commit, ""], { ok: [0, 128] });
  if (created.code !== 0) {
    // Off the hot path: only now is git asked whether the name was invalid or taken, for an error that says which.
    await assertNewBranch(repo, naming.branch, naming);
    throw new TmuxClaudeError(GitErrorCodes.COMMAND_FAILED, `git could not create the branch "${naming.branch}" in ${repo}: ${created.stderr.trim()}`, { branch: naming.branch, repo });
  }
  try {
    await mkdir(path.dirname(worktree), { recursive: true });
    await runGit(repo, ["worktree", "add", "-q", worktree, naming.branch]);
  } catch (error) {
    await undoMade(made, logger);
    throw error;
  }
  return made;
}

/** Recreate the worktree of an existing branch (a restart whose worktree was removed). */
export async function addWorktreeForBranch(id: string, repo: string, worktree: string, branch: string): Promise<Made> {
  const elsewhere = await worktreeOfBranch(repo, branch);
  if (elsewhere && !(await samePath(elsewhere.path, worktree))) {
    throw new TmuxClaudeError(
      GitErrorCodes.WORKTREE_EXISTS,
      elsewhere.prunable
        ? `The branch "${branch}" is registered as checked out in ${elsewhere.path}, whose directory is missing (deleted, or on a volume that is not mounted), so its worktree cannot be made again at ${worktree}. Mount it again, or run git worktree prune if it is gone for good.`
        : `The branch "${branch}" is checked out in ${elsewhere.path}, so its worktree cannot be made again at ${worktree}. Check out another branch there, or remove that worktree.`,
      { branch, worktree: elsewhere.path },
    );
  }
  // Our own worktree whose directory was deleted stays registered and blocks `worktree add`: unregister that one only.
  await removeOwnWorktree(repo, worktree);
  await mkdir(path.dirname(worktree), { recursive: true });
  await runGit(repo, ["worktree", "add", "-q", worktree, branch]);
  return { id, repo, worktree, branch };
}

/**
 * The registered worktree at `worktree` with its directory present, or
 * undefined. Its branch may differ from the instance's (the agent checked
 * out another one): it is still the instance's worktree.
 */
export async function liveWorktree(repo: string, worktree: string): Promise<WorktreeEntry | undefined> {
  if (!(await stat(worktree).then((s) => s.isDirectory(), () => false))) return undefined;
  const entry = await registeredWorktree(repo, worktree).catch(() => undefined);
  return entry && !entry.prunable ? entry : undefined;
}

/** The worktree git has registered at this path (its directory present or not), or undefined. */
export async function registeredWorktree(repo: string, worktree: string): Promise<WorktreeEntry | undefined> {
  for (const entry of await listWorktrees(repo)) {
    if (await samePath(entry.path, worktree)) return entry;
  }
  return undefined;
}

/**
 * Remove the plugin's own worktree: its registration, and its directory when
 * present; returns false when nothing is registered at that path. Never
 * `git worktree prune`: that unregisters every worktree whose directory is
 * missing at the moment, a user's on an unmounted volume too.
 * Without `discard` git refuses a tree with changes (the caller saves them
 * first); `evenLocked` also removes one git locked while adding it (what a
 * killed `worktree add` leaves), for scratch worktrees nobody else uses.
 */
export async function removeOwnWorktree(repo: string, worktree: string, options: { discard?: boolean; evenLocked?: boolean } = {}): Promise<boolean> {
  const entry = await registeredWorktree(repo, worktree);
  if (!entry) return false;
  const force = options.evenLocked ? ["--force", "--force"] : options.discard ? ["--force"] : [];
  await runGit(repo, ["worktree", "remove", ...force, entry.path]);
  return true;
}

/**
 * Take back what was made: the worktree, then the branch, compare-and-delete
 * against the commit it was made at so a branch that got work is kept. A
 * worktree with work in it (changes, or commits its branch lacks: the agent
 * already had its first prompt when a later step failed) is saved on the
 * instance's stash ref first; if saving fails, worktree and branch are kept.
 * Only a worktree registered at our path is touched: a directory there that
 * git did not register as ours (add failed early) is not the plugin's.
 */
export async function undoMade(made: Made, logger: Logger): Promise<void> {
  const entry = await registeredWorktree(made.repo, made.worktree).catch(() => undefined);
  if (entry) {
    const removedClean = !(await headOffBranch(made)) && (await removeOwnWorktree(made.repo, made.worktree).then(() => true, () => false));
    if (!removedClean) {
      try {
        const saved = await saveWork(made.worktree, made.id, "its spawn failed");
        logger.warn({ instance: made.id, ref: saved.ref, commit: saved.commit }, `saved the work in the worktree of the failed spawn ${made.id} on ${saved.ref}; recover it with: ${recoverCommand(made.id)}`);
        await removeOwnWorktree(made.repo, made.worktree, { discard: true });
      } catch (error) {
        logger.warn({ err: error, worktree: made.worktree, branch: made.branch }, "kept the worktree and branch of a failed spawn: its work could not be saved, or the worktree not removed");
        return;
      }
    }
  }
  if (made.createdBranchAt === undefined) return;
  await runGit(made.repo, ["update-ref", "-d", `refs/heads/${made.branch}`, made.createdBranchAt]).catch((error: unknown) =>
    logger.warn({ err: error, branch: made.branch }, "kept the branch of a failed spawn: it moved since it was made"),
  );
}

/** Is the worktree's HEAD a commit its branch does not contain (the agent committed on a detached HEAD)? */
async function headOffBranch(made: Made): Promise<boolean> {
  const head = await resolveCommit(made.worktree, "HEAD").catch(() => undefined);
  if (head === undefined || head === made.createdBranchAt) return false;
  const contained = await runGit(made.repo, ["merge-base", "--is-ancestor", head, `refs/heads/${made.branch}`], { ok: [0, 1, 128] });
  return contained.code !== 0;
}

/** One path, however spelled: git records real paths, callers may hold one through a symlink (/tmp on macOS). */
async function samePath(a: string, b: string): Promise<boolean> {
  if (path.resolve(a) === path.resolve(b)) return true;
  const [ra, rb] = await Promise.all([comparable(a), comparable(b)]);
  return ra === rb;
}

/** The real path, or, for a missing directory, its parent's real path plus its name. */
async function comparable(p: string): Promise<string> {
  const resolved = path.resolve(p);
  return realpath(resolved).catch(async () => path.join(await realpath(path.dirname(resolved)).catch(() => path.dirname(resolved)), path.basename(resolved)));
}
