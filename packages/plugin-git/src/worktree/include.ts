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
 * what they mean in a .gitignore. A symlink is copied as a link only when
 * it points inside the source checkout; it is never followed.
 * Returns the copied paths, relative to the checkout.
 */
export async function copyIncluded(source: string, target: string, patterns: readonly string[], logger: Logger): Promise<string[]> {
  const includeFile = path.join(source, WORKTREE_INCLUDE_FILE);
  const hasIncludeFile = await lstat(includeFile).then((s) => s.isFile(), () => false);
  if (patterns.length === 0 && !hasIncludeFile) return [];
  const args = ["ls-files", "-z", "--others", "--ignored", ...patterns.flatMap((p) => ["--exclude", p])];
  if (hasIncludeFile) args.push("--exclude-from", includeFile);
  const listed = (await runGit(source, args)).stdout.split("\0").filter(Boolean);
  const sourceReal = await realpath(source);
  const copied: string[] = [];
  for (const relative of listed) {
    const from = path.join(source, relative);
    const to = path.join(target, relative);
    const stats = await lstat(from).catch(() => undefined);
    if (!stats) continue;
    if (stats.isSymbolicLink()) {
      const resolved = await realpath(from).catch(() => undefined);
      if (!resolved || !isInside(sourceReal, resolved)) {
        logger.warn({ path: relative }, "not copying an included symlink that leads out of the repository");
        continue;
      }
      await mkdir(path.dirname(to), { recursive: true });
      await symlink(await readlink(from), to);
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

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}
