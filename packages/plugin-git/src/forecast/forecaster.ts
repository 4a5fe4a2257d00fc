// Conflict forecasting: whenever an instance's branch moves (its turn ended,
// auto-commit committed, or a commit landed on the branch: a ref watch, never
// polling), debounced, ask `git merge-tree` whether the branch still merges
// cleanly into its target and into each sibling's branch, and whether its
// children still merge into it. When a pair starts to conflict (or conflicts
// in other files than before), tell the parent with a queued message and
// fire `conflictForecast` for other plugins and a `conflict` notice for notifiers.
//
// The last forecast is kept on each instance (ctx.state): `git_status` shows
// it, and a pair is announced only by the write that changed it. That write
// is atomic across processes, so a CLI process and `serve` computing the same
// pair announce it once, and a restarted kernel stays quiet about a conflict
// it already told.
import { randomUUID } from "node:crypto";
import { AsyncParallelHook } from "tapable";
import { compareIds, type InstanceRecord } from "@tmux-claude/core";
import type { GitRuntime } from "../runtime.js";
import type { ConflictFile, ForecastFile, ForecastPair, GitInstanceState, InstanceForecast } from "../types.js";
import { activeBranches, forecastFiles, pairConflicts, relatedPairs, resolveCommits, sameConflicts, siblingsMessage, targetMessage, type ActiveBranch } from "./pairs.js";
import { RefWatch } from "./ref-watch.js";
import { forecastNotice } from "../surfaces/notices.js";

/** One side of a forecast pair. `id` is null for a target branch no instance owns (a top-level instance's base). */
export interface ForecastSide {
  readonly id: string | null;
  readonly branch: string;
  readonly commit: string;
}

/** Fired (api.hooks.conflictForecast) when a pair of branches starts to conflict, or conflicts in other files than before. */
export interface ConflictForecastEvent {
  /** Unique per event: a plugin that forwards events can drop repeats by it. */
  readonly eventId: string;
  readonly at: string;
  /** "siblings": two children of one parent; "target": a branch against the branch it merges into. */
  readonly between: "siblings" | "target";
  /** The parent told (null: top-level instances, nobody to tell). */
  readonly parentId: string | null;
  readonly instance: ForecastSide & { readonly id: string };
  /** The sibling, or the target branch (its owner's id when the parent owns it). */
  readonly other: ForecastSide;
  /** The conflicting files, with kinds and git's messages. */
  readonly files: readonly ConflictFile[];
  /** What this pair's last forecast named (empty: it merged cleanly). */
  readonly previous: readonly ForecastFile[];
}

export type ConflictForecastHook = AsyncParallelHook<[ConflictForecastEvent]>;

export function createConflictForecastHook(): ConflictForecastHook {
  return new AsyncParallelHook<[ConflictForecastEvent]>(["event"], "conflictForecast");
}

export interface ForecastPart {
  /** Forecast this instance's branch now (its target, its siblings, its children), announcing as the continuous forecast does; resolves with the stored forecast. */
  check(id: string): Promise<InstanceForecast | undefined>;
  /** The last forecast stored on the instance (undefined: none yet, or no branch of its own). */
  last(id: string): Promise<InstanceForecast | undefined>;
}

export function installForecast(runtime: GitRuntime, conflictForecast: ConflictForecastHook): ForecastPart {
  const forecaster = new Forecaster(runtime, conflictForecast);
  const { ctx, options } = runtime;
  runtime.ctx.onClose(() => forecaster.close());
  if (!options.forecast.enabled) return forecaster;
  ctx.hooks.turnEnded.tapPromise(async (turn) => forecaster.schedule(turn.instanceId));
  runtime.branchChanged.on(async (change) => {
    if (ctx.mode === "serve") await forecaster.watchRepoOf(change.instanceId);
    forecaster.schedule(change.instanceId);
  });
  // A sibling that exited or was terminated leaves the others' forecasts (git_status would show a stale conflict).
  ctx.hooks.statusChange.tapPromise(async (change) => {
    if (change.to === "exited") await forecaster.siblingLeft(change.instance);
  });
  ctx.hooks.afterTerminate.tapPromise(async (event) => forecaster.siblingLeft(event.instance));
  // Only serve watches refs: it runs for as long as the instances do, and sees every commit once.
  if (ctx.mode === "serve") {
    ctx.hooks.ready.tapPromise(async () => forecaster.startWatching());
    ctx.hooks.statusChange.tapPromise(async (change) => forecaster.watchRepo(change.instance));
  }
  return forecaster;
}

