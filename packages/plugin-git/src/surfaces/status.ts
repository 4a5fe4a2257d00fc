// `git_status` / `tmux-claude git status`: where each instance's branch
// stands against its base, what is uncommitted, what the forecast says and
// what waits in the merge queue.
import { existsSync } from "node:fs";
import type { InstanceRecord, InstanceStatus, InstanceSummary, KernelApi } from "@tmux-claude/core";
import { currentBranch, dirtyPaths, resolveCommit } from "../git/repo.js";
import { runGit } from "../git/run.js";
import type { ForecastPair, GitInstanceState, InstanceForecast, Isolation, UncommittedLeftOut } from "../types.js";
import type { GitSubcommand } from "./commands.js";

/** A merge request as the queue lists it; only what status shows. */
export interface QueueEntryView {
  readonly id: string;
  readonly instanceId?: string;
  readonly source: string;
  readonly target: string;
  readonly done: boolean;
}

/** Optional sources other parts provide (none until they are wired). */
export interface StatusSources {
  mergeQueue?: () => Promise<readonly QueueEntryView[]>;
  /**
   * Forecast an active instance's branch now (the forecaster's `check`: a
   * merge-tree per pair, announcing new conflicts as the continuous forecast
   * does). Status shows a fresh forecast, so a user without `serve` still
   * sees and is told about conflicts. Absent when forecasting is disabled.
   */
  forecastNow?: (id: string) => Promise<unknown>;
}

export interface InstanceGitStatus {
  readonly id: string;
  readonly role: string;
  readonly parentId: string | null;
  readonly status: InstanceStatus;
  readonly isolation: Isolation;
  readonly repo: string;
  readonly worktree: string;
  readonly branch: string;
  readonly base: string;
  /** Commits on the branch that the base lacks, and the reverse; null when either branch is gone. */
  readonly ahead: number | null;
  readonly behind: number | null;
  /**
   * What the worktree has checked out when it is not the instance's branch
   * (the agent ran `git checkout --detach` or switched): commits made there
   * are not on the branch, so ahead/behind say nothing about them. Null when
   * it is on its branch (or shares a checkout, or the worktree is gone).
   */
  readonly offBranch: { readonly branch: string | null; readonly head: string } | null;
  /** Uncommitted paths (tracked changes, untracked files); null when the worktree is gone. */
  readonly dirty: readonly string[] | null;
  /** Uncommitted changes of the checkout its branch started from, which the branch does not have (null: none). */
  readonly uncommittedLeftOut: UncommittedLeftOut | null;
  /** The last conflict forecast of its branch (kept by the forecaster on its git state), or null before any. */
  readonly forecast: InstanceForecast | null;
  /** The branch or its base has moved since `forecast` was made: it says nothing about the branches as they are. */
  readonly forecastStale: boolean;
  /** Its merge requests in the target's queue, in order. */
  readonly queue: readonly { readonly requestId: string; readonly target: string; readonly position: number; readonly done: boolean }[];
}

