// One merge at a time per target branch, across processes: an exclusive lock
// file in the repository's common git dir (so every process and every state
// dir that merges into this repository sees it). A holder that died (kill -9)
// leaves its file behind; its pid no longer runs, so the next merger takes over.
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, link, unlink, watch } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { gitValue } from "../git/run.js";
import { GitErrorCodes } from "../errors.js";

/** `<common git dir>/tc-merge`: the merge lock and journal of every target of this repository. */
export async function mergeStateDir(repo: string, commonDir?: string): Promise<string> {
  const common = commonDir ?? (await commonDirOf(repo));
  const dir = join(common, "tc-merge");
  await mkdir(dir, { recursive: true });
  return dir;
}

export function commonDirOf(repo: string): Promise<string> {
  return gitValue(repo, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
}

/** A file-name-safe key for a branch (branch names may hold `/`). */
export function branchKey(branch: string): string {
  return `${branch.replace(/[^A-Za-z0-9._-]+/gu, "_").slice(0, 60)}-${createHash("sha256").update(branch).digest("hex").slice(0, 10)}`;
}

export interface TargetLock {
  release(): Promise<void>;
}

export async function lockTarget(dir: string, branch: string, timeoutMs: number): Promise<TargetLock> {
  const path = join(dir, `${branchKey(branch)}.lock`);
  const owner = `${process.pid} ${hostname()} ${randomUUID()}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Watch before trying, so a release between the try and the wait is not missed.
    const watcher = new AbortController();
    const released = waitForChange(dir, watcher.signal);
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(owner);
      await handle.close();
      watcher.abort();
      return { release: () => releaseIf(path, owner) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        watcher.abort();
        throw error;
      }
    }
    const holder = await readFile(path, "utf8").catch(() => "");
    if (holder && isDead(holder)) {
      watcher.abort();
      await takeOver(path, holder);
      continue;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      watcher.abort();
      throw new TmuxClaudeError(
        GitErrorCodes.MERGE_LOCKED,
        `The merge into ${branch} waited ${timeoutMs} ms for another merge (held by "${holder.split(" ").slice(0, 2).join(" on ")}", lock ${path}). Wait for it to finish, or raise merge.lockTimeoutMs.`,
        { branch, lock: path, holder },
      );
    }
    // A holder on another machine cannot be checked for life: re-check now and then, not only on change.
    await Promise.race([released, new Promise((resolve) => setTimeout(resolve, Math.min(left, 1000)))]);
    watcher.abort();
  }
}

async function waitForChange(dir: string, signal: AbortSignal): Promise<void> {
  try {
    for await (const _event of watch(dir, { signal })) return;
  } catch {
    // aborted
  }
}

/** A holder ("<pid> <host>") on this machine whose process is gone. */
export function isDead(holder: string): boolean {
  const [pid, host] = holder.split(" ");
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Move the dead holder's file aside and check it was the dead one: two
 * processes taking over at once must not remove a live lock one of them just made.
 */
async function takeOver(path: string, deadHolder: string): Promise<void> {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  if (moved !== deadHolder) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function releaseIf(path: string, owner: string): Promise<void> {
  const holder = await readFile(path, "utf8").catch(() => "");
  if (holder === owner) await unlink(path).catch(() => undefined);
}
