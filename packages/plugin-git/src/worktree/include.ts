// Files git does not track but agents need (`.env`, local config): copied from
// the checkout an instance was spawned in into its new worktree, per the
// plugin's `include` patterns and the repository's `.worktreeinclude`
// (Claude Code's convention, gitignore syntax).
import { copyFile, lstat, mkdir, readlink, realpath, symlink } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { runGit } from "../git/run.js";

export const WORKTREE_INCLUDE_FILE = ".worktreeinclude";

/**
 * Copy the untracked files of `source` (a checkout's top level) that match
 * the patterns into `target` (the new worktree). Tracked files are already
 * in the worktree; git decides what matches (`ls-files --others` with the
 * patterns as its only excludes), so negations and directory patterns mean
 * what they mean in a .gitignore. Only files the repository also ignores
 * are copied (as Claude Code's .worktreeinclude does): a copy git does not
 * ignore would be the instance's change, auto-committed and merged into the
 * parent's branch (a secret with it), and would keep the worktree from ever
 * being clean enough to collect. A symlink is copied as a link only when it
 * points inside the source checkout, rewritten relative so it points into
 * the worktree, never back into the user's checkout; it is never followed.
 * Returns the copied paths, relative to the checkout.
 */
export async function copyIncluded(source: string, target: string, patterns: readonly string[], logger: Logger): Promise<string[]> {
  const includeFile = path.join(source, WORKTREE_INCLUDE_FILE);
  const hasIncludeFile = await lstat(includeFile).then((s) => s.isFile(), () => false);
  if (patterns.length === 0 && !hasIncludeFile) return [];
  const args = ["ls-files", "-z", "--others", "--ignored", ...patterns.flatMap((p) => ["--exclude", p])];
  if (hasIncludeFile) args.push("--exclude-from", includeFile);
  const matched = (await runGit(source, args)).stdout.split("\0").filter(Boolean);
  const listed = await ignoredByRepository(source, matched);
  if (listed.length < matched.length) {
    const notIgnored = matched.filter((p) => !listed.includes(p));
    logger.warn({ paths: notIgnored.slice(0, 20), count: notIgnored.length }, "not copying included files the repository does not ignore (they would be committed from the worktree); add them to .gitignore to have them copied");
  }
  const sourceReal = await realpath(source);
  const copied: string[] = [];
  for (const relative of listed) {
    const from = path.join(source, relative);
    const to = path.join(target, relative);
    const stats = await lstat(from).catch(() => undefined);
    if (!stats) continue;
    if (stats.isSymbolicLink()) {
      const link = await linkInsideWorktree(source, sourceReal, from, to, target);
      if (link === undefined) {
        logger.warn({ path: relative }, "not copying an included symlink that leads out of the repository");
        continue;
      }
      await mkdir(path.dirname(to), { recursive: true });
      await symlink(link, to);
    } else if (stats.isFile()) {
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(from, to);
    } else {
      continue;
    }
    copied.push(relative);
  }
  return copied;
}

/** The paths among `paths` the repository's own excludes ignore (.gitignore, info/exclude, core.excludesFile). */
async function ignoredByRepository(source: string, paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  // Exit 1 is the answer "none of them".
  const out = await runGit(source, ["check-ignore", "-z", "--stdin"], { ok: [0, 1], input: paths.join("\0") + "\0" });
  const ignored = new Set(out.stdout.split("\0").filter(Boolean));
  return paths.filter((p) => ignored.has(p));
}

/**
 * What the copy of the symlink `from` should hold: a relative link to the
 * same place inside the worktree, or undefined when the link (as written,
 * or where its chain ends) leads out of the checkout.
 */
async function linkInsideWorktree(source: string, sourceReal: string, from: string, to: string, target: string): Promise<string | undefined> {
  const resolved = await realpath(from).catch(() => undefined);
  if (!resolved || !isInside(sourceReal, resolved)) return undefined;
  const written = path.resolve(path.dirname(from), await readlink(from));
  const inside = [source, sourceReal].find((root) => isInside(root, written));
  if (inside === undefined) return undefined;
  return path.relative(path.dirname(to), path.join(target, path.relative(inside, written))) || ".";
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}
