// merge(id, {...}) for instances: the instance's branch into its base (its
// parent's branch) or `into`, through the target's merge queue.
import { join } from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import type { GitRuntime } from "../runtime.js";
import type { GitInstanceState } from "../types.js";
import { dirtyPaths, resolveCommit } from "../git/repo.js";
import { branchTip, buildMerge } from "./commits.js";
import type { MergeOutcome, Resolver } from "./engine.js";
import { MergeQueue, type QueuedEntry } from "./queue.js";
import { mergeCallSchema, type MergeCall, type MergeCaller, type MergePart } from "./call.js";
import { refusal } from "./target.js";
import { verifyArgv } from "./verify.js";
import { scratchRoot } from "../resolve/scratch.js";
import { mergeSubcommand, mergeTool, queueSubcommand } from "../surfaces/merge-command.js";
import { mergeConflictNotice } from "../surfaces/notices.js";

export { mergeCallSchema, type MergeCall, type MergeCaller, type MergePart } from "./call.js";

/** How long a start or an auto-commit waits for a target's merge lock to finish an interrupted merge (then: skip it, log). */
const AUTO_COMMIT_LOCK_WAIT_MS = 5_000;

export interface MergeDeps {
  /** The resolve part's entry point for resolve: "ai" (absent: conflicts are reported). */
  readonly resolve?: Resolver;
}

export function installMerge(runtime: GitRuntime, deps: MergeDeps = {}): MergePart {
  const { ctx, options } = runtime;
  let queue: MergeQueue | undefined;
  // The state dir is known once the kernel exists; the queue is made on first use.
  const theQueue = () =>
    (queue ??= new MergeQueue({
      dir: join(ctx.kernel.stateDir, "git", "queue"),
      scratchRoot: scratchRoot(ctx.kernel.stateDir),
      lockTimeoutMs: options.merge.lockTimeoutMs,
      ...(deps.resolve ? { resolve: deps.resolve } : {}),
      recorded: (outcome) => {
        const notice = mergeConflictNotice(outcome);
        if (notice) void ctx.notice(notice).catch((error: unknown) => ctx.logger.warn({ err: error }, "merge: could not raise the conflict notice"));
      },
    }));

  const part: MergePart = { merge: (id, call, caller) => mergeInstance(id, call, caller), queue: () => theQueue().list() };
  runtime.commands.register(mergeSubcommand(part));
  runtime.commands.register(queueSubcommand(part));
  ctx.hooks.tools.tapPromise(async (tools) => [...tools, mergeTool(part, Object.keys(ctx.config.roles))]);

  // A merge into an instance's branch that a kill interrupted is finished before that worktree is committed.
  runtime.beforeAutoCommit.add(async (state) => {
    // Short: the lock's holder is dead (takeover is immediate) or a live merge is moving this branch; then skip this turn's commit.
    await theQueue().repair(state.repo, state.branch, AUTO_COMMIT_LOCK_WAIT_MS);
  });

  // A kernel that stopped mid-merge (killed) finishes the move at once, in every mode: until then the
  // target's checkout shows the branch merged but its index not, and a commit there would undo the merge.
  ctx.hooks.ready.tapPromise(async () => {
    const repos = new Set<string>();
    try {
      for (const entry of await theQueue().list()) repos.add(entry.repo);
      for (const instance of await ctx.kernel.list()) {
        const state = await runtime.state(instance.id).catch(() => undefined);
        if (state && state.isolation !== "none") repos.add(state.repo);
      }
    } catch (error) {
      ctx.logger.warn({ err: error }, "listing repositories to finish interrupted merges in failed");
    }
    for (const repo of repos) {
      // Short wait: a journal whose merge is alive (another process mid-move) is that process's to finish; a start must not hang on it.
      await theQueue()
        .repairAll(repo, AUTO_COMMIT_LOCK_WAIT_MS)
        .catch((error: unknown) => ctx.logger.warn({ err: error, repo }, "finishing an interrupted merge failed"));
    }
    // A kernel that stopped mid-queue continues it: serve what is waiting.
    if (ctx.mode !== "serve") return;
    const waiting = new Map<string, QueuedEntry>();
    for (const entry of await theQueue().list()) if (!entry.done) waiting.set(`${entry.repo}\0${entry.target}`, entry);
    for (const entry of waiting.values()) {
      void theQueue()
        .drain(entry.repo, entry.target)
        .catch((error: unknown) => ctx.logger.warn({ err: error, target: entry.target }, "continuing the merge queue failed"));
    }
  });

  return part;

  async function mergeInstance(id: string, rawCall: MergeCall = {}, caller?: MergeCaller): Promise<MergeOutcome> {
    const call = parseCall(rawCall);
    const record = await ctx.kernel.get(id);
    const state = await runtime.state(id);
    if (!state || state.isolation === "none") {
      throw new TmuxClaudeError(
        GitErrorCodes.NO_GIT_STATE,
        `Instance ${id} has no branch of its own to merge: it was spawned ${state ? 'with isolation "none"' : "outside a git repository or without the git plugin"}. Merge branches with git directly, or spawn it with isolation "worktree".`,
        { instance: id },
      );
    }
    const target = call.into ?? state.base;
    if (caller) await authorize(runtime, caller, id, record.parentId, target);
    if (caller && caller.instanceId !== null && call.verify !== undefined) {
      // An agent's verify would be a host command run outside its permission prompts (see mergeTool).
      throw new TmuxClaudeError(GitErrorCodes.MERGE_FORBIDDEN, `${caller.instanceId} may not set verify: it runs a command in the kernel's process. The verify command comes from the git plugin's merge.verify option.`, { caller: caller.instanceId });
    }
    if (state.branch === target) {
      throw new TmuxClaudeError(GitErrorCodes.MERGE_INVALID, `Instance ${id} works on ${target} itself (isolation "${state.isolation}"): there is nothing to merge into it. Name another branch with into.`, { instance: id, target });
    }
    // Before anything is queued: a revision (main~0) or a missing branch is named, not retried.
    await branchTip(state.repo, target);
    if (!(await resolveCommit(state.repo, `refs/heads/${state.branch}`))) {
      throw new TmuxClaudeError(GitErrorCodes.BRANCH_MISSING, `Cannot merge ${id}: its branch ${state.branch} no longer exists in ${state.repo}. Nothing to merge; restart the instance to make its branch again.`, { instance: id, branch: state.branch });
    }
    const strategy = call.strategy ?? options.merge.strategy;
    const verify = call.verify ?? options.merge.verify;
    const request = {
      repo: state.repo,
      source: state.branch,
      target,
      strategy,
      resolve: call.resolve ?? options.merge.resolve,
      ...(verify ? { verify: verifyArgv(verify) } : {}),
      verifyTimeoutMs: options.merge.verifyTimeoutMs,
      message: mergeMessage(state, target, id, strategy),
      priority: call.priority ?? 0,
      batch: call.batch ?? false,
      instanceId: id,
    };
    const leftOut = await uncommittedIn(state);
    const withLeftOut = (outcome: MergeOutcome): MergeOutcome => (leftOut.length ? { ...outcome, uncommittedLeftOut: leftOut } : outcome);
    if (call.dryRun) return withLeftOut(await dryRun(request));
    const outcome = withLeftOut(await theQueue().run(request));
    ctx.logger.info({ instance: id, target, status: outcome.status, commit: outcome.commit }, "merge");
    if (outcome.status === "merged") {
      const parent = record.parentId;
      if (parent) {
        const parentState = await runtime.state(parent).catch(() => undefined);
        // The parent's branch got commits: whoever listens for branch changes (the forecaster) hears it.
        if (parentState?.branch === target) await runtime.branchChanged.emit({ instanceId: parent, branch: target, commit: outcome.commit!, reason: "merge" });
      }
    }
    return outcome;
  }
}

