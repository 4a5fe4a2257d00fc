import { defineErrorCodes } from "@tmux-claude/core";

/** Every code this plugin raises; the kind picks the CLI's exit code. */
export const GitErrorCodes = defineErrorCodes("git", {
  /** git is not installed, not on PATH, or older than the plugin needs. */
  GIT_UNAVAILABLE: { code: "TC_GIT_UNAVAILABLE", kind: "failure" },
  /** A git command the plugin ran failed; the message quotes git. */
  COMMAND_FAILED: { code: "TC_GIT_COMMAND_FAILED", kind: "failure" },
  /** merge: the branches conflict (and were not resolved); the target is untouched. */
  MERGE_CONFLICT: { code: "TC_GIT_MERGE_CONFLICT", kind: "failure" },
  /** merge: the target branch's worktree has uncommitted changes, so it is not moved. */
  TARGET_DIRTY: { code: "TC_GIT_TARGET_DIRTY", kind: "failure" },
  /** merge: the target branch moved while the merge was built (compare-and-swap lost); retry. */
  TARGET_MOVED: { code: "TC_GIT_TARGET_MOVED", kind: "failure" },
  /** merge: the target branch (`into`) does not exist in the repository. */
  TARGET_MISSING: { code: "TC_GIT_TARGET_MISSING", kind: "not-found" },
  /** merge: the instance has no git state (it was spawned without isolation, or outside a repository). */
  NO_GIT_STATE: { code: "TC_GIT_NO_GIT_STATE", kind: "not-found" },
  /** merge: `verify` failed (or timed out) on the merged result; the target is untouched. */
  VERIFY_FAILED: { code: "TC_GIT_VERIFY_FAILED", kind: "failure" },
  /** merge: the caller's role may not merge this instance into this target. */
  MERGE_FORBIDDEN: { code: "TC_GIT_MERGE_FORBIDDEN", kind: "usage" },
  /** A merge request's arguments are invalid (strategy, verify, into). */
  MERGE_INVALID: { code: "TC_GIT_MERGE_INVALID", kind: "usage" },
  /** Another process holds the target's merge lock longer than the wait allows. */
  MERGE_LOCKED: { code: "TC_GIT_MERGE_LOCKED", kind: "failure" },
  /** Repairing an interrupted merge found a git lock file (index.lock, a ref's .lock) that another git may hold. */
  GIT_LOCK_HELD: { code: "TC_GIT_LOCK_HELD", kind: "failure" },
  /** A branch or commit name the plugin cannot use as given (e.g. one starting with "-"). */
  REF_INVALID: { code: "TC_GIT_REF_INVALID", kind: "usage" },
  // --- isolation
  /** `isolation: "worktree"` asked for a workDir that is not inside a git work tree. */
  NOT_A_REPO: { code: "TC_GIT_NOT_A_REPO", kind: "usage" },
  /** The workDir is a bare repository (or inside a .git directory): there is no checkout to branch from. */
  BARE_REPO: { code: "TC_GIT_BARE_REPO", kind: "usage" },
  /** The base checkout is on a detached HEAD and no baseRef names a branch. */
  DETACHED_HEAD: { code: "TC_GIT_DETACHED_HEAD", kind: "usage" },
  /** The branch an instance would get already exists (a user's branch is never reused or deleted). */
  BRANCH_EXISTS: { code: "TC_GIT_BRANCH_EXISTS", kind: "usage" },
  /** The worktree path an instance would get is taken by something else. */
  WORKTREE_EXISTS: { code: "TC_GIT_WORKTREE_EXISTS", kind: "usage" },
  /** baseRef (or a branch name built from branchPrefix) is not a valid or existing ref. */
  BAD_REF: { code: "TC_GIT_BAD_REF", kind: "usage" },
  /** `plan.plugins.git` (spawn `--plugin git.<key>=...`) is not valid. */
  SPAWN_OPTIONS_INVALID: { code: "TC_GIT_SPAWN_OPTIONS_INVALID", kind: "usage" },
  /** A restart found the instance's branch gone: its worktree cannot be rebuilt. */
  BRANCH_MISSING: { code: "TC_GIT_BRANCH_MISSING", kind: "failure" },
  /** A conflict resolution asked for with arguments that cannot work (no conflict, unknown branch). */
  RESOLVE_INVALID: { code: "TC_GIT_RESOLVE_INVALID", kind: "usage" },
  // --- gc
  /** A terminate's `plugins.git` options are not ones git takes (`--plugin git.force=true` is). */
  TERMINATE_OPTIONS_INVALID: { code: "TC_GIT_TERMINATE_OPTIONS_INVALID", kind: "usage" },
});
