// One queued merge (or one batch of them) from request to moved target:
// build as objects, resolve or report conflicts, verify the merged result in a
// scratch worktree, then move the target by compare-and-swap.
import { TmuxClaudeError, isTmuxClaudeError } from "@tmux-claude/core";
import { gitValue } from "../git/run.js";
import { GitErrorCodes } from "../errors.js";
import type { ConflictFile } from "../types.js";
import { branchTip as branchCommit, buildMerge, type MergeStrategy } from "./commits.js";
import { moveTarget, refusal } from "./target.js";
import { verifyCommit, type VerifyResult } from "./verify.js";

export interface MergeRequest {
  readonly id: string;
  /** The repository (any of its worktrees). */
  readonly repo: string;
  readonly source: string;
  readonly target: string;
  readonly strategy: MergeStrategy;
  readonly resolve: "none" | "ai";
  /** The verify command as argv; none: no verification. */
  readonly verify?: readonly string[];
  readonly verifyTimeoutMs: number;
  readonly message: string;
  /** Higher is served first; equal priorities are served first come, first served. */
  readonly priority: number;
  /** Merge together with the other queued batch requests of this target, verified once. */
  readonly batch: boolean;
  readonly instanceId?: string;
  /** ISO time it was queued (its place in line). */
  readonly requestedAt: string;
}

/** "would-merge" only answers a dry run. */
export type MergeStatus = "merged" | "up-to-date" | "would-merge" | "conflict" | "verify-failed" | "refused" | "failed";

export interface MergeOutcome {
  readonly requestId: string;
  readonly instanceId?: string;
  readonly source: string;
  readonly target: string;
  readonly strategy: MergeStrategy;
  readonly status: MergeStatus;
  /** The target's commit before, and (merged) after. */
  readonly previous?: string;
  readonly commit?: string;
  readonly conflicts?: ConflictFile[];
  readonly verify?: VerifyResult;
  /** Why it did not merge, in words; `code` is the error code. */
  readonly reason?: string;
  readonly code?: string;
  /** What the resolver reported (resolve: "ai"). */
  readonly resolution?: unknown;
  /** The requests merged together with this one (batch). */
  readonly batch?: readonly string[];
  /** Uncommitted files in the source instance's worktree: only its branch's commits are merged, these are not. */
  readonly uncommittedLeftOut?: readonly string[];
}

/** A conflicted merge handed to the resolve part (resolve: "ai"). */
export interface ConflictedMerge {
  readonly request: MergeRequest;
  /** The target's commit the resolution must go on top of. */
  readonly onto: string;
  readonly sourceCommit: string;
  /** merge-tree's tree, with conflict markers. */
  readonly tree: string;
  readonly conflicts: readonly ConflictFile[];
}

/**
 * The resolve part's answer. An accepted resolution is a commit whose
 * parents are [onto, sourceCommit] (a squash: [onto]); `verified` says it
 * already passed the request's verify, so the merge does not run it again.
 */
export type Resolution =
  | { readonly accepted: true; readonly commit: string; readonly verified: boolean; readonly details?: unknown }
  | { readonly accepted: false; readonly reason: string; readonly reply?: string; readonly details?: unknown };

export type Resolver = (conflicted: ConflictedMerge) => Promise<Resolution>;

export interface EngineEnv {
  /** Where scratch worktrees for verify are made. */
  readonly scratchRoot: string;
  /** `<common git dir>/tc-merge` of the request's repository. */
  readonly stateDir: string;
  readonly resolve?: Resolver;
}

const CAS_ATTEMPTS = 3;

export async function mergeOne(request: MergeRequest, env: EngineEnv): Promise<MergeOutcome> {
  const base = { requestId: request.id, instanceId: request.instanceId, source: request.source, target: request.target, strategy: request.strategy };
  try {
    for (let attempt = 1; ; attempt += 1) {
      const [onto, sourceCommit] = await Promise.all([branchCommit(request.repo, request.target), branchCommit(request.repo, request.source)]);
      const built = await buildMerge({ repo: request.repo, onto, source: sourceCommit, strategy: request.strategy, message: request.message });
      if (built.kind === "up-to-date") return { ...base, status: "up-to-date", previous: onto, commit: onto };
      let candidate: string;
      let verified = false;
      let resolution: unknown;
      if (built.kind === "conflict") {
        if (request.resolve !== "ai" || !env.resolve) return conflictOutcome(base, onto, built.conflicts, request.resolve === "ai" ? "no resolver is installed" : undefined, request.resolve === "ai");
        const resolved = await env.resolve({ request, onto, sourceCommit, tree: built.tree, conflicts: built.conflicts });
        resolution = resolved.details ?? resolved;
        if (!resolved.accepted) return { ...conflictOutcome(base, onto, built.conflicts, `the resolver's result was rejected: ${resolved.reason}`, true), resolution };
        candidate = resolved.commit;
        verified = resolved.verified;
      } else {
        candidate = built.commit;
      }
      let verify: VerifyResult | undefined;
      if (request.verify && !verified) {
        // A dirty target is refused before spending a verify run on it (moveTarget checks again right before the move).
        const refused = await refusal(request.repo, request.target, onto, candidate);
        if (refused) return { ...base, status: "refused", previous: onto, reason: refused.message, code: refused.code, resolution };
        verify = await verifyCommit(request.repo, candidate, request.verify, request.verifyTimeoutMs, env.scratchRoot);
        if (!verify.ok) return { ...base, status: "verify-failed", previous: onto, verify, reason: verifyReason(verify), code: GitErrorCodes.VERIFY_FAILED, resolution };
      }
      try {
        await moveTarget({ repo: request.repo, stateDir: env.stateDir, target: request.target, from: onto, to: candidate, requestIds: [request.id], reason: `tmux-claude merge ${request.source} (${request.strategy})` });
      } catch (error) {
        if (isTmuxClaudeError(error) && error.code === GitErrorCodes.TARGET_MOVED && attempt < CAS_ATTEMPTS) continue;
        throw error;
      }
      return { ...base, status: "merged", previous: onto, commit: candidate, verify, resolution };
    }
  } catch (error) {
    return failedOutcome(base, error);
  }
}

