// Moving a target branch, and the worktree where it is checked out, from the
// old commit to the merged one. The ref moves by compare-and-swap
// (`update-ref <ref> <new> <old>`), so it is either unchanged or merged. The
// checked-out worktree cannot move in the same atomic step, so a journal
// written before the ref moves lets the next merge (or start) finish a
// worktree that a kill -9 left between the two.
import { readdir, readFile, rename, unlink, writeFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { gitValue, runGit } from "../git/run.js";
import { GitErrorCodes } from "../errors.js";
import { branchKey } from "./lock.js";
import { checkoutChanges, commonDirOf, worktreeOfBranch } from "../git/repo.js";

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
  /** The queue requests this move completes (a batch: every request merged in it). */
  readonly requestIds: readonly string[];
  /** Journals written before batches recorded their ids: the one request. */
  readonly requestId?: string;
  /**
   * The git the writer had started: "ref" (update-ref) or "checkout"
   * (read-tree, which holds the checkout's index.lock). Repair removes only
   * the git locks such a git could have left.
   */
  readonly step: "ref" | "checkout";
  readonly pid: number;
}

export interface MoveRequest {
  readonly repo: string;
  /** `<common dir>/tc-merge`. */
  readonly stateDir: string;
  readonly target: string;
  readonly from: string;
  readonly to: string;
  /** The queue requests this move completes. */
  readonly requestIds: readonly string[];
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
  const journal: Journal = { target, from, to, checkout, requestIds: request.requestIds, step: "ref", pid: process.pid };
  await writeAtomic(journalPath, JSON.stringify(journal));
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
    await writeAtomic(journalPath, JSON.stringify({ ...journal, step: "checkout" } satisfies Journal));
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
  /** The requests the interrupted move completes. */
  readonly requestIds: readonly string[];
  /** The interrupted move had moved the ref: the merge is complete. */
  readonly applied: boolean;
  readonly to: string;
}

/** Whether a merge into `target` was interrupted and not yet repaired. */
export async function hasJournal(stateDir: string, target: string): Promise<boolean> {
  return (await stat(journalOf(stateDir, target)).catch(() => undefined)) !== undefined;
}

/** The targets with a journal in `stateDir` (merges a kill interrupted, or running now). */
export async function interruptedTargets(stateDir: string): Promise<string[]> {
  const targets: string[] = [];
  for (const name of await readdir(stateDir).catch(() => [] as string[])) {
    if (!name.endsWith(".journal.json")) continue;
    const journal = await readFile(join(stateDir, name), "utf8").then((text) => JSON.parse(text) as Journal, () => undefined);
    if (journal) targets.push(journal.target);
  }
  return targets;
}

/**
 * Finish what a killed merge left: the ref is atomic (moved or not); the
 * checkout is brought to the ref's commit when it still shows the old one.
 * The caller holds the target's merge lock, so the journal's writer is gone.
 */
