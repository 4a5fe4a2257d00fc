export { runGit, gitValue, type GitResult, type RunOptions } from "./git/run.js";
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
export { runVerify, verifyArgv, type VerifyCommand, type VerifyResult } from "./merge/verify.js";
