import { rmdir } from "node:fs/promises";
import path from "node:path";
import type { KernelApi, PluginContext } from "@tmux-claude/core";
import type { Logger } from "pino";
import { dirtyPaths, listWorktrees, resolveCommit } from "../git/repo.js";
import { runGit } from "../git/run.js";
import type { GitInstanceState } from "../types.js";
import { removeOwnWorktree } from "../worktree/worktrees.js";
import { findCandidates, gitDirOf, KeptLedger, ownWorktree, type GcCandidate } from "./candidates.js";
import { isMergedInto, worktreeFacts } from "./facts.js";
import { applyDiskBudget, decide, keptDecision, type CandidateFacts, type GcDecision, type GcPolicy } from "./plan.js";
import { recoverCommand, saveWork, stashRefFor } from "./stash.js";

export interface GcReport {
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly decisions: readonly GcDecision[];
  /** Disk used by all of the plugin's worktrees before, and what remains after the removals. */
  readonly totalBytes: number;
  readonly remainingBytes: number;
  readonly diskBudgetMb?: number;
}

/** Finds the plugin's worktrees, decides which may go, and removes them without losing work. */
export class WorktreeCollector {
  private readonly logger: Logger;

  constructor(
    private readonly ctx: Pick<PluginContext, "kernel" | "logger">,
    /** The directory isolation makes worktrees under (its `worktreeDir` option); read late, the kernel's state dir is known once it starts. */
    private readonly worktreeDir: () => string,
    /** Isolation's `branchPrefix`: an unrecorded worktree is the plugin's only on `<prefix><its directory's name>`. */
    private readonly branchPrefix: string,
  ) {
    this.logger = ctx.logger;
  }

  private get kernel(): KernelApi {
    return this.ctx.kernel;
  }

  get ledger(): KeptLedger {
    return KeptLedger.in(this.kernel.stateDir);
  }

  /** `tmux-claude git gc`: apply a policy to every worktree of the plugin. */
  async collect(policy: GcPolicy): Promise<GcReport> {
    const now = Date.now();
    let candidates = await findCandidates(this.kernel, this.ledger, this.worktreeDir(), this.branchPrefix);
    if (policy.ids?.length) candidates = candidates.filter((c) => policy.ids!.includes(c.id));
    const known = new Map<GcDecision, CandidateFacts>();
    const decisions: GcDecision[] = [];
    const byDecision = new Map<GcDecision, GcCandidate>();
    for (const candidate of candidates) {
      let decision: GcDecision;
      try {
        const facts = await this.inspect(candidate);
        decision = decide(candidate, facts, policy, "gc", now);
        known.set(decision, facts);
      } catch (error) {
        // One broken worktree (its repository moved, its .git file damaged) must not stop GC of the others; it is kept.
        decision = uninspectable(candidate, error);
      }
      decisions.push(decision);
      byDecision.set(decision, candidate);
    }
    const { totalBytes, remainingBytes } = applyDiskBudget(decisions, known, policy);
    for (const decision of decisions) {
      if (decision.action !== "remove") continue;
      await this.carryOut(byDecision.get(decision)!, decision, known.get(decision)!, policy);
    }
    return { dryRun: policy.dryRun ?? false, force: policy.force ?? false, decisions, totalBytes, remainingBytes, diskBudgetMb: policy.diskBudgetMb };
  }

  /**
   * At terminate (its processes are stopped): remove the instance's worktree
   * when its branch is merged and its tree is clean, or with force after
   * saving its work; otherwise keep it, log why, and remember it for `git gc`.
   */
  async atTerminate(id: string, state: GitInstanceState | undefined, force: boolean): Promise<GcDecision | undefined> {
    if (!ownWorktree(state)) return undefined;
    const candidate: GcCandidate = {
      id,
      origin: "instance",
      status: "gone",
      gitDir: await gitDirOf(state),
      worktree: state.worktree,
      branch: state.branch,
      base: state.base,
      createdAt: state.createdAt,
    };
    const policy: GcPolicy = { force };
    const known = await this.inspect(candidate, false);
    const decision = decide(candidate, known, policy, "terminate", Date.now());
    if (decision.action === "remove") await this.carryOut(candidate, decision, known, policy);
    if (decision.action === "keep") {
      await this.ledger.add({ id, state, keptAt: new Date().toISOString(), reason: decision.reason });
      this.logger.warn(
        { instance: id, worktree: state.worktree, branch: state.branch, reason: decision.reason },
        `kept the worktree of ${id} at ${state.worktree} (branch ${state.branch}): ${decision.reason}. Its instance is gone, so merge its branch with git (git merge ${state.branch} on ${state.base}), or run tmux-claude git gc --force ${id} to save its work on ${stashRefFor(id)} and remove it.`,
      );
    } else {
      this.logger.info({ instance: id, worktree: state.worktree, reason: decision.reason, branchDeleted: decision.deleteBranch }, "removed the worktree");
    }
    return decision;
  }

  private async inspect(candidate: GcCandidate, measure = true): Promise<CandidateFacts> {
    const [facts, merged, branchInUse] = await Promise.all([
      worktreeFacts(candidate.worktree, measure),
      candidate.branch && candidate.base ? isMergedInto(candidate.gitDir, candidate.branch, candidate.base).catch(() => false) : false,
      candidate.branch ? this.branchInUse(candidate) : null,
    ]);
    const headReachable = facts.head ? await this.reachable(candidate.gitDir, facts.head) : true;
    return { facts, merged, headReachable, branchInUse };
  }

