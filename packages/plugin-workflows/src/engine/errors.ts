// The engine's error codes (the workflows plugin owns them): each says what
// happened, with the value, and what to do.
import { defineErrorCodes } from "@tmux-claude/core";

export const RunErrors = defineErrorCodes("workflows", {
  /** A request the engine cannot start: no workflow, a variable without a value, a plugin a step needs is missing. */
  INVALID: { code: "TC_RUN_INVALID", kind: "usage" },
  /** `--resume`/`--from`/`run_status` of a run the store does not hold. */
  NOT_FOUND: { code: "TC_RUN_NOT_FOUND", kind: "not-found" },
  /** `--resume` of a run whose runner still lives, or that already succeeded. */
  NOT_RESUMABLE: { code: "TC_RUN_NOT_RESUMABLE", kind: "usage" },
  /** `complete` from an instance that is no task of a running workflow. */
  NOT_A_TASK: { code: "TC_RUN_NOT_A_TASK", kind: "usage" },
  /** A caller asks about a run it did not start. */
  FORBIDDEN: { code: "TC_RUN_FORBIDDEN", kind: "usage" },
});
