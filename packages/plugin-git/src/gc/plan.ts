import type { GcCandidate } from "./candidates.js";
import type { WorktreeFacts } from "./facts.js";

/** What `tmux-claude git gc` (or terminate) is asked to remove; unset criteria do not apply. */
export interface GcPolicy {
  /** Decide and report, change nothing. */
  readonly dryRun?: boolean;
  /** Remove a dirty worktree the policy picked, after saving its work on `refs/tmux-claude/stash/<id>`. */
  readonly force?: boolean;
  /** Remove stale, clean worktrees untouched for this many days (their unmerged branches stay). */
  readonly olderThanDays?: number;
  /** Remove stale worktrees, largest first, until all of the plugin's worktrees use at most this many MB. */
  readonly diskBudgetMb?: number;
  /** Only these instance ids (or orphan directory names). */
  readonly ids?: readonly string[];
}

/** Everything GC learned about one candidate, and what it decided. */
export interface GcDecision {
  readonly id: string;
  readonly origin: GcCandidate["origin"];
  readonly status: GcCandidate["status"];
  readonly worktree: string;
  readonly branch: string | null;
  readonly base: string | null;
  readonly sizeBytes: number;
  readonly dirty: readonly string[];
  readonly merged: boolean;
  action: "remove" | "keep";
  reason: string;
  /** Delete the plugin's branch (only when merged, so nothing is lost). */
  deleteBranch: boolean;
  /** Why a removed worktree's branch stays, when it does. */
  branchKept?: string;
  /** Set when the work was (or, in a dry run, would be) saved first. */
  stash?: { ref: string; commit?: string; recover: string };
  /** The removal was tried and failed: what git said (the worktree stays). */
  error?: string;
}

/** A candidate kept for `reason`: where every decision starts, and the whole of one GC could not inspect. */
export function keptDecision(candidate: GcCandidate, reason: string, known: Pick<GcDecision, "sizeBytes" | "dirty" | "merged"> = { sizeBytes: 0, dirty: [], merged: false }): GcDecision {
  const { id, origin, status, worktree, branch, base } = candidate;
  return { id, origin, status, worktree, branch, base, ...known, action: "keep", reason, deleteBranch: false };
}

/** What GC knows about a candidate before deciding. */
export interface CandidateFacts {
  readonly facts: WorktreeFacts;
  readonly merged: boolean;
  /** HEAD is on some ref (a detached HEAD's commits would otherwise go with the worktree). */
  readonly headReachable: boolean;
  /** Another worktree has the branch checked out, or a stored instance builds on it. */
  readonly branchInUse: string | null;
}

const DAY_MS = 86_400_000;

/**
 * Decide one candidate. At terminate only a merged, clean worktree goes
 * (or any, with force); `git gc` also removes stale worktrees the policy
 * names. Never a dirty one without force, never an active instance's.
 */
export function decide(candidate: GcCandidate, known: CandidateFacts, policy: GcPolicy, context: "terminate" | "gc", now: number): GcDecision {
  const { facts, merged } = known;
  const decision = keptDecision(candidate, "", { sizeBytes: facts.sizeBytes, dirty: facts.dirty, merged });
  const keep = (reason: string) => Object.assign(decision, { action: "keep", reason });
  if (context === "gc" && candidate.status !== "exited" && candidate.status !== "gone") return keep(`in use: its instance is ${candidate.status}`);

  const why = removalReason(candidate, known, policy, context, now);
  const unsaved = unsavedWork(known);
  if (!why) {
    const reasons = [
      ...(candidate.branch && !merged ? [`not merged into ${candidate.base}`] : []),
      ...(unsaved ? [`${unsaved} (--force saves the work on a ref and removes it)`] : []),
      ...(candidate.status === "exited" ? ["its instance exited (restart reuses the worktree)"] : []),
    ];
    return keep(reasons.join("; ") || "no criterion of the policy applies");
  }
  if (unsaved && !policy.force) return keep(`${unsaved} (${why}; --force saves the work on a ref and removes it)`);
  Object.assign(decision, { action: "remove", reason: why });
  if (candidate.branch && merged && !known.branchInUse) decision.deleteBranch = true;
  else if (candidate.branch) decision.branchKept = known.branchInUse ?? `not merged into ${candidate.base}: its commits stay on the branch`;
  return decision;
}

/** Work only this worktree holds: uncommitted changes, or commits of a detached HEAD no ref reaches. */
function unsavedWork(known: CandidateFacts): string | undefined {
  const { dirty } = known.facts;
  if (dirty.length) return `uncommitted changes in ${dirty.length} file(s): ${dirty.slice(0, 5).join(", ")}${dirty.length > 5 ? ", ..." : ""}`;
  if (!known.headReachable) return "a detached HEAD whose commits no branch holds";
  return undefined;
}

function removalReason(candidate: GcCandidate, known: CandidateFacts, policy: GcPolicy, context: "terminate" | "gc", now: number): string | undefined {
  // Commits of a detached HEAD that no ref holds are work too: such a worktree is not clean, whatever its branch says.
  const clean = known.facts.dirty.length === 0 && known.headReachable;
  if (!known.facts.exists) return "its directory is gone (deleted by hand): remove git's record of it";
  if (known.merged && clean) return `merged into ${candidate.base} and clean`;
  if (context === "terminate") return policy.force ? "terminated with force" : undefined;
  if (candidate.origin === "orphan") return "orphan: no instance records it";
  if (policy.olderThanDays !== undefined && now - known.facts.lastActivityMs > policy.olderThanDays * DAY_MS) {
    return `untouched for more than ${policy.olderThanDays} day(s)`;
  }
  if (candidate.status === "gone") return "its instance no longer exists";
  // A merged but dirty one: the policy wants it gone once its changes are saved.
  if (known.merged) return `merged into ${candidate.base}`;
  return undefined;
}

/**
 * Over the disk budget: remove kept stale worktrees, largest first, until all
 * the plugin's worktrees fit. Active ones count but never go; dirty ones go
 * only with force (after their work is saved).
 */
export function applyDiskBudget(decisions: GcDecision[], known: Map<GcDecision, CandidateFacts>, policy: GcPolicy): { totalBytes: number; remainingBytes: number } {
  const totalBytes = decisions.reduce((sum, d) => sum + d.sizeBytes, 0);
  let remainingBytes = totalBytes - decisions.filter((d) => d.action === "remove").reduce((sum, d) => sum + d.sizeBytes, 0);
  if (policy.diskBudgetMb === undefined) return { totalBytes, remainingBytes };
  const budget = policy.diskBudgetMb * 1024 * 1024;
  const stale = decisions
    // Only what was inspected: a worktree GC could not look into is never removed.
    .filter((d) => known.has(d) && d.action === "keep" && (d.status === "exited" || d.status === "gone"))
    .filter((d) => policy.force || (d.dirty.length === 0 && known.get(d)?.headReachable !== false))
    .sort((a, b) => b.sizeBytes - a.sizeBytes);
  for (const d of stale) {
    if (remainingBytes <= budget) break;
    const facts = known.get(d);
    Object.assign(d, { action: "remove", reason: `over the disk budget of ${policy.diskBudgetMb} MB (${mb(remainingBytes)} MB in use), largest stale first` });
    if (d.branch && d.merged && !facts?.branchInUse) d.deleteBranch = true;
    else if (d.branch) d.branchKept = facts?.branchInUse ?? `not merged into ${d.base}: its commits stay on the branch`;
    remainingBytes -= d.sizeBytes;
  }
  return { totalBytes, remainingBytes };
}

export function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
