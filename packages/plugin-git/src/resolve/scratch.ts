// The scratch worktree a resolver works in: a detached checkout of the target
// with the source merged in and left conflicted (markers in files, stages in
// the index). Nothing in it is a user's: it goes when the resolution ends.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { resolveCommit } from "../git/repo.js";
import { gitValue, runGit } from "../git/run.js";
import { processGone } from "../scratch-owner.js";
import { removeOwnWorktree } from "../worktree/worktrees.js";

export interface ConflictedMerge {
  /** The scratch worktree's directory. */
  readonly dir: string;
  /** The commits merged: the target's and the source's at the time (the merge commit's two parents). */
  readonly targetCommit: string;
  readonly sourceCommit: string;
  /** Paths git left unmerged. */
  readonly unmerged: readonly string[];
}

/** Where resolutions' scratch worktrees live: under the kernel's state dir, never in the user's tree. */
export function scratchRoot(stateDir: string): string {
  return path.join(stateDir, "git", "scratch");
}

/**
 * Check out `target` detached in a new scratch worktree and merge `source`
 * into it without committing (at the `pinned` commits when the caller fixed
 * them, as the merge queue does for its compare-and-swap). A merge that does not conflict is refused
 * (nothing to resolve), and on any failure the worktree is removed again.
 */
export async function openConflictedMerge(repo: string, root: string, target: string, source: string, pinned: { target?: string; source?: string } = {}): Promise<ConflictedMerge> {
  const [targetCommit, sourceCommit] = await Promise.all([commitOf(repo, pinned.target ?? target, "target"), commitOf(repo, pinned.source ?? source, "source")]);
  await mkdir(root, { recursive: true });
  // The owner's pid in the name lets a later kernel sweep what a killed process left (sweepStaleScratch).
  const dir = path.join(root, `resolve-${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`);
  await runGit(repo, ["worktree", "add", "--quiet", "--detach", dir, targetCommit]);
  try {
    // Exit 1 is the answer "conflicts"; its message on stdout is what the merge says per path.
    await runGit(dir, ["merge", "--no-commit", "--no-ff", "--quiet", sourceCommit], { ok: [0, 1] });
    const unmerged = (await runGit(dir, ["diff", "--name-only", "-z", "--diff-filter=U"])).stdout.split("\0").filter(Boolean);
    if (unmerged.length === 0) {
      throw new TmuxClaudeError(
        GitErrorCodes.RESOLVE_INVALID,
        `Merging ${source} (${sourceCommit.slice(0, 12)}) into ${target} (${targetCommit.slice(0, 12)}) has no conflicts: there is nothing to resolve. Merge it without resolve: "ai".`,
        { repo, target, source },
      );
    }
    return { dir, targetCommit, sourceCommit, unmerged };
  } catch (error) {
    await removeScratch(repo, dir);
    throw error;
  }
}

/**
 * Remove a scratch worktree and its registration, whatever state the
 * resolver left it in; only this one (never a repository-wide prune).
 */
export async function removeScratch(repo: string, dir: string): Promise<void> {
  const unregistered = await removeOwnWorktree(repo, dir, { discard: true, evenLocked: true }).then(() => true, () => false);
  await rm(dir, { recursive: true, force: true });
  // git could not remove it while its directory was there (a damaged .git file): with the directory gone it can.
  if (!unregistered) await removeOwnWorktree(repo, dir, { discard: true, evenLocked: true });
}

/**
 * Remove the scratch worktrees (a resolution's, a verify's) whose process is
 * gone (killed mid-way), each unregistered from its own repository; returns
 * their paths. A live process's scratch is left alone.
 */
export async function sweepStaleScratch(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const owner = /^(?:resolve|tc-verify)-(\d+)-/u.exec(name);
    if (!owner || !processGone(Number(owner[1]))) continue;
    const dir = path.join(root, name);
    // A worktree's .git file names its admin dir, <common git dir>/worktrees/<name>: git is asked there.
    const adminDir = /^gitdir: (.+)$/mu.exec((await readFile(path.join(dir, ".git"), "utf8").catch(() => "")))?.[1];
    if (adminDir) await removeScratch(path.dirname(path.dirname(adminDir)), dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

async function commitOf(repo: string, ref: string, side: "target" | "source"): Promise<string> {
  const commit = await resolveCommit(repo, ref);
  if (commit === undefined) {
    throw new TmuxClaudeError(
      GitErrorCodes.RESOLVE_INVALID,
      `The ${side} "${ref}" is not a branch or commit in ${repo}. Give an existing branch name (git branch --list).`,
      { repo, ref, side },
    );
  }
  return commit;
}

/** The subject and body of each commit in `from..to`, newest first: one side's story since the merge base. */
export async function commitMessages(repo: string, from: string, to: string, limit = 20): Promise<string> {
  return gitValue(repo, ["log", `--max-count=${limit}`, "--format=- %h %s%n%w(0,2,2)%b", `${from}..${to}`]);
}
