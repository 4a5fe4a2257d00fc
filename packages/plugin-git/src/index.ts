export { git, type GitApi } from "./plugin.js";
export { gitOptionsSchema, spawnOptionsSchema, type GitOptions, type GitUserOptions, type GitSpawnOptions } from "./options.js";
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
export {
  GitCommands,
  installGitCommands,
  type GitSubcommand,
  type SubcommandInput,
  type CommandOutput,
  type GitFlagValue,
} from "./surfaces/commands.js";
export { assertInSubtree, type ToolCaller } from "./surfaces/access.js";
export {
  installResolve,
  resolveConflicts,
  mergeResolver,
  resolverOptionsSchema,
  resolverRoles,
  readResolutions,
  resolutionStats,
  type ResolvePart,
  type ResolveRequest,
  type ResolveOutcome,
  type AcceptedResolution,
  type RejectedResolution,
  type ResolverOptions,
  type ResolutionRecord,
  type ResolutionStats,
  type RejectionReason,
} from "./resolve/index.js";
export { statsSubcommand } from "./surfaces/stats-command.js";
export { mergeTree, parseMergeTreeOutput, classifyConflicts, type MergeTreeResult, type MergeTreeOptions, type MergeMessage, type StageLine } from "./forecast/merge-tree.js";
export { conflictHunks, hasConflictMarkers, markerRegions, type MarkerRegion } from "./forecast/conflict-markers.js";
export type { ConflictFile, ConflictKind, ConflictStage, GitInstanceState, Isolation } from "./types.js";