  /** Is the commit on a branch, a tag or a saved stash (so removing a worktree that has it checked out loses nothing)? */
  private async reachable(gitDir: string, commit: string): Promise<boolean> {
    const refs = await runGit(gitDir, ["for-each-ref", "--count=1", "--format=%(refname)", "--contains", commit, "refs/heads/", "refs/tags/", "refs/tmux-claude/"]);
    return refs.stdout.trim() !== "";
  }

  /** A branch another worktree has checked out, or that a stored instance builds on, must not be deleted. */
  private async branchInUse(candidate: GcCandidate): Promise<string | null> {
    const branch = candidate.branch!;
    // Its restart rebuilds the worktree from the branch.
    if (candidate.status !== "gone") return `its instance ${candidate.id} is ${candidate.status} and may be restarted on the branch ${branch}`;
    for (const entry of await listWorktrees(candidate.gitDir)) {
      if (entry.branch === branch && path.resolve(entry.path) !== path.resolve(candidate.worktree)) return `the branch ${branch} is checked out in ${entry.path}`;
    }
    for (const record of await this.kernel.list()) {
      const state = record.pluginState?.git as GitInstanceState | undefined;
      if (record.id !== candidate.id && state?.base === branch) return `instance ${record.id} builds on the branch ${branch}`;
    }
    // A kept worktree (its instance gone, e.g. a cascade's child) still merges into it.
    for (const kept of await this.ledger.list()) {
      if (kept.id !== candidate.id && kept.state.base === branch) return `the kept worktree of ${kept.id} builds on the branch ${branch}`;
    }
    return null;
  }

  /** Save (with force), remove, then delete the merged branch; a failure keeps the worktree and says why. */
  private async carryOut(candidate: GcCandidate, decision: GcDecision, known: CandidateFacts, policy: GcPolicy): Promise<void> {
    const unsaved = async () => {
      if (!known.facts.exists) return false;
      // Looked at again just before removing: the tree may have changed since it was inspected.
      if ((await dirtyPaths(candidate.worktree)).length) return true;
      const head = (await resolveCommit(candidate.worktree, "HEAD")) ?? null;
      return head === known.facts.head ? !known.headReachable : head !== null && !(await this.reachable(candidate.gitDir, head));
    };
    const stash = { ref: stashRefFor(candidate.id), recover: recoverCommand(candidate.id) };
    const facts = known.facts;
    if (policy.dryRun) {
      if (facts.dirty.length > 0 || !known.headReachable) decision.stash = stash;
      return;
    }
    try {
      const mustSave = await unsaved();
      if (mustSave) {
        decision.stash = stash;
        if (!policy.force) throw new Error("it changed since it was inspected and is no longer clean");
        const saved = await saveWork(candidate.worktree, candidate.id, decision.reason);
        decision.stash = { ...decision.stash!, commit: saved.commit };
        this.logger.warn({ instance: candidate.id, ref: saved.ref, commit: saved.commit }, `saved the uncommitted work of ${candidate.id} on ${saved.ref}; recover it with: ${decision.stash.recover}`);
      }
      // Without discard git itself refuses a tree that became dirty after the check: the last guard.
      // A directory that is gone only loses its registration (never a repository-wide prune: a user's worktree may be unmounted).
      const removed = await removeOwnWorktree(candidate.gitDir, candidate.worktree, { discard: mustSave });
      if (!removed && facts.exists) throw new Error(`${candidate.worktree} is not a registered worktree of ${candidate.gitDir}`);
      // The repo key directory it leaves empty goes too (rmdir removes only an empty one, and only the plugin's own).
      const keyDir = path.dirname(path.resolve(candidate.worktree));
      if (path.dirname(keyDir) === path.resolve(this.worktreeDir())) await rmdir(keyDir).catch(() => undefined);
      if (decision.deleteBranch && candidate.branch) await this.deleteMergedBranch(candidate, decision);
      await this.ledger.remove(candidate.id);
    } catch (error) {
      decision.action = "keep";
      decision.error = error instanceof Error ? error.message : String(error);
      decision.reason = `removal failed, kept: ${decision.error}`;
      this.logger.warn({ instance: candidate.id, worktree: candidate.worktree, error: decision.error }, "could not remove the worktree; it is kept");
    }
  }

  /** Deleted only at the commit that was checked as merged: a branch that moved since stays. */
  private async deleteMergedBranch(candidate: GcCandidate, decision: GcDecision): Promise<void> {
    const ref = `refs/heads/${candidate.branch}`;
    const current = await runGit(candidate.gitDir, ["rev-parse", "--verify", "-q", ref], { ok: [0, 1] });
    if (current.code !== 0) return;
    const stillMerged = await isMergedInto(candidate.gitDir, current.stdout.trim(), candidate.base!);
    if (!stillMerged) {
      decision.deleteBranch = false;
      decision.branchKept = `the branch ${candidate.branch} moved and is no longer merged`;
      return;
    }
    await runGit(candidate.gitDir, ["update-ref", "-d", ref, current.stdout.trim()]);
  }
}

function uninspectable(candidate: GcCandidate, error: unknown): GcDecision {
  const reason = error instanceof Error ? error.message : String(error);
  return { ...keptDecision(candidate, `could not be inspected, kept: ${reason}`), error: reason };
}
