import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { z } from "zod";
import type { GitOptions } from "../options.js";
import type { GitRuntime } from "../runtime.js";
import { gcSubcommand } from "../surfaces/gc-command.js";
import type { GitInstanceState } from "../types.js";
import { WorktreeCollector, type GcReport } from "./collector.js";
import type { GcDecision, GcPolicy } from "./plan.js";

export type GcOptions = GitOptions["gc"];

/** What a terminate's `plugins.git` may say (`tmux-claude terminate <id> --plugin git.force=true`). */
const terminateOptionsSchema = z.strictObject({ force: z.boolean().optional() }).optional();

export interface GcPart {
  /** Apply a policy (unset criteria fall back to the plugin's `gc` options). */
  collect(policy?: GcPolicy): Promise<GcReport>;
  readonly collector: WorktreeCollector;
}

/**
 * Garbage collection of the plugin's worktrees. At terminate (after the
 * instance's processes stopped, so nothing writes into the tree any more) a
 * merged, clean worktree is removed; any other is kept, logged and listed for
 * `git gc`. `force` (from the terminate's `plugins.git.force`) saves
 * uncommitted work on `refs/tmux-claude/stash/<id>` and removes it anyway.
 */
export function installGc(runtime: GitRuntime, deps: { worktreeDir: () => string }): GcPart {
  const { ctx } = runtime;
  const options = runtime.options.gc;
  const collector = new WorktreeCollector(ctx, deps.worktreeDir, runtime.options.branchPrefix);
  ctx.hooks.beforeTerminate.tap((event) => void terminateForce(event.plugins.git));
  ctx.hooks.afterTerminate.tapPromise(async (event) => {
    const force = terminateForce(event.plugins.git);
    const state = event.instance.pluginState?.git as GitInstanceState | undefined;
    if (options.onTerminate === "keep" && !force) {
      if (state) await collector.ledger.add({ id: event.instance.id, state, keptAt: new Date().toISOString(), reason: "gc.onTerminate is keep" });
      return;
    }
    try {
      await collector.atTerminate(event.instance.id, state, force);
    } catch (error) {
      // The instance is gone already; a worktree GC could not judge is kept for `git gc`, not a failed terminate.
      const reason = error instanceof Error ? error.message : String(error);
      if (state) await collector.ledger.add({ id: event.instance.id, state, keptAt: new Date().toISOString(), reason: `could not be inspected: ${reason}` });
      ctx.logger.warn({ instance: event.instance.id, err: error }, `kept the worktree of ${event.instance.id}: it could not be inspected (${reason})`);
    }
  });
  const part: GcPart = {
    collector,
    collect: (policy = {}) =>
      collector.collect({ olderThanDays: options.olderThanDays, diskBudgetMb: options.diskBudgetMb, ...withoutUndefined(policy) }),
  };
  runtime.commands.register(gcSubcommand(part));
  return part;
}

/** Checked before anything ends, so a typo (`--plugin git.forse=true`) stops the terminate instead of being ignored. */
function terminateForce(raw: unknown): boolean {
  const parsed = terminateOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TmuxClaudeError(
      GitErrorCodes.TERMINATE_OPTIONS_INVALID,
      `The terminate's options for plugin "git" are ${JSON.stringify(raw)}; git takes only force (true or false), e.g. --plugin git.force=true.`,
      { plugin: "git", options: raw },
    );
  }
  return parsed.data?.force ?? false;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type { GcDecision, GcPolicy, GcReport };
