import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { nodeOf, type InstanceStatus, type KernelApi } from "@tmux-claude/core";
import type { GitInstanceState } from "../types.js";
import { commonDirOf, listWorktrees } from "../git/repo.js";

/**
 * A worktree this plugin made, as GC sees it. Only these are ever touched:
 * the ones recorded in an instance's git state (live, or kept at terminate)
 * and the ones found under the plugin's worktree directory.
 */
export interface GcCandidate {
  /** The instance id (for an orphan: the worktree directory's name). */
  readonly id: string;
  /** Where GC learned of it: a stored instance, the list kept at terminate, or a directory nobody records. */
  readonly origin: "instance" | "kept" | "orphan";
  /** The instance's status; `gone` when its record no longer exists. */
  readonly status: InstanceStatus | "gone";
  readonly gitDir: string;
  readonly worktree: string;
  /** The branch the plugin made for it (null for an orphan: whatever is checked out is kept). */
  readonly branch: string | null;
  readonly base: string | null;
  readonly createdAt: string | null;
}

/** What terminate kept, so `git gc` still knows its branch and base once the record is gone. */
export interface KeptEntry {
  readonly id: string;
  readonly state: GitInstanceState;
  readonly keptAt: string;
  readonly reason: string;
}

export class KeptLedger {
  constructor(private readonly dir: string) {}

  static in(stateDir: string): KeptLedger {
    return new KeptLedger(path.join(stateDir, "git", "kept"));
  }

  private file(id: string): string {
    return path.join(this.dir, `${encodeURIComponent(id)}.json`);
  }

  async add(entry: KeptEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.file(entry.id), `${JSON.stringify(entry, null, 2)}\n`);
  }

  async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }

  async list(): Promise<KeptEntry[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const entries = await Promise.all(
      names.filter((n) => n.endsWith(".json")).map(async (n) => JSON.parse(await readFile(path.join(this.dir, n), "utf8")) as KeptEntry),
    );
    return entries.sort((a, b) => a.id.localeCompare(b.id));
  }
}

/** The git state of an instance that has a worktree of its own (not a shared checkout). */
export function ownWorktree(state: GitInstanceState | undefined): state is GitInstanceState {
  return state !== undefined && state.isolation === "worktree" && path.resolve(state.worktree) !== path.resolve(state.repo);
}

/**
 * Every worktree of this plugin: stored instances with one, the ones kept at
 * terminate, and directories under `worktreeRoot` that are git worktrees no
 * record names (their instance is gone, or a crash lost its record).
 */
export async function findCandidates(kernel: KernelApi, ledger: KeptLedger, worktreeRoot: string, branchPrefix: string): Promise<GcCandidate[]> {
  const candidates: GcCandidate[] = [];
  const seen = new Set<string>();
  const add = (candidate: GcCandidate) => {
    const key = path.resolve(candidate.worktree);
    if (seen.has(key)) return;
    seen.add(key);
    candidates.push(candidate);
  };
  const live = new Set<string>();
  for (const record of await kernel.list()) {
    live.add(record.id);
    const state = record.pluginState?.git as GitInstanceState | undefined;
    // Another node's worktree is on its machine: that node's GC judges it.
    if (!ownWorktree(state) || nodeOf(record) !== kernel.node) continue;
    add(fromState(record.id, "instance", record.status, state, await gitDirOf(state)));
  }
  for (const entry of await ledger.list()) {
    // An id reused by a new instance: the record's own state wins (added above).
    if (live.has(entry.id) && seen.has(path.resolve(entry.state.worktree))) continue;
    add(fromState(entry.id, "kept", "gone", entry.state, await gitDirOf(entry.state)));
  }
  for (const worktree of await worktreesUnder(worktreeRoot)) {
    if (seen.has(path.resolve(worktree))) continue;
    const gitDir = await commonDirOf(worktree).catch(() => undefined);
    if (!gitDir || !(await madeByPlugin(gitDir, worktree, branchPrefix))) continue;
    add({ id: path.basename(worktree), origin: "orphan", status: "gone", gitDir, worktree, branch: null, base: null, createdAt: null });
  }
  return candidates;
}

/** A repository moved or deleted since still has a name: its `.git`, where every command then fails with git's reason. */
export function gitDirOf(state: GitInstanceState): Promise<string> {
  return commonDirOf(state.repo).catch(() => path.join(state.repo, ".git"));
}

function fromState(id: string, origin: GcCandidate["origin"], status: GcCandidate["status"], state: GitInstanceState, gitDir: string): GcCandidate {
  return { id, origin, status, gitDir, worktree: state.worktree, branch: state.branch, base: state.base, createdAt: state.createdAt };
}

/**
 * An unrecorded worktree counts as the plugin's only when it is laid out as
 * isolation makes them: `<dir>/<id>` on the branch `<branchPrefix><id>`. A
 * worktree of the user's that a `worktreeDir` setting happens to cover is
 * never a candidate.
 */
async function madeByPlugin(gitDir: string, worktree: string, branchPrefix: string): Promise<boolean> {
  const entry = (await listWorktrees(gitDir).catch(() => [])).find((e) => path.resolve(e.path) === path.resolve(worktree));
  return entry?.branch === `${branchPrefix}${path.basename(worktree)}`;
}

/** Linked worktrees (a `.git` file, not a directory) up to three levels below the root, whatever layout isolation uses. */
async function worktreesUnder(root: string, depth = 3): Promise<string[]> {
  if (!existsSync(root)) return [];
  const found: string[] = [];
  const walk = async (dir: string, level: number): Promise<void> => {
    const gitFile = await stat(path.join(dir, ".git")).catch(() => undefined);
    if (gitFile?.isFile()) {
      found.push(dir);
      return;
    }
    if (level >= depth) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory() && !entry.isSymbolicLink()) await walk(path.join(dir, entry.name), level + 1);
  };
  await walk(root, 0);
  return found.sort();
}
