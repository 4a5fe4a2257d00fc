// The pure side of the forecast: which branches are active and related, how
// a pair's conflicts are named, compared and told.
import type { InstanceSummary } from "@tmux-claude/core";
import { resolveCommit } from "../git/repo.js";
import { runGit } from "../git/run.js";
import type { ConflictFile, ForecastFile, GitInstanceState } from "../types.js";
import { mergeTree } from "./merge-tree.js";

/** An instance with its own worktree and branch that is still running: what a forecast is about. */
export interface ActiveBranch {
  readonly id: string;
  readonly parentId: string | null;
  readonly state: GitInstanceState;
}

export function activeBranches(instances: readonly InstanceSummary[]): ActiveBranch[] {
  return instances.flatMap((instance) => {
    const state = instance.pluginState?.git as GitInstanceState | undefined;
    if (instance.status === "exited" || instance.terminatedAt || state?.isolation !== "worktree") return [];
    return [{ id: instance.id, parentId: instance.parentId, state }];
  });
}

/** The pairs one branch change can alter: the branch against its target, against each sibling, and its children against it. */
export function relatedPairs(changed: ActiveBranch, all: readonly ActiveBranch[]) {
  const sameRepo = all.filter((b) => b.state.repo === changed.state.repo);
  return {
    siblings: sameRepo.filter((b) => b.id !== changed.id && b.parentId === changed.parentId),
    children: sameRepo.filter((b) => b.parentId === changed.id && b.state.base === changed.state.branch),
  };
}

/** The commit of each ref in one `git rev-parse`; a ref that does not resolve is left out. */
export async function resolveCommits(repo: string, refs: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(refs)];
  const commits = new Map<string, string>();
  const all = await runGit(repo, ["rev-parse", "--end-of-options", ...unique.map((r) => `${r}^{commit}`)], { ok: [0, 128] });
  // rev-parse echoes --end-of-options itself: keep only the commit ids, one per ref.
  const lines = all.code === 0 ? all.stdout.split("\n").filter((line) => /^[0-9a-f]{40,64}$/u.test(line)) : [];
  if (lines.length === unique.length) {
    unique.forEach((ref, i) => commits.set(ref, lines[i]!));
    return commits;
  }
  // Some ref is gone (rev-parse stops at the first it cannot resolve): ask one by one.
  for (const ref of unique) {
    const commit = await resolveCommit(repo, ref);
    if (commit) commits.set(ref, commit);
  }
  return commits;
}

/** The conflicts of merging `theirs` into `ours` (commit ids), without hunks: a forecast names files. */
export async function pairConflicts(repo: string, ours: string, theirs: string): Promise<ConflictFile[]> {
  if (ours === theirs) return [];
  const result = await mergeTree(repo, ours, theirs, { hunks: false });
  return [...result.conflicts];
}

export function forecastFiles(conflicts: readonly ConflictFile[]): ForecastFile[] {
  return conflicts.map((c) => ({ path: c.path, kind: c.kind }));
}

/** Two forecasts name the same conflicts when their (path, kind) sets are equal. */
export function sameConflicts(a: readonly ForecastFile[] | undefined, b: readonly ForecastFile[] | undefined): boolean {
  const key = (files: readonly ForecastFile[] | undefined) =>
    (files ?? [])
      .map((f) => `${f.kind}\0${f.path}`)
      .sort()
      .join("\n");
  return key(a) === key(b);
}

const MAX_FILES_NAMED = 20;

function fileList(files: readonly ForecastFile[]): string {
  const named = files.slice(0, MAX_FILES_NAMED).map((f) => `${JSON.stringify(f.path)} (${f.kind})`);
  const more = files.length > MAX_FILES_NAMED ? ` and ${files.length - MAX_FILES_NAMED} more` : "";
  return `${files.length} file${files.length === 1 ? "" : "s"}: ${named.join(", ")}${more}`;
}

/** The parent's message when two of its children start to conflict. */
export function siblingsMessage(a: ActiveBranch, b: ActiveBranch, files: readonly ForecastFile[], before: readonly ForecastFile[] | undefined): string {
  const what = before?.length ? "now conflict differently, in" : "will conflict when both are merged, in";
  return (
    `git forecast: your instances ${a.id} (branch ${a.state.branch}) and ${b.id} (branch ${b.state.branch}) ${what} ${fileList(files)}. ` +
    `Whichever merges second will need a resolution; you may want to tell one of them to keep away from these files.`
  );
}

/** The parent's message when a child's branch stops merging cleanly into its target. */
export function targetMessage(child: ActiveBranch, files: readonly ForecastFile[]): string {
  return (
    `git forecast: instance ${child.id}'s branch ${child.state.branch} no longer merges cleanly into ${child.state.base}, in ${fileList(files)}. ` +
    `Merging it will need a resolution.`
  );
}
