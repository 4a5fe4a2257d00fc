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
