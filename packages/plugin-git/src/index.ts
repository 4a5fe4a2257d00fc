export { runGit, gitValue, type GitResult, type RunOptions } from "./git/run.js";
export { GitErrorCodes } from "./errors.js";
export { mergeTree, parseMergeTreeOutput, classifyConflicts, type MergeTreeResult, type MergeTreeOptions, type MergeMessage, type StageLine } from "./forecast/merge-tree.js";
export { conflictHunks, hasConflictMarkers, markerRegions, type MarkerRegion } from "./forecast/conflict-markers.js";
export type { ConflictFile, ConflictKind, ConflictStage, GitInstanceState, Isolation } from "./types.js";
