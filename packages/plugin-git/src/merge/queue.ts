// The merge queue: per target branch, requests are served in order (higher
// priority first, then first come, first served), one merge at a time.
//
// Persistence is a small file store, `<queue dir>/<repo+target key>/`, one
// JSON file per request and per result, each written by atomic rename. Not
// ctx.state: a queue belongs to a branch of a repository on this machine's
// disk, not to an instance, and reading it must not scan every instance;
// the merge lock and journal sit next to the repository for the same reason.
// A request survives its requester: whoever takes the target's lock next
// serves every request ahead of its own, so a restarted kernel (or the next
// CLI merge) continues where a killed one stopped.
import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { mergeBatch, mergeOne, type EngineEnv, type MergeOutcome, type MergeRequest } from "./engine.js";
import { commonDirOf } from "../git/repo.js";
import { branchKey, lockTarget, mergeStateDir } from "./lock.js";
import { hasJournal, interruptedTargets, repairTarget, writeAtomic } from "./target.js";
import { sweepStaleScratch } from "../resolve/scratch.js";

export interface QueueOptions {
  /** `<stateDir>/git/queue`. */
  readonly dir: string;
  readonly scratchRoot: string;
  readonly lockTimeoutMs: number;
  readonly resolve?: EngineEnv["resolve"];
  /** Told each outcome once, by the process that records it (whoever drains the queue). */
  readonly recorded?: (outcome: MergeOutcome) => void;
}

export type NewRequest = Omit<MergeRequest, "id" | "requestedAt">;

export interface QueuedEntry extends MergeRequest {
  /** Its result is recorded but the request file is still there (a kill came between); the next drain drops it. */
  readonly done: boolean;
}

export class MergeQueue {
  private readonly commonDirs = new Map<string, Promise<string>>();

  constructor(private readonly options: QueueOptions) {}

  /** Queue a request and wait for its outcome (serving every request ahead of it). */
  async run(request: NewRequest): Promise<MergeOutcome> {
    const queued = await this.submit(request);
    const outcome = await this.drain(queued.repo, queued.target, queued.id);
    return outcome!;
  }

  async submit(request: NewRequest): Promise<MergeRequest> {
    // The repository's common dir names the queue, so every worktree of one repository shares it.
    const now = new Date();
    const queued: MergeRequest = { ...request, id: requestId(now.getTime()), requestedAt: now.toISOString() };
    const dir = await this.targetDir(await this.commonDir(request.repo), request.target);
    await writeAtomic(join(dir, "requests", `${queued.id}.json`), JSON.stringify(queued));
    return queued;
  }

  /**
   * Serve the target's queue under its lock: finish a merge a kill
   * interrupted, then merge requests in order until `until` has its outcome
   * (or the queue is empty). Returns (and collects) `until`'s outcome.
   */
  async drain(repo: string, target: string, until?: string): Promise<MergeOutcome | undefined> {
    const commonDir = await this.commonDir(repo);
    const stateDir = await mergeStateDir(repo, commonDir);
    const dir = await this.targetDir(commonDir, target);
    const lock = await lockTarget(stateDir, target, this.options.lockTimeoutMs);
    try {
      await this.repairLocked(repo, stateDir, dir, target);
      await sweepStaleScratch(this.options.scratchRoot);
      await dropUncollected(join(dir, "results"));
      const env: EngineEnv = { scratchRoot: this.options.scratchRoot, stateDir, ...(this.options.resolve ? { resolve: this.options.resolve } : {}) };
      for (;;) {
        if (until && (await readJson<MergeOutcome>(join(dir, "results", `${until}.json`)))) break;
        const entries = await this.entries(dir);
        for (const entry of entries.filter((e) => e.done)) await unlink(join(dir, "requests", `${entry.id}.json`)).catch(() => undefined);
        const waiting = entries.filter((entry) => !entry.done);
        const head = waiting[0];
        if (!head) break;
        // A batch is verified once, so it only holds requests that ask for the same verify (none, or the same argv) and strategy.
        const group = head.batch ? waiting.filter((entry) => entry.batch && batchesWith(head, entry)) : [head];
        const outcomes = head.batch ? await mergeBatch(group, env) : [await mergeOne(head, env)];
        for (const outcome of outcomes) await this.record(dir, outcome);
      }
    } finally {
      await lock.release();
    }
    if (!until) return undefined;
    const resultPath = join(dir, "results", `${until}.json`);
    const outcome = await readJson<MergeOutcome>(resultPath);
    await unlink(resultPath).catch(() => undefined);
    return outcome;
  }

  /**
   * Finish a merge into `target` that a kill interrupted, under the target's
   * lock, and record the requests it completed. Done eagerly (at start, and
   * before an auto-commit on that branch): until then the target's worktree
   * has its branch at the merge but its index at the old commit, and a commit
   * there would undo the merge. False when there was nothing to finish.
   */
  async repair(repo: string, target: string, lockTimeoutMs = this.options.lockTimeoutMs): Promise<boolean> {
    const commonDir = await this.commonDir(repo);
    const stateDir = await mergeStateDir(repo, commonDir);
    if (!(await hasJournal(stateDir, target))) return false;
    const dir = await this.targetDir(commonDir, target);
    const lock = await lockTarget(stateDir, target, lockTimeoutMs);
    try {
      await this.repairLocked(repo, stateDir, dir, target);
    } finally {
      await lock.release();
    }
    return true;
  }

