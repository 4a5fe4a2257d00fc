// Where a new instance's branch starts: the spawn's own baseRef, else its
// parent's branch (so a specialist's work stacks on its manager's), else the
// role's or plugin's baseRef, else the branch checked out where it was spawned.
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { branchExists, dirtyPaths, resolveCommit, type CheckoutFacts } from "../git/repo.js";
import type { GitInstanceState, UncommittedLeftOut } from "../types.js";

export interface Base {
  /** A branch name, or the ref as given when baseRef names a tag or a commit. */
  readonly name: string;
  readonly commit: string;
  /** The checkout whose HEAD commit this is (the parent's, or the spawn's), whose uncommitted changes the new branch leaves out. */
  readonly headOf?: { readonly checkout: string; readonly whose: string };
}

export interface BaseRequest {
  readonly checkout: CheckoutFacts;
  /** The parent's git state, when it works in this same repository. */
  readonly parent: { readonly id: string; readonly state: GitInstanceState } | undefined;
  readonly spawnBaseRef: string | undefined;
  readonly topLevelBaseRef: string | undefined;
}

export async function chooseBase(request: BaseRequest): Promise<Base> {
  const { checkout, parent } = request;
  if (request.spawnBaseRef !== undefined) return fromRef(checkout, request.spawnBaseRef, "the spawn's baseRef (--plugin git.baseRef)");
  if (parent) {
    const commit = await resolveCommit(checkout.toplevel, `refs/heads/${parent.state.branch}`);
    if (!commit) {
      throw new TmuxClaudeError(
        GitErrorCodes.BRANCH_MISSING,
        `The parent "${parent.id}" works on branch "${parent.state.branch}", which no longer exists, so its child has nothing to branch from. Restore the branch, or give the spawn a base with --plugin git.baseRef=<branch>.`,
        { parentId: parent.id, branch: parent.state.branch },
      );
    }
    return { name: parent.state.branch, commit, headOf: { checkout: parent.state.worktree, whose: `parent "${parent.id}"` } };
  }
  if (request.topLevelBaseRef !== undefined) return fromRef(checkout, request.topLevelBaseRef, "baseRef in the git plugin's options");
  if (!checkout.branch) {
    throw new TmuxClaudeError(
      GitErrorCodes.DETACHED_HEAD,
      `${checkout.toplevel} is on a detached HEAD${checkout.head ? ` (${checkout.head.slice(0, 12)})` : ""}, so there is no branch for the instance to branch from and merge back into. Check out a branch there, or set baseRef (git({ baseRef: "main" }) or --plugin git.baseRef=main).`,
      { checkout: checkout.toplevel },
    );
  }
  if (!checkout.head) {
    throw new TmuxClaudeError(
      GitErrorCodes.BAD_REF,
      `The branch "${checkout.branch}" in ${checkout.toplevel} has no commits yet, so there is nothing to branch from. Make a first commit.`,
      { checkout: checkout.toplevel, branch: checkout.branch },
    );
  }
  return { name: checkout.branch, commit: checkout.head, headOf: { checkout: checkout.toplevel, whose: "the spawn's checkout" } };
}

async function fromRef(checkout: CheckoutFacts, ref: string, source: string): Promise<Base> {
  const commit = await resolveCommit(checkout.toplevel, ref);
  if (!commit) {
    throw new TmuxClaudeError(
      GitErrorCodes.BAD_REF,
      `${source} is "${ref}", which names no commit in ${checkout.toplevel}. Give an existing branch, tag or commit.`,
      { baseRef: ref, repo: checkout.toplevel },
    );
  }
  // A branch is named by its short name (what merges go back into); a tag or commit stays as given.
  const name = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
  return { name: (await branchExists(checkout.toplevel, name)) ? name : ref, commit };
}

/**
 * A child branches from its parent's committed HEAD: uncommitted changes in
 * the parent's checkout stay there. That is the documented behaviour, not an
 * error; what was left out is recorded on the instance's state
 * (`uncommittedLeftOut`, so the spawn result and `git status` say it) and
 * logged, so nobody wonders where those edits went. Started before the
 * worktree is made and awaited after: its `git status` (no optional locks)
 * runs alongside the spawn's own git instead of after it. Never rejects.
 */
export async function uncommittedLeftOut(base: Base): Promise<UncommittedLeftOut | undefined> {
  if (!base.headOf) return undefined;
  const { checkout } = base.headOf;
  const dirty = await dirtyPaths(checkout).catch(() => [] as string[]);
  return dirty.length === 0 ? undefined : { checkout, count: dirty.length, paths: dirty.slice(0, 20) };
}