/**
 * Merge several requests into one result, verified once. When the result
 * fails verify, the batch is bisected: each half is verified on top of what
 * was accepted before it, down to the single requests that fail.
 */
export async function mergeBatch(requests: readonly MergeRequest[], env: EngineEnv): Promise<MergeOutcome[]> {
  const first = requests[0]!;
  const ids = requests.map((request) => request.id);
  const verifyArgv = requests.find((request) => request.verify)?.verify;
  const outcomes = new Map<string, MergeOutcome>();
  const baseOf = (request: MergeRequest) => ({ requestId: request.id, instanceId: request.instanceId, source: request.source, target: request.target, strategy: request.strategy, batch: ids });
  try {
    const onto = await branchCommit(first.repo, first.target);
    const accepted: { request: MergeRequest; upToDate: boolean }[] = [];

    const settle = async (tip: string, group: readonly MergeRequest[]): Promise<string> => {
      let head = tip;
      const chained: MergeRequest[] = [];
      for (const request of group) {
        const built = await buildMerge({ repo: request.repo, onto: head, source: await branchCommit(request.repo, request.source), strategy: request.strategy, message: request.message });
        if (built.kind === "conflict") outcomes.set(request.id, conflictOutcome(baseOf(request), onto, built.conflicts, "it conflicts with the batch merged before it"));
        else if (built.kind === "up-to-date") accepted.push({ request, upToDate: true });
        else {
          head = built.commit;
          chained.push(request);
        }
      }
      if (chained.length === 0 || !verifyArgv) {
        accepted.push(...chained.map((request) => ({ request, upToDate: false })));
        return head;
      }
      const verify = await verifyCommit(first.repo, head, verifyArgv, first.verifyTimeoutMs, env.scratchRoot);
      if (verify.ok) {
        accepted.push(...chained.map((request) => ({ request, upToDate: false })));
        return head;
      }
      if (chained.length === 1) {
        const request = chained[0]!;
        outcomes.set(request.id, { ...baseOf(request), status: "verify-failed", previous: onto, verify, reason: verifyReason(verify), code: GitErrorCodes.VERIFY_FAILED });
        return tip;
      }
      const middle = Math.ceil(chained.length / 2);
      const left = await settle(tip, chained.slice(0, middle));
      return settle(left, chained.slice(middle));
    };

    const result = await settle(onto, requests);
    if (result !== onto) {
      try {
        await moveTarget({ repo: first.repo, stateDir: env.stateDir, target: first.target, from: onto, to: result, requestIds: accepted.filter((a) => !a.upToDate).map((a) => a.request.id), reason: `tmux-claude merge batch of ${requests.length}` });
      } catch (error) {
        for (const { request } of accepted) outcomes.set(request.id, failedOutcome(baseOf(request), error));
        return requests.map((request) => outcomes.get(request.id)!);
      }
    }
    for (const { request, upToDate } of accepted) {
      outcomes.set(request.id, { ...baseOf(request), status: upToDate ? "up-to-date" : "merged", previous: onto, commit: result });
    }
    return requests.map((request) => outcomes.get(request.id)!);
  } catch (error) {
    return requests.map((request) => outcomes.get(request.id) ?? failedOutcome(baseOf(request), error));
  }
}

function conflictOutcome(base: Omit<MergeOutcome, "status">, onto: string, conflicts: readonly ConflictFile[], why?: string, askedAi = false): MergeOutcome {
  const files = conflicts.map((conflict) => `${conflict.path} (${conflict.kind})`).join(", ");
  return {
    ...base,
    status: "conflict",
    previous: onto,
    conflicts: [...conflicts],
    reason: `${base.source} conflicts with ${base.target} in ${files}${why ? `; ${why}` : ""}. ${base.target} was not changed. Resolve it in ${base.source} (merge ${base.target} into it there)${askedAi ? "" : ', or merge with --resolve ai (API: resolve: "ai")'}.`,
    code: GitErrorCodes.MERGE_CONFLICT,
  };
}

function failedOutcome(base: Omit<MergeOutcome, "status">, error: unknown): MergeOutcome {
  const code = isTmuxClaudeError(error) ? error.code : GitErrorCodes.COMMAND_FAILED;
  const status = code === GitErrorCodes.TARGET_DIRTY ? "refused" : "failed";
  return { ...base, status, reason: error instanceof Error ? error.message : String(error), code };
}

function verifyReason(verify: VerifyResult): string {
  const how = verify.timedOut ? `timed out after ${verify.ms} ms` : `exited ${verify.code}`;
  return `verify \`${verify.argv.join(" ")}\` ${how} on the merged result; the target was not changed. Its output ends: ${verify.output.trim().split("\n").slice(-5).join(" | ")}`;
}
