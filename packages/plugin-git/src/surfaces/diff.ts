// `git_diff` / `tmux-claude git diff <id>`: what an instance's branch changes
// against its base (merge-base..branch, what a merge would bring), plus what
// is still uncommitted in its worktree, flagged as such.
import { existsSync } from "node:fs";
import { isTmuxClaudeError, TmuxClaudeError, type InstanceRecord, type KernelApi } from "@tmux-claude/core";
import { KeptLedger } from "../gc/candidates.js";
import { resolveCommit } from "../git/repo.js";
import { gitValue, runGit } from "../git/run.js";
import type { GitInstanceState } from "../types.js";
import { GitErrorCodes } from "../errors.js";
import type { GitSubcommand } from "./commands.js";

export interface InstanceDiff {
  readonly id: string;
  readonly branch: string;
  readonly base: string;
  /** The commit the branch forked from its base: the diff starts there, so the base's own later commits are not in it. */
  readonly mergeBase: string | null;
  /** `--stat`: a summary instead of the patch. */
  readonly stat: boolean;
  /** The committed changes (`git diff <merge-base> <branch>`). */
  readonly diff: string;
  readonly uncommitted: {
    /** Tracked files with changes not committed yet (`git diff HEAD`). */
    readonly diff: string;
    /** New files git does not track yet (not ignored): not in any diff until committed. */
    readonly untracked: readonly string[];
    /** The worktree is gone: nothing uncommitted can be shown. */
    readonly worktreeMissing: boolean;
  };
}

const DIFF_FLAGS = ["--no-color", "--no-ext-diff", "--no-textconv"];

export async function instanceDiff(record: InstanceRecord, stat: boolean): Promise<InstanceDiff> {
  const state = record.pluginState?.git as GitInstanceState | undefined;
  if (!state || state.isolation === "none") {
    throw new TmuxClaudeError(
      GitErrorCodes.NO_GIT_STATE,
      `Instance "${record.id}" has no git branch of the plugin (it works outside a repository, or with isolation "none"). See tmux-claude git status for the instances that have one.`,
      { id: record.id },
    );
  }
  const worktreeThere = existsSync(state.worktree);
  const cwd = worktreeThere ? state.worktree : state.repo;
  const branchCommit = await resolveCommit(cwd, state.branch);
  const baseCommit = await resolveCommit(cwd, state.base);
  const mergeBase = branchCommit && baseCommit ? await gitValue(cwd, ["merge-base", baseCommit, branchCommit]).catch(() => null) : null;
  const shape = stat ? ["--stat"] : [];
  const diff = mergeBase && branchCommit ? (await runGit(cwd, ["diff", ...DIFF_FLAGS, ...shape, mergeBase, branchCommit, "--"])).stdout : "";
  const uncommitted = worktreeThere
    ? {
        diff: (await runGit(state.worktree, ["diff", ...DIFF_FLAGS, ...shape, "HEAD", "--"])).stdout,
        untracked: (await runGit(state.worktree, ["ls-files", "-z", "--others", "--exclude-standard"])).stdout.split("\0").filter(Boolean),
        worktreeMissing: false,
      }
    : { diff: "", untracked: [], worktreeMissing: true };
  return { id: record.id, branch: state.branch, base: state.base, mergeBase, stat, diff, uncommitted };
}

export function diffText(d: InstanceDiff): string {
  const parts = [`# ${d.id}: ${d.branch} against ${d.base}${d.mergeBase ? ` (since ${d.mergeBase.slice(0, 12)})` : " (no common commit: branch or base missing)"}`];
  parts.push(d.diff.trimEnd() || "# no committed changes");
  if (d.uncommitted.worktreeMissing) parts.push("# the worktree is gone: no uncommitted changes to show");
  else if (d.uncommitted.diff || d.uncommitted.untracked.length) {
    parts.push("# UNCOMMITTED (in the worktree, not on the branch yet):");
    if (d.uncommitted.diff) parts.push(d.uncommitted.diff.trimEnd());
    if (d.uncommitted.untracked.length) parts.push(`# untracked: ${d.uncommitted.untracked.join(", ")}`);
  }
  return parts.join("\n");
}

/** A terminated instance whose worktree terminate kept (the gc part's kept list): still diffable by its id. */
async function keptRecord(kernel: Pick<KernelApi, "stateDir">, id: string): Promise<InstanceRecord | undefined> {
  const entry = (await KeptLedger.in(kernel.stateDir).list()).find((k) => k.id === id);
  return entry ? ({ id, pluginState: { git: entry.state } } as unknown as InstanceRecord) : undefined;
}

export const diffSubcommand: GitSubcommand = {
  name: "diff",
  usage: "diff <id> [--stat] [--json]",
  summary: "an instance's branch against its base (merge-base..branch), with uncommitted changes flagged",
  options: { stat: { type: "boolean" } },
  positionals: { min: 1, max: 1, names: ["id"] },
  async run({ positionals, flags, kernel, out }) {
    const id = positionals[0]!;
    const record = await kernel.get(id).catch(async (error: unknown) => (isTmuxClaudeError(error) && error.kind === "not-found" ? await keptRecord(kernel, id) : undefined) ?? Promise.reject(error));
    const result = await instanceDiff(record, flags.stat === true);
    out.result(result, () => diffText(result));
    return 0;
  },
};
