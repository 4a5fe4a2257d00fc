export { git, type GitApi } from "./plugin.js";
export { gitOptionsSchema, instanceOptionsSchema, type GitOptions, type GitUserOptions, type GitSpawnOptions } from "./options.js";
export type { GitInstanceState, UncommittedLeftOut, Isolation, ConflictKind, ConflictFile, ConflictStage, ForecastFile, ForecastPair, InstanceForecast } from "./types.js";
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
export type { InstanceGitStatus } from "./surfaces/status.js";
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
export { installMerge, mergeCallSchema, type MergeCall, type MergeCaller, type MergePart, type MergeDeps } from "./merge/part.js";
export { mergeOne, mergeBatch, type MergeRequest, type MergeOutcome, type MergeStatus, type ConflictedMerge, type Resolution, type Resolver, type EngineEnv } from "./merge/engine.js";
export { MergeQueue, type QueueOptions, type NewRequest, type QueuedEntry } from "./merge/queue.js";
export { buildMerge, commitTree, isAncestor, type BuiltMerge, type BuildRequest, type MergeStrategy } from "./merge/commits.js";
export { moveTarget, repairTarget, refusal, type Journal, type MoveRequest, type Repaired } from "./merge/target.js";
export { lockTarget, mergeStateDir, type TargetLock } from "./merge/lock.js";
export { verifyArgv, verifyCommit, type VerifyResult } from "./merge/verify.js";
export { mergeOptionsSchema } from "./options.js";
export { createConflictForecastHook, type ConflictForecastEvent, type ConflictForecastHook, type ForecastPart, type ForecastSide } from "./forecast/forecaster.js";