interface SiblingPair {
  readonly sibling: ActiveBranch;
  readonly commit: string;
  readonly conflicts: readonly ConflictFile[];
}

interface TargetConflicts {
  /** The target's commit. */
  readonly ours: string;
  /** The branch's commit. */
  readonly theirs: string;
  readonly conflicts: readonly ConflictFile[];
  readonly pair: ForecastPair;
}

class Forecaster implements ForecastPart {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Branches a ref watch saw written whose instances are about to be looked up. */
  private readonly writtenSoon = new Set<string>();
  /** Forecasts run one at a time: a stale result never overwrites a newer one. */
  private chain: Promise<void> = Promise.resolve();
  private readonly refs: RefWatch;
  private closed = false;

  constructor(
    private readonly runtime: GitRuntime,
    private readonly conflictForecast: ConflictForecastHook,
  ) {
    this.refs = new RefWatch((repo, branch) => void this.branchWritten(repo, branch), runtime.ctx.logger);
  }

  private get ctx() {
    return this.runtime.ctx;
  }

  /** Forecast `id` once its branch has been quiet for debounceMs. */
  schedule(id: string): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(id));
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.enqueue(id).catch(() => undefined);
    }, this.runtime.options.forecast.debounceMs);
    // A pending forecast never keeps a one-shot CLI process alive.
    timer.unref();
    this.timers.set(id, timer);
  }

  async check(id: string): Promise<InstanceForecast | undefined> {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
    await this.enqueue(id);
    return this.last(id);
  }

  async last(id: string): Promise<InstanceForecast | undefined> {
    return (await this.runtime.state(id))?.forecast;
  }

  /** Run a forecast after the ones before it; rejects with its failure (which is also logged). */
  private enqueue(id: string): Promise<void> {
    const run = this.chain.then(() => (this.closed ? undefined : this.forecast(id)));
    this.chain = run.catch((error: unknown) => this.ctx.logger.warn({ err: error, instance: id }, "forecast failed; the next change of the branch tries again"));
    return run;
  }

  async startWatching(): Promise<void> {
    const active = activeBranches(await this.ctx.kernel.list());
    await Promise.all([...new Set(active.map((b) => b.state.repo))].map((repo) => this.watchRepoPath(repo)));
    // What changed while no kernel watched is forecast now; unchanged conflicts stay untold.
    for (const branch of active) this.schedule(branch.id);
  }

  /** Forecast again the siblings of an instance that is gone, so their forecasts drop it. */
  async siblingLeft(instance: InstanceRecord): Promise<void> {
    const state = instance.pluginState?.git as GitInstanceState | undefined;
    if (state?.isolation !== "worktree") return;
    for (const b of activeBranches(await this.ctx.kernel.list())) {
      if (b.id !== instance.id && b.parentId === instance.parentId && b.state.repo === state.repo) this.schedule(b.id);
    }
  }

  async watchRepo(instance: InstanceRecord): Promise<void> {
    const state = instance.pluginState?.git as GitInstanceState | undefined;
    if (state?.isolation === "worktree") await this.watchRepoPath(state.repo);
  }

  async watchRepoOf(id: string): Promise<void> {
    const state = await this.runtime.state(id);
    if (state?.isolation === "worktree") await this.watchRepoPath(state.repo);
  }

  private async watchRepoPath(repo: string): Promise<void> {
    await this.refs.add(repo).catch((error: unknown) => this.ctx.logger.warn({ err: error, repo }, "forecast: cannot watch the repository's refs"));
  }

  /** A ref watch saw `branch` written: forecast every instance on it or based on it. */
  private async branchWritten(repo: string, branch: string): Promise<void> {
    // One commit writes a lock, a ref and a reflog line: look the branch up once per burst.
    const key = `${repo}\0${branch}`;
    if (this.writtenSoon.has(key) || this.closed) return;
    this.writtenSoon.add(key);
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(this.runtime.options.forecast.debounceMs, 50)).unref());
    this.writtenSoon.delete(key);
    if (this.closed) return;
    try {
      for (const b of activeBranches(await this.ctx.kernel.list())) {
        if (b.state.repo === repo && (b.state.branch === branch || b.state.base === branch)) this.schedule(b.id);
      }
    } catch (error) {
      this.ctx.logger.debug({ err: error, branch }, "forecast: could not list instances after a ref change");
    }
  }

  /**
   * Every merge-tree first, then one atomic write per instance touched: the
   * branch itself (its target and its sibling pairs), each sibling (its side
   * of the pair), each child (its target). A pair is announced by the write
   * to its first instance (by id), whichever side moved.
   */
  private async forecast(id: string): Promise<void> {
    const all = activeBranches(await this.ctx.kernel.list());
    const me = all.find((b) => b.id === id);
    if (!me) return;
    const { siblings, children } = relatedPairs(me, all);
    const refs = [me, ...siblings, ...children].map((b) => b.state.branch).concat(me.state.base);
    const commits = await resolveCommits(me.state.repo, refs);
    const myCommit = commits.get(me.state.branch);
    if (!myCommit) return;
    const target = await this.targetConflicts(me, commits);
    const pairs: SiblingPair[] = [];
    for (const sibling of siblings) {
      const theirCommit = commits.get(sibling.state.branch);
      if (!theirCommit) continue;
      const [first, second] = compareIds(me.id, sibling.id) <= 0 ? [myCommit, theirCommit] : [theirCommit, myCommit];
      // Always merged in the same order: whichever of the two moved, the pair reads alike.
      pairs.push({ sibling, commit: theirCommit, conflicts: await pairConflicts(me.state.repo, first, second) });
    }
    const live = new Set(siblings.map((s) => s.id));
    const before = await this.write(
      me,
      myCommit,
      (f) => ({
        ...f,
        ...(target ? { target: target.pair } : {}),
        siblings: Object.fromEntries([
          // Siblings that exited or were terminated are no longer part of this branch's forecast.
          ...Object.entries(f.siblings).filter(([sid]) => live.has(sid) && !pairs.some((p) => p.sibling.id === sid)),
          ...pairs.filter((p) => p.conflicts.length).map((p) => [p.sibling.id, { branch: p.sibling.state.branch, commit: p.commit, files: forecastFiles(p.conflicts) }] as const),
        ]),
      }),
      (f) => f,
    );
    if (!before) return;
    if (target) await this.toldTarget(me, all, target, before.target.files);
    for (const pair of pairs) {
      const files = forecastFiles(pair.conflicts);
      const theirs = await this.write(
        pair.sibling,
        pair.commit,
        (f) => {
          const { [me.id]: _replaced, ...rest } = f.siblings;
          return { ...f, siblings: files.length ? { ...rest, [me.id]: { branch: me.state.branch, commit: myCommit, files } } : rest };
        },
        (f) => f.siblings[me.id]?.files ?? [],
        true,
      );
      const meFirst = compareIds(me.id, pair.sibling.id) <= 0;
      const previous = meFirst ? (before.siblings[pair.sibling.id]?.files ?? []) : theirs;
      if (previous === undefined || sameConflicts(previous, files)) continue;
      const [first, second] = meFirst ? [{ b: me, c: myCommit }, { b: pair.sibling, c: pair.commit }] : [{ b: pair.sibling, c: pair.commit }, { b: me, c: myCommit }];
      if (files.length === 0) {
        this.cleared(first.b.id, second.b.state.branch);
        continue;
      }
      await this.announce({
        between: "siblings",
        parentId: first.b.parentId,
        instance: { id: first.b.id, branch: first.b.state.branch, commit: first.c },
        other: { id: second.b.id, branch: second.b.state.branch, commit: second.c },
        files: pair.conflicts,
        previous,
        text: siblingsMessage(first.b, second.b, files, previous),
      });
    }
    for (const child of children) {
      const childTarget = await this.targetConflicts(child, commits);
      const childCommit = commits.get(child.state.branch);
      if (!childTarget || !childCommit) continue;
      const previous = await this.write(child, childCommit, (f) => ({ ...f, target: childTarget.pair }), (f) => f.target.files, true);
      if (previous !== undefined) await this.toldTarget(child, all, childTarget, previous);
    }
  }

  /** The branch merged into its target (its base); undefined when either is gone. */
  private async targetConflicts(branch: ActiveBranch, commits: Map<string, string>): Promise<TargetConflicts | undefined> {
    const ours = commits.get(branch.state.base);
    const theirs = commits.get(branch.state.branch);
    if (!ours || !theirs) return undefined;
    const conflicts = await pairConflicts(branch.state.repo, ours, theirs);
    return { ours, theirs, conflicts, pair: { branch: branch.state.base, commit: ours, files: forecastFiles(conflicts) } };
  }

  private async toldTarget(branch: ActiveBranch, all: readonly ActiveBranch[], target: TargetConflicts, previous: readonly ForecastFile[]): Promise<void> {
    const files = target.pair.files;
    if (sameConflicts(previous, files)) return;
    if (files.length === 0) return this.cleared(branch.id, branch.state.base);
    const parent = all.find((b) => b.id === branch.parentId);
    await this.announce({
      between: "target",
      parentId: branch.parentId,
      instance: { id: branch.id, branch: branch.state.branch, commit: target.theirs },
      other: { id: parent?.state.branch === branch.state.base ? parent.id : null, branch: branch.state.base, commit: target.ours },
      files: target.conflicts,
      previous,
      text: targetMessage(branch, files),
    });
  }

  /**
   * Update an instance's stored forecast atomically; resolves with what
   * `pick` read from the forecast this write replaced (undefined: the
   * instance or its git state is gone). The store may run the updater more
   * than once: the last run is the one written, so its reading is the answer.
   * With `unlessSame`, a forecast that would not change (same commit, same
   * pairs) is not written: a store write costs far more than the read, and an
   * unchanged pair has nothing to announce.
   */
  private async write<T>(
    branch: ActiveBranch,
    commit: string,
    change: (forecast: InstanceForecast) => InstanceForecast,
    pick: (forecast: InstanceForecast) => T = () => undefined as T,
    unlessSame = false,
  ): Promise<T | undefined> {
    if (unlessSame) {
      const stored = (await this.runtime.state(branch.id))?.forecast;
      if (stored && stored.commit === commit && sameForecast(change(stored), stored)) return pick(stored);
    }
    let before: T | undefined;
    const written = await this.ctx.state<GitInstanceState>(branch.id).update((current) => {
      if (!current) return current!;
      const previous: InstanceForecast = current.forecast ?? { at: "", commit: "", target: { branch: current.base, commit: "", files: [] }, siblings: {} };
      before = pick(previous);
      return { ...current, forecast: { ...change(previous), at: new Date().toISOString(), commit } };
    });
    return written ? before : undefined;
  }

  private cleared(id: string, other: string): void {
    this.ctx.logger.info({ instance: id, other }, "forecast: the branches merge cleanly again");
  }

  private async announce(announcement: Omit<ConflictForecastEvent, "eventId" | "at"> & { text: string }): Promise<void> {
    const { text, ...rest } = announcement;
    const event: ConflictForecastEvent = { eventId: randomUUID(), at: new Date().toISOString(), ...rest };
    this.ctx.logger.info(
      { between: event.between, instance: event.instance.id, other: event.other.branch, files: event.files.map((f) => f.path), parent: event.parentId },
      "forecast: branches started to conflict",
    );
    if (event.parentId && this.runtime.options.forecast.notifyParent) {
      await this.ctx.kernel
        .send(event.parentId, text, { whenBusy: "queue" })
        .catch((error: unknown) => this.ctx.logger.warn({ err: error, parent: event.parentId }, "forecast: could not tell the parent"));
    }
    await this.conflictForecast.promise(event).catch((error: unknown) => this.ctx.logger.warn({ err: error }, "forecast: a conflictForecast tap failed"));
    await this.ctx.notice(forecastNotice(event)).catch((error: unknown) => this.ctx.logger.warn({ err: error }, "forecast: could not raise the conflict notice"));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.refs.close();
    await this.chain;
  }
}

/** The same pairs with the same conflicts against the same commits (when they were computed aside). */
function sameForecast(a: InstanceForecast, b: InstanceForecast): boolean {
  const pairs = (f: InstanceForecast) =>
    JSON.stringify([f.target, Object.entries(f.siblings).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))]);
  return pairs(a) === pairs(b);
}
