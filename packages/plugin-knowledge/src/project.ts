/**
 * One project space per hierarchy: claims are compared as absolute paths of
 * the files they mean, not relative to each claimant's workdir, so siblings in
 * different directories of one tree meet (A in /w claims pkg/x.ts, B in /w/pkg
 * claims x.ts: the same file) and different files with one relative name do
 * not (frontend/README.md, backend/README.md).
 *
 * An instance a plugin moved elsewhere (plugin-git's worktree) edits the copy
 * of the files of the directory it was spawned for: the kernel records that
 * directory as `workDirOrigin`, so its workdir maps onto it, and so does the
 * workdir of anything spawned inside it (its descendants). Nothing here knows
 * why a workdir was moved.
 */
import path from "node:path";
import type { InstanceRecord, KernelApi } from "@tmux-claude/core";
import { recordOrGone } from "./hierarchy.js";
import { realWorkDir, WHOLE } from "./paths.js";

/** Where `record`'s workdir is in project space: its real path, mapped through its own and its ancestors' moves. */
export async function projectDir(kernel: KernelApi, record: InstanceRecord): Promise<string> {
  let dir = await realWorkDir(record.workDir);
  let current: InstanceRecord | undefined = record;
  // The depth limit bounds the walk; the guard stops a corrupt cycle.
  for (let steps = 0; current && steps <= kernel.config.limits.maxDepth + 1; steps++) {
    if (current.workDirOrigin !== undefined) {
      const moved = await realWorkDir(current.workDir);
      const offset = path.relative(moved, dir);
      if (!offset.startsWith("..") && !path.isAbsolute(offset)) dir = path.join(await realWorkDir(current.workDirOrigin), offset);
    }
    current = current.parentId === null ? undefined : await recordOrGone(kernel, current.parentId);
  }
  return dir;
}

/** A project path (relative to `base`, see paths.ts) as an absolute path in project space. */
export function inProject(base: string, projectPath: string): string {
  return projectPath === WHOLE ? base : path.posix.join(base, projectPath);
}

/** An absolute project-space path as an instance whose workdir is at `base` sees it: relative when inside, else absolute. */
export function seenFrom(base: string, absolute: string): string {
  const relative = path.posix.relative(base, absolute);
  if (relative === "") return WHOLE;
  return relative.startsWith("..") ? absolute : relative;
}
