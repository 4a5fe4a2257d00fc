import { defineErrorCodes } from "@tmux-claude/core";

/** The knowledge plugin's error codes (they keep their code through the CLI and MCP tool errors). */
export const KnowledgeErrors = defineErrorCodes("knowledge", {
  /** Another live instance of the hierarchy holds an overlapping claim. */
  CLAIM_CONFLICT: { code: "TC_CLAIM_CONFLICT", kind: "failure" },
  /** A claim_files wait withdrawn because its call was cancelled or the kernel is closing. */
  CLAIM_CANCELLED: { code: "TC_CLAIM_CANCELLED", kind: "failure" },
  /** A claimed path leads out of the claimant's workdir. */
  OUTSIDE_WORKDIR: { code: "TC_CLAIM_OUTSIDE_WORKDIR", kind: "usage" },
  /** A claimed path is empty or uses a glob feature claims do not support. */
  BAD_PATH: { code: "TC_CLAIM_BAD_PATH", kind: "usage" },
  /** A knowledge value (or key, or tags) over its limit. */
  TOO_LARGE: { code: "TC_KNOWLEDGE_TOO_LARGE", kind: "usage" },
  /** A knowledge key, tag or hierarchy that is not valid, or a root call without the hierarchy it needs. */
  BAD_INPUT: { code: "TC_KNOWLEDGE_BAD_INPUT", kind: "usage" },
});
