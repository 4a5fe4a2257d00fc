// merge: the instances of spawn steps merge their branches into their
// parents' (children first) through plugin-git's merge queue;
// `auto-resolve-conflicts` lets the git plugin's AI resolver settle conflicts.
import type { MergeStep, SpawnStep, StepOutput } from "../../types.js";
import { mergeSources } from "../../dsl/index.js";
import type { GitMergeApi, GitMergeCall } from "../context.js";
import { StepFailure, type StepEnv } from "./step-env.js";

export async function runMerge(step: MergeStep, env: StepEnv, git: GitMergeApi): Promise<StepOutput> {
  const { run } = env;
  const sources = mergeSources(run.workflow, step, run.parents);
  const from = run.workflow.steps.filter((s): s is SpawnStep => s.kind === "spawn" && sources.includes(s.id));
  const candidates: { id: string; depth: number }[] = [];
  const gone: string[] = [];
  for (const spawn of from) {
    for (const task of run.tasksOf(spawn.id)) {
      if (!task.instanceId) continue;
      const record = await run.kernel.get(task.instanceId).catch(() => undefined);
      if (!record || record.status === "exited") gone.push(task.instanceId);
      // Merged into its parent's branch: a top-level instance has none (unless the list names its step, or the spec an into: branch).
      if (!record || (record.parentId === null && !step.from && step.spec?.into === undefined)) continue;
      candidates.push({ id: record.id, depth: record.depth });
    }
  }
  // Children first, so a parent's branch holds its children's work when it merges in turn.
  candidates.sort((a, b) => b.depth - a.depth);
  const merged: NonNullable<StepOutput["merged"]> = [];
  for (const { id } of candidates) {
    if (env.signal.aborted) throw env.signal.reason;
    const state = await git.status(id);
    if (!state || state.isolation === "none") {
      run.journal.write({ type: "merge", step: step.id, instanceId: id, into: "-", outcome: "skipped", detail: "no branch of its own (isolation none, or outside a git repository)" });
      continue;
    }
    const call = mergeCall(step);
    const outcome = await git.merge(id, call).catch((error: unknown) => {
      throw new StepFailure(`merging ${id} (${state.branch} into ${state.base}) failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    run.journal.write({ type: "merge", step: step.id, instanceId: id, into: outcome.target, outcome: outcome.status, ...(outcome.reason ? { detail: outcome.reason } : outcome.commit ? { detail: outcome.commit } : {}) });
    merged.push({ instance: id, outcome: outcome.status });
    if (outcome.status === "conflict" && call.resolve !== "ai" && outcome.conflicts) {
      // The git plugin's own advice names its CLI flag (--resolve ai); in a workflow the strategy says it.
      const files = outcome.conflicts.map((c) => `${c.path} (${c.kind})`).join(", ");
      throw new StepFailure(
        `${id}'s branch ${outcome.source} conflicts with ${outcome.target} in ${files}; ${outcome.target} was not changed. Let the git plugin's AI resolver settle conflicts with \`merge: auto-resolve-conflicts\` in the workflow (in a merge spec: \`resolve: ai\`), or resolve it in ${outcome.source} (merge ${outcome.target} into it there) and resume the run (run it with --keep, so a failed run leaves its instances for that)`,
      );
    }
    if (outcome.status !== "merged" && outcome.status !== "up-to-date") {
      throw new StepFailure(`${id}'s branch ${outcome.source} did not merge into ${outcome.target}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ""}`);
    }
  }
  if (merged.length === 0 && gone.length > 0) {
    // A resumed run whose failure terminated them (no --keep): their worktrees with unmerged work are kept by the git plugin.
    throw new StepFailure(
      `nothing to merge: the instances of ${from.map((s) => s.id).join(", ")} (${gone.join(", ")}) are gone (a failed run terminates what it spawned unless run with --keep), and a resume does not spawn a completed step again. The git plugin kept their unmerged worktrees and branches (tmux-claude git gc --dry-run lists them); merge them with git, or run the workflow again: tmux-claude run --from ${run.id} --keep`,
    );
  }
  if (merged.length === 0) throw new StepFailure(`no instance with a branch of its own to merge (from ${from.map((s) => s.id).join(", ") || "no spawn step"}); spawn them with the git plugin's isolation "worktree"`);
  return { merged };
}

/** What each instance's merge asks the git plugin: the spec as written (unset keys: the plugin's merge options), or the strategy's resolve. */
function mergeCall(step: MergeStep): GitMergeCall {
  if (!step.spec) return { resolve: step.strategy === "auto-resolve-conflicts" ? "ai" : "none" };
  const { verify, ...call } = step.spec;
  return { ...call, ...(verify ? { verify: [...verify] } : {}) };
}
