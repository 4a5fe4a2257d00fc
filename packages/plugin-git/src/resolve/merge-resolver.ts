// The seam with the merge queue: its engine hands a conflicted merge to a
// `Resolver` (merge/engine.ts) when a request says `resolve: "ai"`; this turns
// the resolve part into one.
import type { ConflictedMerge, Resolution, Resolver } from "../merge/engine.js";
import type { ResolvePart } from "./index.js";

/**
 * The merge engine's resolver, backed by `part.resolveConflicts`: the merge is
 * resolved at the very commits the engine pinned (`onto`, `sourceCommit`),
 * verified with the request's own verify (so the engine need not run it
 * again), and the outcome rides along as `details` for the merge's report.
 */
export function mergeResolver(part: Pick<ResolvePart, "resolveConflicts">): Resolver {
  return async ({ request, onto, sourceCommit, conflicts }: ConflictedMerge): Promise<Resolution> => {
    if (request.strategy === "rebase") {
      // A rebase replays commits one by one; a single resolved tree cannot stand for them.
      return { accepted: false, reason: 'resolve: "ai" resolves merge and squash merges; merge this branch with strategy "merge" or "squash", or rebase it in its worktree' };
    }
    const outcome = await part.resolveConflicts({
      repo: request.repo,
      target: request.target,
      source: request.source,
      targetCommit: onto,
      sourceCommit,
      conflicts,
      message: request.message,
      squash: request.strategy === "squash",
      ...(request.verify ? { verify: request.verify, verifyTimeoutMs: request.verifyTimeoutMs } : {}),
      ...(request.instanceId ? { instanceIds: { source: request.instanceId } } : {}),
    });
    if (outcome.accepted) return { accepted: true, commit: outcome.commit, verified: request.verify !== undefined, details: outcome };
    return { accepted: false, reason: `${outcome.reason}: ${outcome.detail}`, ...(outcome.reply === undefined ? {} : { reply: outcome.reply }), details: outcome };
  };
}
