// Moving a target branch, and the worktree where it is checked out, from the
// old commit to the merged one. The ref moves by compare-and-swap
// (`update-ref <ref> <new> <old>`), so it is either unchanged or merged. The
// checked-out worktree cannot move in the same atomic step, so a journal
// written before the ref moves lets the next merge (or start) finish a
// worktree that a kill -9 left between the two.
import { readFile, rename, unlink, writeFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { gitValue, runGit } from "../git/run.js";
import { GitErrorCodes } from "../errors.js";
import { branchKey } from "./lock.js";
import { checkoutChanges, worktreeOfBranch } from "../git/repo.js";

/** Untracked files at paths the merge would create (git refuses to overwrite them). */
async function untrackedInTheWay(worktree: string, untracked: readonly string[], from: string, to: string): Promise<string[]> {
  if (untracked.length === 0) return [];
  const added = new Set((await gitValue(worktree, ["diff-tree", "-r", "-z", "--name-only", "--diff-filter=A", from, to])).split("\0").filter(Boolean));
  return untracked.filter((path) => added.has(path));
}

export interface Journal {
  readonly target: string;
  readonly from: string;
  readonly to: string;
  readonly checkout: string | null;
  /** The queue request this move completes. */
  readonly requestId: string;
  readonly pid: number;
}

export interface MoveRequest {
  readonly repo: string;
  /** `<common dir>/tc-merge`. */
  readonly stateDir: string;
  readonly target: string;
  readonly from: string;
  readonly to: string;
  readonly requestId: string;
  readonly reason: string;
}

/** Why a target cannot be moved now: its worktree has work the merge would overwrite. */
export async function refusal(repo: string, target: string, from: string, to: string): Promise<TmuxClaudeError | undefined> {
  return (await inspectTarget(repo, target, from, to)).refused;
}

/** Where the target is checked out (null: nowhere), and why it may not move, if so. */
async function inspectTarget(repo: string, target: string, from: string, to: string): Promise<{ checkout: string | null; refused?: TmuxClaudeError }> {
  const checkout = (await worktreeOfBranch(repo, target))?.path ?? null;
  if (!checkout) return { checkout };
  const { changed: dirty, untracked } = await checkoutChanges(checkout);
  const inTheWay = dirty.length ? [] : await untrackedInTheWay(checkout, untracked, from, to);
  if (!dirty.length && !inTheWay.length) return { checkout };
  const what = dirty.length ? `uncommitted changes in ${dirty.join(", ")}` : `untracked files where the merge adds files: ${inTheWay.join(", ")}`;
  const refused = new TmuxClaudeError(
    GitErrorCodes.TARGET_DIRTY,
    `Not merging into ${target}: it is checked out in ${checkout}, which has ${what}. Moving the branch would leave that worktree half-merged. Commit or stash them there (or wait for the instance working there to commit), then merge again.`,
    { target, checkout, dirty, untracked: inTheWay },
  );
  return { checkout, refused };
}

/**
 * Move `target` from `from` to `to` and bring its checkout along. Throws
 * TARGET_DIRTY (nothing moved) or TARGET_MOVED (someone else moved it first).
 */
export async function moveTarget(request: MoveRequest): Promise<void> {
  const { repo, target, from, to } = request;
  const { checkout, refused } = await inspectTarget(repo, target, from, to);
  if (refused) throw refused;
  const journalPath = journalOf(request.stateDir, target);
  await writeAtomic(journalPath, JSON.stringify({ target, from, to, checkout, requestId: request.requestId, pid: process.pid } satisfies Journal));
  const swapped = await runGit(repo, ["update-ref", "-m", request.reason, `refs/heads/${target}`, to, from], { ok: [0, 1, 128] });
  if (swapped.code !== 0) {
    await unlink(journalPath).catch(() => undefined);
    const now = await gitValue(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${target}`]).catch(() => "(missing)");
    throw new TmuxClaudeError(
      GitErrorCodes.TARGET_MOVED,
      `Not merging into ${target}: it moved to ${now.slice(0, 12)} while the merge was built on ${from.slice(0, 12)} (${swapped.stderr.trim()}). Merge again; the queue rebuilds it on the new commit.`,
      { target, expected: from, actual: now },
    );
  }
  if (checkout) {
    const updated = await runGit(checkout, ["read-tree", "-m", "-u", from, to], { ok: [0, 128] });
    if (updated.code !== 0) {
      // Someone changed the worktree after the check: put the branch back, the worktree was not touched.
      await runGit(repo, ["update-ref", "-m", "tmux-claude merge: undo, the worktree changed", `refs/heads/${target}`, from, to]);
      await unlink(journalPath).catch(() => undefined);
      throw new TmuxClaudeError(
        GitErrorCodes.TARGET_DIRTY,
        `Not merging into ${target}: its worktree ${checkout} changed while merging (${updated.stderr.trim()}). The branch was put back to ${from.slice(0, 12)}. Commit or stash the changes there, then merge again.`,
        { target, checkout },
      );
    }
  }
  await unlink(journalPath);
}

export interface Repaired {
  readonly requestId: string;
  /** The interrupted move had moved the ref: the merge is complete. */
  readonly applied: boolean;
  readonly to: string;
}

/**
 * Finish what a killed merge left: the ref is atomic (moved or not); the
 * checkout is brought to the ref's commit when it still shows the old one.
 */
export async function repairTarget(repo: string, stateDir: string, target: string): Promise<Repaired | undefined> {
  const journalPath = journalOf(stateDir, target);
  const text = await readFile(journalPath, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const journal = JSON.parse(text) as Journal;
  await removeStaleRefLocks(repo, target);
  const now = await gitValue(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${target}`]).catch(() => "");
  const applied = now === journal.to;
  if (applied && journal.checkout) await finishCheckout(repo, journal);
  await unlink(journalPath);
  return { requestId: journal.requestId, applied, to: journal.to };
}

async function finishCheckout(repo: string, journal: Journal): Promise<void> {
  const checkout = journal.checkout!;
  if (!(await stat(checkout).catch(() => undefined))) return;
  await removeStaleIndexLock(checkout);
  const indexTree = await gitValue(checkout, ["write-tree"]);
  const [fromTree, toTree] = await Promise.all([gitValue(repo, ["rev-parse", `${journal.from}^{tree}`]), gitValue(repo, ["rev-parse", `${journal.to}^{tree}`])]);
  const { changed: dirty } = await checkoutChanges(checkout);
  if (indexTree === toTree && dirty.length === 0) return;
  if (indexTree === fromTree && dirty.length === 0) {
    await runGit(checkout, ["read-tree", "-m", "-u", journal.from, journal.to]);
    return;
  }
  // Killed inside read-tree: some files written, index not. Reset only when every difference is one the merge makes.
  const changedByMerge = new Set((await gitValue(repo, ["diff-tree", "-r", "-z", "--name-only", journal.from, journal.to])).split("\0").filter(Boolean));
  const stray = dirty.filter((path) => !changedByMerge.has(path));
  if (indexTree === fromTree && stray.length === 0) {
    await runGit(checkout, ["read-tree", "--reset", "-u", journal.to]);
    return;
  }
  throw new TmuxClaudeError(
    GitErrorCodes.TARGET_DIRTY,
    `The merge into ${journal.target} was interrupted after the branch moved to ${journal.to.slice(0, 12)}, and its worktree ${checkout} has changes the merge did not make (${stray.join(", ")}). Nothing was reset. Commit or stash them, then run \`git -C ${checkout} read-tree -m -u ${journal.from} ${journal.to}\`.`,
    { target: journal.target, checkout, stray },
  );
}

/** An `index.lock` that a killed git left (the journal says a merge of ours was moving this worktree). */
async function removeStaleIndexLock(checkout: string): Promise<void> {
  const gitDir = await gitValue(checkout, ["rev-parse", "--path-format=absolute", "--git-dir"]);
  await unlink(join(gitDir, "index.lock")).catch(() => undefined);
}

/**
 * Lock files a git killed inside `update-ref` left: with a journal present
 * they can only be ours (the caller holds the target's merge lock), and
 * until they go every later update of the branch fails.
 */
async function removeStaleRefLocks(repo: string, target: string): Promise<void> {
  const common = await gitValue(repo, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  await unlink(join(common, "refs", "heads", `${target}.lock`)).catch(() => undefined);
  await unlink(join(common, "packed-refs.lock")).catch(() => undefined);
}

function journalOf(stateDir: string, target: string): string {
  return join(stateDir, `${branchKey(target)}.journal.json`);
}

export async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