function parseCall(raw: unknown) {
  const result = mergeCallSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`).join("; ");
  throw new TmuxClaudeError(GitErrorCodes.MERGE_INVALID, `Invalid merge request: ${issues}. Fix: into is a branch name, strategy merge|squash|rebase, resolve none|ai, verify a command.`, { request: raw });
}

/** What the merge would do now, without queueing or moving anything. */
async function dryRun(request: { repo: string; source: string; target: string; strategy: "merge" | "squash" | "rebase"; message: string; instanceId: string }): Promise<MergeOutcome> {
  const base = { requestId: "dry-run", instanceId: request.instanceId, source: request.source, target: request.target, strategy: request.strategy };
  const onto = (await resolveCommit(request.repo, `refs/heads/${request.target}`))!;
  const source = (await resolveCommit(request.repo, `refs/heads/${request.source}`))!;
  const built = await buildMerge({ repo: request.repo, onto, source, strategy: request.strategy, message: request.message });
  if (built.kind === "up-to-date") return { ...base, status: "up-to-date", previous: onto, commit: onto };
  if (built.kind === "conflict") {
    return { ...base, status: "conflict", previous: onto, conflicts: [...built.conflicts], reason: `would conflict in ${built.conflicts.map((c) => c.path).join(", ")}`, code: GitErrorCodes.MERGE_CONFLICT };
  }
  const refused = await refusal(request.repo, request.target, onto, built.commit);
  if (refused) return { ...base, status: "refused", previous: onto, reason: refused.message, code: refused.code };
  return { ...base, status: "would-merge", previous: onto, reason: `merges cleanly into ${request.target}` };
}

async function authorize(runtime: GitRuntime, caller: MergeCaller, id: string, parentId: string | null, target: string): Promise<void> {
  if (caller.instanceId === null) return;
  const deny = (why: string) =>
    new TmuxClaudeError(GitErrorCodes.MERGE_FORBIDDEN, `${caller.instanceId} (role ${caller.role ?? "unknown"}) may not merge ${id} into ${target}: ${why}`, { caller: caller.instanceId, instance: id, target });
  if (caller.role === "specialist") throw deny("a specialist does not merge; its manager merges its work.");
  if (parentId !== caller.instanceId) throw deny(`only its parent (${parentId ?? "root"}) merges it. Ask that instance, or merge your own children.`);
  const own = await runtime.state(caller.instanceId);
  if (!own || own.branch !== target) throw deny(`a manager merges its children into its own branch (${own?.branch ?? "none"}). Leave into unset.`);
}

function mergeMessage(state: GitInstanceState, target: string, id: string, strategy: string): string {
  const verb = strategy === "squash" ? "Squash" : "Merge";
  return `${verb} ${state.branch} (instance ${id}) into ${target}\n\nMerged by tmux-claude.\n`;
}

/**
 * A merge takes the branch's commits only: what the agent has not committed
 * yet stays behind, which the caller must hear (auto-commit off, or a turn
 * still running). A worktree that cannot be read is no reason to refuse.
 */
async function uncommittedIn(state: GitInstanceState): Promise<string[]> {
  if (state.isolation !== "worktree") return [];
  return dirtyPaths(state.worktree).catch(() => []);
}
