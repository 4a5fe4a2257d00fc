import { defineErrorCodes } from "@tmux-claude/core";

/** Every code this plugin raises; the kind picks the CLI's exit code. */
export const GitErrorCodes = defineErrorCodes("git", {
  /** git is not installed, not on PATH, or older than the plugin needs. */
  GIT_UNAVAILABLE: { code: "TC_GIT_UNAVAILABLE", kind: "failure" },
  /** A git command the plugin ran failed; the message quotes git. */
  COMMAND_FAILED: { code: "TC_GIT_COMMAND_FAILED", kind: "failure" },
  /** A branch or commit name the plugin cannot use as given (e.g. one starting with "-"). */
  REF_INVALID: { code: "TC_GIT_REF_INVALID", kind: "usage" },
});
