export { runGit, gitValue, type GitResult, type RunOptions } from "./git/run.js";
export { GitErrorCodes } from "./errors.js";
