// Isolation per instance: in beforeSpawn, an instance whose workDir is in a
// git repository gets its own worktree on its own branch (or shares the
// checkout, or is left alone), and the plugin's state on it says which.
// A failed spawn takes back what was made; a restart reuses it.
import { mkdir, realpath } from "node:fs/promises";
import path from "node:path";
import { TmuxClaudeError, type SpawnFailure, type SpawnPlan } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { assertGitVersion, branchExists, checkoutOf, repoKey, type CheckoutFacts } from "../git/repo.js";
import { effectiveSettings, parseSpawnOptions, type EffectiveSettings } from "../options.js";
import type { GitRuntime } from "../runtime.js";
import type { GitInstanceState } from "../types.js";
import { chooseBase, uncommittedLeftOut } from "./base.js";
import { copyIncluded } from "./include.js";
import { addWorktreeForBranch, addWorktreeWithBranch, assertFreePath, liveWorktree, undoMade, type Made } from "./worktrees.js";

export interface IsolationPart {
  /** The directory every repository's worktrees live under (the `worktreeDir` option, from the state dir). */
  worktreeDir(): string;
  /** Where worktrees of a repository live: `<worktreeDir>/<repo key>`. */
  worktreeRoot(checkout: Pick<CheckoutFacts, "commonDir" | "mainWorktree">): Promise<string>;
}