  /** Repair every target of `repo` that has an interrupted merge; returns those targets. */
  async repairAll(repo: string, lockTimeoutMs = this.options.lockTimeoutMs): Promise<string[]> {
    const stateDir = await mergeStateDir(repo, await this.commonDir(repo));
    const targets = await interruptedTargets(stateDir);
    for (const target of targets) await this.repair(repo, target, lockTimeoutMs);
    return targets;
  }

  private async repairLocked(repo: string, stateDir: string, dir: string, target: string): Promise<void> {
    const repaired = await repairTarget(repo, stateDir, target);
    if (repaired?.applied) for (const id of repaired.requestIds) await this.recordRepaired(dir, id, repaired.to);
  }

  /** Every queued request of every target, in serving order per target. */
  async list(): Promise<QueuedEntry[]> {
    const targets = await readdir(this.options.dir).catch(() => [] as string[]);
    const all: QueuedEntry[] = [];
    for (const target of targets) all.push(...(await this.entries(join(this.options.dir, target))));
    return all;
  }

  private async entries(dir: string): Promise<QueuedEntry[]> {
    const names = (await readdir(join(dir, "requests")).catch(() => [] as string[])).filter((name) => name.endsWith(".json"));
    const done = new Set(await readdir(join(dir, "results")).catch(() => [] as string[]));
    const requests: QueuedEntry[] = [];
    for (const name of names) {
      const request = await readJson<MergeRequest>(join(dir, "requests", name));
      if (request) requests.push({ ...request, done: done.has(name) });
    }
    return requests.sort((a, b) => b.priority - a.priority || a.requestedAt.localeCompare(b.requestedAt) || a.id.localeCompare(b.id));
  }

  /** The result first, then the request goes: a kill between the two leaves a request that is already done. */
  private async record(dir: string, outcome: MergeOutcome): Promise<void> {
    await writeAtomic(join(dir, "results", `${outcome.requestId}.json`), JSON.stringify(outcome));
    await unlink(join(dir, "requests", `${outcome.requestId}.json`)).catch(() => undefined);
    this.options.recorded?.(outcome);
  }

  /** A merge whose target moved before its process died is complete: record it instead of merging it again. */
  private async recordRepaired(dir: string, requestId: string, commit: string): Promise<void> {
    const request = await readJson<MergeRequest>(join(dir, "requests", `${requestId}.json`));
    if (!request) return;
    await this.record(dir, {
      requestId,
      instanceId: request.instanceId,
      source: request.source,
      target: request.target,
      strategy: request.strategy,
      status: "merged",
      commit,
      reason: "completed after an interrupted merge (the branch had moved; its worktree was brought along)",
    });
  }

  /** The repository's common git dir, asked of git once per repository: it names the queue and holds the lock. */
  private commonDir(repo: string): Promise<string> {
    let known = this.commonDirs.get(repo);
    if (!known) {
      known = commonDirOf(repo);
      known.catch(() => this.commonDirs.delete(repo));
      this.commonDirs.set(repo, known);
    }
    return known;
  }

  private async targetDir(commonDir: string, target: string): Promise<string> {
    const key = `${branchKey(target)}-${createHash("sha256").update(commonDir).digest("hex").slice(0, 8)}`;
    const dir = join(this.options.dir, key);
    await mkdir(join(dir, "requests"), { recursive: true });
    await mkdir(join(dir, "results"), { recursive: true });
    return dir;
  }
}

/** A day is long enough for any requester to collect its result; one that died never will. */
const RESULT_KEEP_MS = 24 * 60 * 60 * 1000;

async function dropUncollected(resultsDir: string): Promise<void> {
  for (const name of await readdir(resultsDir).catch(() => [] as string[])) {
    const path = join(resultsDir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > RESULT_KEEP_MS) await unlink(path).catch(() => undefined);
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

let lastMs = 0;
let sameMs = 0;

/**
 * Ids sort in submission order: the time, then a counter for requests this
 * process submits within one millisecond (requests of two processes in the
 * same millisecond came at once; either order is first come, first served),
 * then a random part so two processes never collide.
 */
function requestId(ms: number): string {
  sameMs = ms === lastMs ? sameMs + 1 : 0;
  lastMs = ms;
  return `${ms.toString(36).padStart(9, "0")}-${sameMs.toString(36).padStart(4, "0")}-${randomUUID().slice(0, 8)}`;
}

/** Whether `entry` may share `head`'s batch: one verify run and one way of merging must stand for both. */
function batchesWith(head: MergeRequest, entry: MergeRequest): boolean {
  return head.strategy === entry.strategy && JSON.stringify(head.verify ?? null) === JSON.stringify(entry.verify ?? null);
}
