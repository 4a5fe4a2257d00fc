// Where a new instance's branch starts: the spawn's own baseRef, else its
// parent's branch (so a specialist's work stacks on its manager's), else the
// role's or plugin's baseRef, else the branch checked out where it was spawned.
import type { Logger } from "pino";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { branchExists, dirtyPaths, resolveCommit, type CheckoutFacts } from "../git/repo.js";
import type { GitInstanceState } from "../types.js";

export interface Base {
  /** A branch name, or the ref as given when baseRef names a tag or a commit. */
  readonly name: string;
  readonly commit: string;
}

export interface BaseRequest {
  readonly checkout: CheckoutFacts;
  /** The parent's git state, when it works in this same repository. */
  readonly parent: { readonly id: string; readonly state: GitInstanceState } | undefined;
  readonly spawnBaseRef: string | undefined;
  readonly topLevelBaseRef: string | undefined;
  readonly logger: Logger;
}

export async function chooseBase(request: BaseRequest): Promise<Base> {
  const { checkout, parent, logger } = request;
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
    noteUncommitted(parent.state.worktree, `parent "${parent.id}"`, logger);
    return { name: parent.state.branch, commit };
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
  noteUncommitted(checkout.toplevel, "the spawn's checkout", logger);
  return { name: checkout.branch, commit: checkout.head };
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
 * the parent's checkout stay there. Said in the log, so nobody wonders where
 * those edits went.
 */
function noteUncommitted(checkout: string, whose: string, logger: Logger): void {
  // Only a log line: it does not hold up the spawn.
  void dirtyPaths(checkout).then(
    (dirty) => {
      if (dirty.length === 0) return;
      logger.info(
        { checkout, uncommitted: dirty.slice(0, 20), count: dirty.length },
        `${whose} has ${dirty.length} uncommitted change(s); the new branch starts from its last commit and does not include them`,
      );
    },
    () => undefined,
  );
}
