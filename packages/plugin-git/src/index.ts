export { git, type GitApi } from "./plugin.js";
export { gitOptionsSchema, instanceOptionsSchema, type GitOptions, type GitUserOptions, type GitSpawnOptions } from "./options.js";
export type { GitInstanceState, Isolation, ConflictKind, ConflictFile } from "./types.js";
export type { BranchChange, BranchListener, GitRuntime } from "./runtime.js";
export { runGit, gitValue, type GitResult, type RunOptions } from "./git/run.js";
export {
  assertGitVersion,
  checkoutOf,
  currentBranch,
  resolveCommit,
  branchExists,
  dirtyPaths,
  listWorktrees,
  worktreeOfBranch,
  MIN_GIT_VERSION,
  type CheckoutFacts,
  type WorktreeEntry,
} from "./git/repo.js";
export { GitErrorCodes } from "./errors.js";
