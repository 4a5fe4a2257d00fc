import { defineErrorCodes } from "@tmux-claude/core";

/** Every code this plugin raises; the kind picks the CLI's exit code. */
export const GitErrorCodes = defineErrorCodes("git", {
  /** git is not installed, not on PATH, or older than the plugin needs. */
  GIT_UNAVAILABLE: { code: "TC_GIT_UNAVAILABLE", kind: "failure" },
  /** A git command the plugin ran failed; the message quotes git. */
  COMMAND_FAILED: { code: "TC_GIT_COMMAND_FAILED", kind: "failure" },
  /** A `verify` command that cannot be run as given (empty, not an argv). */
  VERIFY_INVALID: { code: "TC_GIT_VERIFY_INVALID", kind: "usage" },
  /** A conflict resolution asked for with arguments that cannot work (no conflict, unknown branch). */
  RESOLVE_INVALID: { code: "TC_GIT_RESOLVE_INVALID", kind: "usage" },
});