export function installIsolation(runtime: GitRuntime): IsolationPart {
  const { ctx, options } = runtime;
  /** What this process's beforeSpawn made per instance id, until the spawn is through. */
  const made = new Map<string, Made>();
  /** One worktree change at a time per repository (keyed by its main worktree): git's own locks would fail a concurrent one, not wait for it. */
  const repoLocks = new Map<string, Promise<unknown>>();

  const serialized = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (repoLocks.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    repoLocks.set(key, tail);
    void tail.then(() => repoLocks.get(key) === tail && repoLocks.delete(key));
    return run;
  };

  const worktreeDir = (): string => path.resolve(ctx.kernel.stateDir, options.worktreeDir ?? "worktrees");
  const worktreeRoot = async (checkout: Pick<CheckoutFacts, "commonDir" | "mainWorktree">): Promise<string> => {
    return path.join(worktreeDir(), await repoKey(checkout));
  };

  const writeState = async (plan: SpawnPlan, state: GitInstanceState): Promise<void> => {
    const written = await ctx.state<GitInstanceState>(plan.id).update(() => state);
    if (!written) {
      throw new TmuxClaudeError(GitErrorCodes.COMMAND_FAILED, `Instance "${plan.id}" disappeared (terminated?) while its worktree was being made.`, { id: plan.id });
    }
  };

  const parentIn = async (plan: SpawnPlan, checkout: CheckoutFacts) => {
    if (!plan.parentId) return undefined;
    const state = await runtime.state(plan.parentId);
    // A parent in another repository (or without git) gives no base here: the child starts as a top-level one would.
    if (!state || state.isolation === "none" || path.resolve(state.repo) !== path.resolve(checkout.mainWorktree)) return undefined;
    return { id: plan.parentId, state };
  };

  const isolate = async (plan: SpawnPlan, settings: EffectiveSettings): Promise<SpawnPlan> => {
    await assertGitVersion();
    const checkout = await checkoutOf(plan.workDir);
    if (!checkout) {
      if ((settings.explicit && settings.isolation === "worktree") || options.outsideRepo === "error") {
        throw new TmuxClaudeError(
          GitErrorCodes.NOT_A_REPO,
          `${plan.workDir} is not inside a git repository, so instance "${plan.id}" cannot get a worktree (isolation "${settings.isolation}"). Spawn it in a git checkout, or with --plugin git.isolation=none${options.outsideRepo === "error" ? ', or set outsideRepo: "skip" to run such spawns without git' : ""}.`,
          { workDir: plan.workDir, isolation: settings.isolation },
        );
      }
      ctx.logger.info({ instance: plan.id, workDir: plan.workDir }, "not in a git repository: the instance runs without git isolation");
      return plan;
    }
    if (settings.isolation === "shared" && !checkout.branch) {
      throw new TmuxClaudeError(
        GitErrorCodes.DETACHED_HEAD,
        `${checkout.toplevel} is on a detached HEAD, and a shared instance works on the branch checked out there. Check out a branch there, or spawn with --plugin git.isolation=worktree (and a baseRef) or none.`,
        { checkout: checkout.toplevel, isolation: "shared" },
      );
    }
    const parent = await parentIn(plan, checkout);
    const base = await chooseBase({ checkout, parent, spawnBaseRef: settings.baseRef, topLevelBaseRef: settings.topLevelBaseRef });
    const common = { repo: checkout.mainWorktree, base: base.name, baseCommit: base.commit, createdAt: new Date().toISOString(), autoCommit: settings.autoCommit };
    if (settings.isolation === "shared") {
      await writeState(plan, { ...common, isolation: "shared", worktree: checkout.toplevel, branch: checkout.branch! });
      ctx.logger.info({ instance: plan.id, checkout: checkout.toplevel }, "shares its checkout");
      return plan;
    }
    const branch = `${options.branchPrefix}${plan.id}`;
    const worktree = path.join(await worktreeRoot(checkout), plan.id);
    // Keep the workDir's place inside the repository: spawned in <repo>/sub, it works in <worktree>/sub.
    const offset = path.relative(checkout.toplevel, await realpath(plan.workDir));
    const leftOut = uncommittedLeftOut(base);
    return serialized(checkout.mainWorktree, async () => {
      await assertFreePath(worktree);
      const making = await addWorktreeWithBranch(checkout.mainWorktree, worktree, { id: plan.id, prefix: options.branchPrefix, branch }, base.commit, ctx.logger);
      made.set(plan.id, making);
      try {
        const workDir = path.join(worktree, offset);
        await mkdir(workDir, { recursive: true });
        const copied = await copyIncluded(checkout.toplevel, worktree, options.include, ctx.logger);
        const uncommitted = await leftOut;
        await writeState(plan, { ...common, isolation: "worktree", worktree, branch, ...(uncommitted ? { uncommittedLeftOut: uncommitted } : {}) });
        ctx.logger.info({ instance: plan.id, branch, base: base.name, baseCommit: base.commit, worktree, included: copied.length }, "made its worktree and branch");
        if (uncommitted) {
          ctx.logger.info(
            { instance: plan.id, checkout: uncommitted.checkout, uncommitted: uncommitted.paths, count: uncommitted.count },
            `${base.headOf!.whose} has ${uncommitted.count} uncommitted change(s); the new branch starts from its last commit and does not include them`,
          );
        }
        // Listeners (the forecaster) work on their own time, not the spawn's.
        void runtime.branchChanged.emit({ instanceId: plan.id, branch, commit: base.commit, reason: "spawn" });
        return { ...plan, workDir };
      } catch (error) {
        made.delete(plan.id);
        await undoMade(making, ctx.logger);
        throw error;
      }
    });
  };

  /** A restart works where the first launch did: the same worktree, made again from its branch if it was removed. */
  const reuse = async (plan: SpawnPlan): Promise<SpawnPlan> => {
    const state = await runtime.state(plan.id);
    if (!state || state.isolation !== "worktree") return plan;
    const live = await liveWorktree(state.repo, state.worktree);
    if (live) {
      if (live.branch !== state.branch) ctx.logger.warn({ instance: plan.id, branch: state.branch, checkedOut: live.branch ?? "(detached)" }, "restarts in its worktree, which is no longer on the instance's branch");
      return plan;
    }
    await assertGitVersion();
    return serialized(state.repo, async () => {
      if (!(await branchExists(state.repo, state.branch))) {
        throw new TmuxClaudeError(
          GitErrorCodes.BRANCH_MISSING,
          `Instance "${plan.id}" worked on branch "${state.branch}", which no longer exists, so its worktree ${state.worktree} cannot be made again. Restore the branch (git reflog), or terminate the instance and spawn a new one.`,
          { id: plan.id, branch: state.branch, worktree: state.worktree },
        );
      }
      const making = await addWorktreeForBranch(plan.id, state.repo, state.worktree, state.branch);
      made.set(plan.id, making);
      try {
        await mkdir(plan.workDir, { recursive: true });
        await copyIncluded(state.repo, state.worktree, options.include, ctx.logger);
        ctx.logger.info({ instance: plan.id, branch: state.branch, worktree: state.worktree }, "made its worktree again for a restart");
        return plan;
      } catch (error) {
        made.delete(plan.id);
        await undoMade(making, ctx.logger);
        throw error;
      }
    });
  };

  ctx.hooks.beforeSpawn.tapPromise(async (plan) => {
    if (plan.restart) return reuse(plan);
    const settings = effectiveSettings(options, plan.role, parseSpawnOptions(plan.plugins.git));
    if (settings.isolation === "none") return plan;
    return isolate(plan, settings);
  });

  // Ready: what was made belongs to the instance now (gc takes it from here).
  ctx.hooks.afterSpawn.tapPromise(async (instance) => {
    made.delete(instance.id);
  });

  ctx.hooks.spawnFailed.tapPromise(async (failure: SpawnFailure) => {
    const making = made.get(failure.plan.id);
    if (!making) return;
    made.delete(failure.plan.id);
    await serialized(making.repo, () => undoMade(making, ctx.logger));
    ctx.logger.info({ instance: failure.plan.id, worktree: making.worktree, branch: making.createdBranchAt ? making.branch : undefined }, "removed what a failed spawn made");
  });

  return { worktreeDir, worktreeRoot };
}
