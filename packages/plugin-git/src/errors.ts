import { defineErrorCodes } from "@tmux-claude/core";

/** Every code this plugin raises; the kind picks the CLI's exit code. */
export const GitErrorCodes = defineErrorCodes("git", {
  /** git is not installed, not on PATH, or older than the plugin needs. */
  GIT_UNAVAILABLE: { code: "TC_GIT_UNAVAILABLE", kind: "failure" },
  /** A git command the plugin ran failed; the message quotes git. */
  COMMAND_FAILED: { code: "TC_GIT_COMMAND_FAILED", kind: "failure" },
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
});