/** The git status of one instance, or undefined when the plugin keeps nothing on it (no repository, isolation none). */
export async function instanceGitStatus(record: InstanceRecord, sources: StatusSources, queue?: readonly QueueEntryView[]): Promise<InstanceGitStatus | undefined> {
  const state = record.pluginState?.git as GitInstanceState | undefined;
  if (!state || state.isolation === "none") return undefined;
  const forecast = state.forecast ?? null;
  const worktreeThere = existsSync(state.worktree);
  const cwd = worktreeThere ? state.worktree : state.repo;
  const [branchCommit, baseCommit] = [await resolveCommit(cwd, state.branch).catch(() => undefined), await resolveCommit(cwd, state.base).catch(() => undefined)];
  let ahead: number | null = null;
  let behind: number | null = null;
  if (branchCommit && baseCommit) {
    const counts = (await runGit(cwd, ["rev-list", "--left-right", "--count", `${baseCommit}...${branchCommit}`])).stdout.trim().split(/\s+/u);
    [behind, ahead] = [Number(counts[0]), Number(counts[1])];
  }
  const entries = queue ?? (await sources.mergeQueue?.()) ?? [];
  let offBranch: InstanceGitStatus["offBranch"] = null;
  if (worktreeThere && state.isolation === "worktree") {
    const checkedOut = await currentBranch(state.worktree).catch(() => state.branch);
    const head = await resolveCommit(state.worktree, "HEAD").catch(() => undefined);
    if (checkedOut !== state.branch && head) offBranch = { branch: checkedOut ?? null, head };
  }
  return {
    id: record.id,
    role: record.role,
    parentId: record.parentId,
    status: record.status,
    isolation: state.isolation,
    repo: state.repo,
    worktree: state.worktree,
    branch: state.branch,
    base: state.base,
    ahead,
    behind,
    offBranch,
    dirty: worktreeThere ? await dirtyPaths(state.worktree) : null,
    uncommittedLeftOut: state.uncommittedLeftOut ?? null,
    forecast,
    forecastStale: forecast !== null && (forecast.commit !== branchCommit || forecast.target.commit !== baseCommit),
    queue: queuedFor(record.id, state, entries),
  };
}

function queuedFor(id: string, state: GitInstanceState, entries: readonly QueueEntryView[]): InstanceGitStatus["queue"] {
  const mine = entries.filter((e) => e.instanceId === id || (e.instanceId === undefined && e.source === state.branch));
  return mine.map((e) => ({
    requestId: e.id,
    target: e.target,
    position: entries.filter((other) => other.target === e.target && !other.done).findIndex((other) => other.id === e.id) + 1,
    done: e.done,
  }));
}

/** Every instance the plugin keeps git state on, among `records` (a subtree, or all). */
export async function gitStatuses(records: readonly InstanceRecord[], sources: StatusSources, kernel?: Pick<KernelApi, "get">): Promise<InstanceGitStatus[]> {
  const queue = (await sources.mergeQueue?.()) ?? [];
  const statuses: InstanceGitStatus[] = [];
  for (const listed of records) {
    const record = kernel && sources.forecastNow && (await forecastFresh(listed, sources.forecastNow)) ? await kernel.get(listed.id).catch(() => listed) : listed;
    const status = await instanceGitStatus(record, sources, queue);
    if (status) statuses.push(status);
  }
  return statuses;
}

/** Forecast an active worktree instance now; true when its stored forecast may have changed. A failure leaves the stored one (shown stale if it is). */
async function forecastFresh(record: InstanceRecord, forecastNow: (id: string) => Promise<unknown>): Promise<boolean> {
  const state = record.pluginState?.git as GitInstanceState | undefined;
  if (state?.isolation !== "worktree" || record.status === "exited" || record.terminatedAt) return false;
  return forecastNow(record.id).then(
    () => true,
    () => false,
  );
}

export function statusSubcommand(sources: StatusSources): GitSubcommand {
  return {
    name: "status",
    usage: "status [id] [--tree] [--json]",
    summary: "each instance's branch, base, ahead/behind, uncommitted files, forecast conflicts and queued merges",
    options: { tree: { type: "boolean" } },
    positionals: { min: 0, max: 1, names: ["id"] },
    async run({ positionals, flags, kernel, out }) {
      const [id] = positionals;
      if (id) await kernel.get(id); // An unknown id is the kernel's not-found error (exit 3), not an empty answer.
      const records = id ? subtreeRecords(await kernel.list(), id) : await kernel.list();
      const statuses = await gitStatuses(records, sources, kernel);
      const none = id ? `Instance ${id} has no git branch of the plugin (it works outside a repository, or with isolation "none"), nor has any instance below it.` : undefined;
      out.result({ instances: statuses }, () => (statuses.length === 0 && none ? none : statusText(statuses, flags.tree === true)));
      return 0;
    },
  };
}