export async function repairTarget(repo: string, stateDir: string, target: string): Promise<Repaired | undefined> {
  const journalPath = journalOf(stateDir, target);
  const text = await readFile(journalPath, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const journal = JSON.parse(text) as Journal;
  await clearRefLock(repo, journal);
  const now = await gitValue(repo, ["rev-parse", "--verify", "--quiet", `refs/heads/${target}`]).catch(() => "");
  const applied = now === journal.to;
  if (applied && journal.checkout) await finishCheckout(repo, journal);
  await unlink(journalPath);
  return { requestIds: journal.requestIds ?? (journal.requestId ? [journal.requestId] : []), applied, to: journal.to };
}

async function finishCheckout(repo: string, journal: Journal): Promise<void> {
  const checkout = journal.checkout!;
  if (!(await stat(checkout).catch(() => undefined))) return;
  await clearIndexLock(checkout, journal);
  const indexTree = await gitValue(checkout, ["write-tree"]);
  const [fromTree, toTree] = await Promise.all([gitValue(repo, ["rev-parse", `${journal.from}^{tree}`]), gitValue(repo, ["rev-parse", `${journal.to}^{tree}`])]);
  const { changed, untracked } = await checkoutChanges(checkout);
  if (indexTree === toTree && changed.length === 0) return;
  // The index still at the old commit: read-tree never finished. Files it did write hold the merge's content;
  // anything else is someone's work (the user's, the manager's) and is never reset away.
  // Worktree against index, without rename pairing (which would hide a path).
  const unstaged = indexTree === fromTree ? (await gitValue(checkout, ["diff-files", "-z", "--name-only", "--no-renames"])).split("\0").filter(Boolean) : [];
  const foreign = indexTree === fromTree ? await notWrittenByMerge(checkout, journal, [...new Set([...unstaged, ...untracked])]) : changed;
  if (indexTree === fromTree && foreign.length === 0) {
    await runGit(checkout, ["read-tree", "--reset", "-u", journal.to]);
    return;
  }
  throw new TmuxClaudeError(
    GitErrorCodes.TARGET_DIRTY,
    `The merge into ${journal.target} was interrupted after the branch moved to ${journal.to.slice(0, 12)}, and its worktree ${checkout} has changes the merge did not make (${foreign.join(", ")}). Nothing was reset. Commit or stash them, then run \`git -C ${checkout} read-tree -m -u ${journal.from} ${journal.to}\`.`,
    { target: journal.target, checkout, stray: foreign },
  );
}

/**
 * The paths whose content in the checkout is neither the merge's (`to`) nor
 * the old commit's (`from`); a missing file counts as the version of a side
 * that has no such path. Untracked paths the merge does not add are not its concern.
 */
async function notWrittenByMerge(checkout: string, journal: Journal, paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const [fromBlobs, toBlobs] = await Promise.all([blobsAt(checkout, journal.from, paths), blobsAt(checkout, journal.to, paths)]);
  const present = [];
  for (const path of paths) if (await stat(join(checkout, path)).catch(() => undefined)) present.push(path);
  const hashes = present.length ? (await gitValue(checkout, ["hash-object", "--", ...present])).split("\n") : [];
  const actual = new Map(present.map((path, i) => [path, hashes[i]]));
  const foreign: string[] = [];
  for (const path of paths) {
    if (!fromBlobs.has(path) && !toBlobs.has(path) && actual.has(path)) continue; // untracked, not the merge's path
    const now = actual.get(path);
    if (now === toBlobs.get(path) || now === fromBlobs.get(path)) continue;
    // git replaces a file by removing it and writing the new one: killed in between, it is missing. Resetting brings
    // back the merge's version, and no byte of anyone's work is lost.
    if (now === undefined && toBlobs.has(path)) continue;
    if (await partOfMergeVersion(checkout, path, toBlobs.get(path))) continue;
    foreign.push(path);
  }
  return foreign;
}

/**
 * The file read-tree was writing when killed holds the start of the merge's
 * version: resetting it loses no byte that `to` does not have.
 */
async function partOfMergeVersion(checkout: string, path: string, blob: string | undefined): Promise<boolean> {
  if (!blob) return false;
  const written = await readFile(join(checkout, path)).catch(() => undefined);
  if (!written) return false;
  const full = Buffer.from((await runGit(checkout, ["cat-file", "blob", blob], { ok: [0, 128] })).stdout, "utf8");
  return written.length < full.length && full.subarray(0, written.length).equals(written);
}

/** path -> blob id in `commit`, for those of `paths` it has. */
async function blobsAt(checkout: string, commit: string, paths: readonly string[]): Promise<Map<string, string>> {
  const out = await gitValue(checkout, ["ls-tree", "-r", "-z", "--full-tree", commit, "--", ...paths]);
  const blobs = new Map<string, string>();
  for (const entry of out.split("\0").filter(Boolean)) {
    const tab = entry.indexOf("\t");
    blobs.set(entry.slice(tab + 1), entry.slice(0, tab).split(" ")[2]!);
  }
  return blobs;
}

/** A live git holds its lock file for moments; one still there after this was left by a killed git. */
const LIVE_LOCK_WAIT_MS = 1500;

/**
 * The checkout's index.lock, removed only when the journal says our killed
 * writer had started read-tree (which holds it) and it outlives the wait a
 * live git would need; otherwise it is someone else's: refuse, naming it.
 */
async function clearIndexLock(checkout: string, journal: Journal): Promise<void> {
  const gitDir = await gitValue(checkout, ["rev-parse", "--path-format=absolute", "--git-dir"]);
  const lock = join(gitDir, "index.lock");
  if (!(await outlives(lock))) return;
  if (journal.step !== "checkout") throw lockHeld(journal, lock, "the interrupted merge had not started updating that worktree");
  await unlink(lock).catch(() => undefined);
}

/**
 * `refs/heads/<target>.lock` holds the id the locking git was writing: ours
 * (a killed update-ref) holds the journal's `to`. packed-refs.lock is never
 * ours (updating a branch does not take it) and is left alone.
 */
async function clearRefLock(repo: string, journal: Journal): Promise<void> {
  const common = await commonDirOf(repo);
  const lock = join(common, "refs", "heads", `${journal.target}.lock`);
  const content = await readFile(lock, "utf8").catch(() => undefined);
  if (content === undefined) return;
  if (content.trim() === journal.to) {
    await unlink(lock).catch(() => undefined);
    return;
  }
  // Empty: a git killed between creating the lock and writing the id into it. While the journal's step is "ref" that was
  // ours (a live git writes its id at once, so one still empty after the wait has no writer).
  if (content === "" && journal.step === "ref" && (await outlives(lock)) && (await readFile(lock, "utf8").catch(() => undefined)) === "") {
    await unlink(lock).catch(() => undefined);
    return;
  }
  if (await outlives(lock)) throw lockHeld(journal, lock, `it does not hold the merge's commit ${journal.to.slice(0, 12)}, so another git made it`);
}

/** Whether `path` still exists after the time a live git would need to finish. */
async function outlives(path: string): Promise<boolean> {
  const deadline = Date.now() + LIVE_LOCK_WAIT_MS;
  while (await stat(path).catch(() => undefined)) {
    if (Date.now() >= deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function lockHeld(journal: Journal, lock: string, why: string): TmuxClaudeError {
  return new TmuxClaudeError(
    GitErrorCodes.GIT_LOCK_HELD,
    `Finishing the interrupted merge into ${journal.target} needs ${lock} gone, and it is not this plugin's to remove (${why}). If no git is running in that repository, delete it yourself; then merge again.`,
    { target: journal.target, lock },
  );
}

function journalOf(stateDir: string, target: string): string {
  return join(stateDir, `${branchKey(target)}.journal.json`);
}

export async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
