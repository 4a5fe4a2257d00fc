// `git({...})`: the plugin factory. A plain object with closures (not
// definePlugin) because its `api` is handed out before `apply` runs and
// reaches the parts built there. Each part installs itself here with one line.
import type { Plugin } from "@tmux-claude/core";
import { installAutoCommit } from "./commit/auto-commit.js";
import { parseGitOptions, type GitUserOptions } from "./options.js";
import { BranchSignal, type BranchListener, type GitRuntime } from "./runtime.js";
import { createConflictForecastHook, installForecast, type ConflictForecastHook, type ForecastPart } from "./forecast/forecaster.js";
import { installBranchColumn } from "./surfaces/branch-column.js";
import { installGitCommands } from "./surfaces/commands.js";
import { installStatusAndDiff } from "./surfaces/tools.js";
import { instanceGitStatus, type InstanceGitStatus } from "./surfaces/status.js";
import { installGc, type GcPart, type GcPolicy, type GcReport } from "./gc/index.js";
import type { GitInstanceState } from "./types.js";
import { installIsolation, type IsolationPart } from "./worktree/isolation.js";
import { installMerge, type MergeCall, type MergeCaller, type MergePart } from "./merge/part.js";
import type { MergeOutcome } from "./merge/engine.js";
import type { QueuedEntry } from "./merge/queue.js";
import { installResolve, mergeResolver, resolverRoles, type ResolutionStats, type ResolvePart } from "./resolve/index.js";

/** What other plugins get through `ctx.plugin("git")`. */
export interface GitApi {
  /** The git plugin's state on an instance: its worktree, branch and base; undefined when it has none. */
  status(id: string): Promise<GitInstanceState | undefined>;
  /**
   * Where an instance's branch stands, as `tmux-claude git status` shows it:
   * ahead/behind its base, uncommitted files (read without taking index.lock),
   * the last forecast, its merge requests; undefined when the plugin keeps no
   * git state on it or the instance does not exist. Runs no new forecast.
   */
  branchStatus(id: string): Promise<InstanceGitStatus | undefined>;
  /** Called when an instance's branch gets commits (auto-commit) or is made (spawn); returns the unsubscribe function. */
  onBranchChanged(listener: BranchListener): () => void;
  /** Merge an instance's branch into its parent's branch (or `into`) through the target's merge queue. */
  merge(id: string, call?: MergeCall, caller?: MergeCaller): Promise<MergeOutcome>;
  /** The merge queues: the requests waiting, in serving order per target. */
  mergeQueue(): Promise<QueuedEntry[]>;
  /** AI conflict resolutions so far: attempts, accepted, rejected, acceptance rate, rejections by reason. */
  stats(): Promise<ResolutionStats>;
  /** Apply a GC policy to the plugin's worktrees (`tmux-claude git gc`); unset criteria come from the `gc` options. */
  gc(policy?: GcPolicy): Promise<GcReport>;
  /** Conflict forecasts: compute one now, or read the last. */
  readonly forecast: ForecastPart;
  /** Hooks other plugins tap: `hooks.conflictForecast.tapPromise("mine", async (event) => ...)`. */
  readonly hooks: { readonly conflictForecast: ConflictForecastHook };
}

/** The parts, once applied. */
interface Parts {
  readonly runtime: GitRuntime;
  readonly isolation: IsolationPart;
  readonly merge: MergePart;
  readonly resolve: ResolvePart;
  readonly gc: GcPart;
  readonly forecast: ForecastPart;
}

export function git(userOptions: GitUserOptions = {}): Plugin<GitApi> {
  const options = parseGitOptions(userOptions);
  let parts: Parts | undefined;
  const hooks = Object.freeze({ conflictForecast: createConflictForecastHook() });
  const applied = (): Parts => {
    if (!parts) throw new Error('The git plugin is not applied yet: use its api from a hook (init or later), not while plugins are being applied.');
    return parts;
  };
  const api: GitApi = {
    status: (id) => applied().runtime.state(id),
    branchStatus: async (id) => {
      const { runtime, merge } = applied();
      const record = await runtime.ctx.kernel.get(id).catch(() => undefined);
      return record ? instanceGitStatus(record, { mergeQueue: () => merge.queue() }) : undefined;
    },
    onBranchChanged: (listener) => applied().runtime.branchChanged.on(listener),
    merge: (id, call, caller) => applied().merge.merge(id, call, caller),
    mergeQueue: () => applied().merge.queue(),
    stats: () => applied().resolve.stats(),
    gc: (policy) => applied().gc.collect(policy),
    forecast: { check: (id) => applied().forecast.check(id), last: (id) => applied().forecast.last(id) },
    hooks,
  };
  return {
    name: "git",
    kernel: "^0.1.0",
    api,
    // The resolver's role, so resolve: "ai" works without the user adding it to roles.
    defaultRoles: resolverRoles(options.resolver),
    apply(ctx) {
      const runtime: GitRuntime = {
        ctx,
        options,
        branchChanged: new BranchSignal(ctx),
        beforeAutoCommit: new Set(),
        state: (id) => ctx.state<GitInstanceState>(id).get(),
        commands: installGitCommands(ctx),
      };
      const isolation = installIsolation(runtime);
      installAutoCommit(runtime);
      installBranchColumn(ctx);
      const resolve = installResolve(ctx, options.resolver, runtime.commands);
      const merge = installMerge(runtime, { resolve: mergeResolver(resolve) });
      const forecast = installForecast(runtime, hooks.conflictForecast);
      const gc = installGc(runtime, { worktreeDir: isolation.worktreeDir });
      installStatusAndDiff(runtime, { mergeQueue: () => merge.queue(), ...(options.forecast.enabled ? { forecastNow: (id: string) => forecast.check(id) } : {}) });
      parts = { runtime, isolation, merge, resolve, forecast, gc };
    },
  };
}
