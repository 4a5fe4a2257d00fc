import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gitValue, runGit } from "../git/run.js";
import { resolveCommit } from "../git/repo.js";
import { commitTree } from "../merge/commits.js";
import { PLUGIN_IDENTITY_ENV } from "../git/identity.js";

/** Where `--force` keeps an instance's uncommitted work before its worktree goes. */
export const STASH_REF_PREFIX = "refs/tmux-claude/stash/";

export function stashRefFor(id: string): string {
  return `${STASH_REF_PREFIX}${id}`;
}

/** The command that brings saved work back as a branch. */
export function recoverCommand(id: string): string {
  return `git checkout -b recovered-${id.replace(/[^A-Za-z0-9._-]+/gu, "-")} ${stashRefFor(id)}`;
}

// The stash commit is made by the plugin, so it says so (PLUGIN_IDENTITY_ENV), whatever identity the repository has (or lacks).

/**
 * Save everything in a worktree that is not committed (tracked changes and
 * untracked, not ignored files) as a commit on `refs/tmux-claude/stash/<id>`
 * whose parent is the worktree's HEAD, so the branch's commits stay reachable
 * too. `git stash create` would skip untracked files, so the commit is built
 * from a temporary index: the worktree's own index is never touched. A second
 * save for the same id keeps the earlier one as a second parent.
 */
export async function saveWork(worktree: string, id: string, reason: string): Promise<{ ref: string; commit: string }> {
  const ref = stashRefFor(id);
  const scratch = await mkdtemp(path.join(os.tmpdir(), "tc-git-stash-"));
  try {
    const env = { ...PLUGIN_IDENTITY_ENV, GIT_INDEX_FILE: path.join(scratch, "index") };
    const head = await resolveCommit(worktree, "HEAD");
    if (head) await runGit(worktree, ["read-tree", head], { env });
    await runGit(worktree, ["add", "-A", "--", "."], { env });
    const tree = await gitValue(worktree, ["write-tree"], { env });
    const previous = await resolveCommit(worktree, ref);
    const parents = [head, previous].filter((c): c is string => c !== undefined);
    const message = `tmux-claude: uncommitted work of ${id}, saved before its worktree was removed (${reason})`;
    const commit = await commitTree(worktree, tree, parents, message, env);
    // The expected old value makes this a compare-and-swap: a concurrent save is not overwritten.
    await runGit(worktree, ["update-ref", "-m", message, ref, commit, previous ?? ""]);
    return { ref, commit };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