/** With an id: that instance and everything below it, parents first (from the listing's children links). */
export function subtreeRecords(all: readonly InstanceSummary[], rootId: string): InstanceSummary[] {
  const byId = new Map(all.map((r) => [r.id, r]));
  const out: InstanceSummary[] = [];
  const pending = [rootId];
  while (pending.length) {
    const record = byId.get(pending.shift()!);
    if (!record || out.includes(record)) continue;
    out.push(record);
    pending.push(...record.children);
  }
  return out;
}

export function statusText(statuses: readonly InstanceGitStatus[], tree: boolean): string {
  if (statuses.length === 0) return "No instance has a git branch of the plugin.";
  const depthOf = new Map<string, number>();
  const byId = new Map(statuses.map((s) => [s.id, s]));
  const depth = (s: InstanceGitStatus): number => {
    const known = depthOf.get(s.id);
    if (known !== undefined) return known;
    const parent = s.parentId ? byId.get(s.parentId) : undefined;
    const d = parent ? depth(parent) + 1 : 0;
    depthOf.set(s.id, d);
    return d;
  };
  const ordered = tree ? treeOrder(statuses) : statuses;
  return ordered
    .map((s) => {
      const indent = tree ? "  ".repeat(depth(s)) : "";
      const off = s.offBranch ? `; ${s.offBranch.branch === null ? `HEAD detached at ${s.offBranch.head.slice(0, 12)}` : `${s.offBranch.branch} checked out`}, not ${s.branch}: its commits there are not on the branch` : "";
      const position = `${s.ahead === null ? "branch or base missing" : `${s.ahead} ahead, ${s.behind} behind`}${off}`;
      const dirty = s.dirty === null ? "worktree missing" : s.dirty.length ? `${s.dirty.length} uncommitted: ${s.dirty.slice(0, 5).join(", ")}${s.dirty.length > 5 ? ", ..." : ""}` : "clean";
      const extra = [
        s.uncommittedLeftOut ? `started from the last commit, without ${s.uncommittedLeftOut.count} uncommitted change(s) in ${s.uncommittedLeftOut.checkout}` : "",
        s.forecast ? `forecast: ${s.forecastStale ? `stale (made ${s.forecast.at}; the branch or its base moved since)` : forecastText(s.forecast)}` : "",
        s.queue.length ? `queued: ${s.queue.map((q) => (q.done ? `${q.requestId} done` : `#${q.position} into ${q.target}`)).join(", ")}` : "",
      ].filter(Boolean);
      return `${indent}${s.id} (${s.role}, ${s.status})  ${s.branch} <- ${s.base}  ${position}; ${dirty}${extra.length ? `\n${indent}  ${extra.join("; ")}` : ""}`;
    })
    .join("\n");
}

function forecastText(forecast: InstanceForecast): string {
  const pair = (label: string, p: ForecastPair) => `conflicts with ${label} in ${p.files.map((f) => `${f.path} (${f.kind})`).join(", ")}`;
  const conflicts = [
    ...(forecast.target.files.length ? [pair(forecast.target.branch, forecast.target)] : []),
    ...Object.entries(forecast.siblings).filter(([, p]) => p.files.length).map(([id, p]) => pair(`${id} (${p.branch})`, p)),
  ];
  return conflicts.length ? conflicts.join("; ") : `merges cleanly (as of ${forecast.at})`;
}

function treeOrder(statuses: readonly InstanceGitStatus[]): InstanceGitStatus[] {
  const ids = new Set(statuses.map((s) => s.id));
  const children = (parent: string | null) => statuses.filter((s) => (parent === null ? !s.parentId || !ids.has(s.parentId) : s.parentId === parent));
  const out: InstanceGitStatus[] = [];
  const visit = (s: InstanceGitStatus) => {
    out.push(s);
    for (const child of children(s.id)) visit(child);
  };
  for (const root of children(null)) visit(root);
  return out;
}

