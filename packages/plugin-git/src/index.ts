export { git, type GitApi } from "./plugin.js";
export { gitOptionsSchema, instanceOptionsSchema, type GitOptions, type GitUserOptions, type GitSpawnOptions } from "./options.js";
export type { GitInstanceState, Isolation, ConflictKind, ConflictFile, ConflictStage, ForecastFile, ForecastPair, InstanceForecast } from "./types.js";
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
export { mergeTree, parseMergeTreeOutput, classifyConflicts, type MergeTreeResult, type MergeTreeOptions, type MergeMessage, type StageLine } from "./forecast/merge-tree.js";
export { conflictHunks, hasConflictMarkers, markerRegions, type MarkerRegion } from "./forecast/conflict-markers.js";
export { createConflictForecastHook, type ConflictForecastEvent, type ConflictForecastHook, type ForecastPart, type ForecastSide } from "./forecast/forecaster.js";
