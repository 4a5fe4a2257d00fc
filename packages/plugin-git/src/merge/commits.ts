// A merge built as git objects only (trees and commits): no index, no
// worktree, no ref is touched here, so nothing can be left half-done.
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { withIdentity } from "../git/identity.js";
import { isValidBranchName, resolveCommit } from "../git/repo.js";
import { gitValue, runGit } from "../git/run.js";
import { mergeTree } from "../forecast/merge-tree.js";
import type { ConflictFile } from "../types.js";

export type MergeStrategy = "merge" | "squash" | "rebase";

export type BuiltMerge =
  /** The source is already contained in the target: nothing to do. */
  | { readonly kind: "up-to-date"; readonly commit: string }
  | { readonly kind: "clean"; readonly commit: string; readonly tree: string }
  /** `tree` holds the conflict markers; `at` is the replayed commit that conflicted (rebase). */
  | { readonly kind: "conflict"; readonly tree: string; readonly conflicts: readonly ConflictFile[]; readonly at?: string };

export interface BuildRequest {
  readonly repo: string;
  /** The target's commit the result goes on top of. */
  readonly onto: string;
  /** The source branch's commit. */
  readonly source: string;
  readonly strategy: MergeStrategy;
  /** Message of the merge or squash commit. */
  readonly message: string;
}

export async function buildMerge(request: BuildRequest): Promise<BuiltMerge> {
  const { repo, onto, source } = request;
  if (await isAncestor(repo, source, onto)) return { kind: "up-to-date", commit: onto };
  if (request.strategy === "rebase") return replay(request);
  const merged = await mergeTree(repo, onto, source);
  if (!merged.clean) return { kind: "conflict", tree: merged.tree, conflicts: merged.conflicts };
  // A squash leaves no ancestry behind, so a second squash of the same branch is only seen by its result:
  // nothing would change. (A merge commit still records the ancestry, so it is made.)
  if (request.strategy === "squash" && merged.tree === (await treeOf(repo, onto))) return { kind: "up-to-date", commit: onto };
  const parents = request.strategy === "merge" ? [onto, source] : [onto];
  return { kind: "clean", tree: merged.tree, commit: await commitTree(repo, merged.tree, parents, request.message) };
}

export async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  return (await runGit(repo, ["merge-base", "--is-ancestor", ancestor, descendant], { ok: [0, 1] })).code === 0;
}

/** The one way this plugin writes a commit object: no ref moves, and a machine without a git identity still gets one. */
export async function commitTree(repo: string, tree: string, parents: readonly string[], message: string, env?: Record<string, string>): Promise<string> {
  const args = ["commit-tree", tree, ...parents.flatMap((parent) => ["-p", parent]), "-F", "-"];
  return gitValue(repo, args, { input: message.endsWith("\n") ? message : `${message}\n`, env: await withIdentity(repo, env) });
}

/**
 * Replay each commit of the source that the target lacks onto the target,
 * keeping its author and message. git 2.38/2.39 lack `merge-tree --merge-base`,
 * so each pick is a merge of two stand-in commits whose only common ancestor
 * carries the picked commit's parent tree: the same three-way merge a
 * cherry-pick does, still objects only.
 */
async function replay(request: BuildRequest): Promise<BuiltMerge> {
  const { repo, onto, source } = request;
  const picks = (await gitValue(repo, ["rev-list", "--reverse", "--no-merges", `${onto}..${source}`])).split("\n").filter(Boolean);
  let current = onto;
  let tree = await gitValue(repo, ["rev-parse", `${onto}^{tree}`]);
  for (const pick of picks) {
    const [parentTree, pickTree] = await Promise.all([treeOf(repo, `${pick}^`), treeOf(repo, pick)]);
    let pickedTree: string;
    if (parentTree === tree) {
      pickedTree = pickTree;
    } else {
      const base = await commitTree(repo, parentTree, [], "tmux-claude rebase: base");
      const [ours, theirs] = await Promise.all([
        commitTree(repo, tree, [base], "tmux-claude rebase: onto"),
        commitTree(repo, pickTree, [base], "tmux-claude rebase: pick"),
      ]);
      const merged = await mergeTree(repo, ours, theirs);
      if (!merged.clean) return { kind: "conflict", tree: merged.tree, conflicts: merged.conflicts, at: pick };
      pickedTree = merged.tree;
    }
    // Already in the target (a rebase of this branch merged before): dropped, as `git rebase` drops a pick that became empty.
    if (pickedTree === tree) continue;
    current = await commitTree(repo, pickedTree, [current], await gitValue(repo, ["log", "-1", "--format=%B", pick]), await authorOf(repo, pick));
    tree = pickedTree;
  }
  if (current === onto) return { kind: "up-to-date", commit: onto };
  return { kind: "clean", tree, commit: current };
}

async function treeOf(repo: string, rev: string): Promise<string> {
  // A root commit has no parent: its base is the empty tree.
  const result = await runGit(repo, ["rev-parse", "--verify", "--quiet", `${rev}^{tree}`], { ok: [0, 1] });
  return result.code === 0 ? result.stdout.trim() : gitValue(repo, ["hash-object", "-t", "tree", "--stdin"], { input: "" });
}

async function authorOf(repo: string, commit: string): Promise<Record<string, string>> {
  const [name, email, date] = (await gitValue(repo, ["log", "-1", "--format=%an%x00%ae%x00%aI", commit])).split("\0");
  return { GIT_AUTHOR_NAME: name ?? "", GIT_AUTHOR_EMAIL: email ?? "", GIT_AUTHOR_DATE: date ?? "" };
}

/**
 * The commit a branch points at, by its exact name: `main~0` or `HEAD@{1}`
 * are revisions, not branches, and would otherwise resolve (and then fail the
 * compare-and-swap on `refs/heads/main~0` as if the target had moved).
 */
export async function branchTip(repo: string, branch: string): Promise<string> {
  if (branch.startsWith("-") || !(await isValidBranchName(repo, branch))) {
    throw new TmuxClaudeError(
      GitErrorCodes.MERGE_INVALID,
      `"${branch}" is not a branch name (git check-ref-format --branch rejects it: revision syntax such as ~, ^, @{ or : is not a branch). Name the branch itself, e.g. "main".`,
      { repo, branch },
    );
  }
  const found = await resolveCommit(repo, `refs/heads/${branch}`);
  if (found) return found;
  const branches = (await gitValue(repo, ["for-each-ref", "--format=%(refname:short)", "--count=20", "refs/heads"])).split("\n").filter(Boolean);
  throw new TmuxClaudeError(
    GitErrorCodes.TARGET_MISSING,
    `Cannot merge into ${branch}: no branch ${branch} in ${repo}. Branches: ${branches.join(", ") || "(none)"}. Name an existing branch with --into (API: into).`,
    { repo, branch },
  );
}
