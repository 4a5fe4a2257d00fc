// The AI conflict resolution part: what plugin.ts wires in.
import path from "node:path";
import type { PluginContext } from "@tmux-claude/core";
import type { GitCommands } from "../surfaces/commands.js";
import { statsSubcommand } from "../surfaces/stats-command.js";
import { loadResolutionStats, type ResolutionStats } from "./log.js";
import type { ResolverOptions } from "./options.js";
import { resolveConflicts, type ResolveOutcome, type ResolveRequest } from "./resolver.js";
import { scratchRoot, sweepStaleScratch } from "./scratch.js";

export interface ResolvePart {
  /** Resolve one conflicted merge with a resolver instance (see resolver.ts); the merge part calls this for `resolve: "ai"`. */
  resolveConflicts(request: ResolveRequest): Promise<ResolveOutcome>;
  /** The resolution log's counts: what `api.stats()` and `tmux-claude git stats` report. */
  stats(): Promise<ResolutionStats>;
}

/** The resolve part; with `commands`, `tmux-claude git stats` is registered there. */
export function installResolve(ctx: Pick<PluginContext, "kernel" | "logger" | "hooks" | "mode">, options: ResolverOptions, commands?: GitCommands): ResolvePart {
  const deps = { kernel: ctx.kernel, logger: ctx.logger, options };
  commands?.register(statsSubcommand);
  // A process killed mid-resolution left its scratch worktree and its resolver: the serving kernel clears both.
  ctx.hooks.ready.tapPromise(async (kernel) => {
    if (ctx.mode !== "serve") return;
    const swept = await sweepStaleScratch(scratchRoot(kernel.stateDir));
    if (swept.length === 0) return;
    const orphans = (await kernel.list({ role: options.role })).filter((i) => swept.some((dir) => i.workDir === dir || i.workDir.startsWith(dir + path.sep)));
    await Promise.all(orphans.map((i) => kernel.terminate(i.id).catch((error: unknown) => ctx.logger.warn({ err: error, instance: i.id }, "could not terminate an orphaned resolver"))));
    ctx.logger.info({ scratch: swept, resolvers: orphans.map((i) => i.id) }, "removed what killed resolutions left");
  });
  return {
    resolveConflicts: (request) => resolveConflicts(deps, request),
    stats: () => loadResolutionStats(ctx.kernel.stateDir),
  };
}

export { resolverOptionsSchema, resolverRoles, type ResolverOptions } from "./options.js";
export { resolveConflicts, leftoverMarkers, type ResolveRequest, type ResolveOutcome, type AcceptedResolution, type RejectedResolution, type ResolveDeps } from "./resolver.js";
export { readResolutions, resolutionStats, loadResolutionStats, resolutionLogPath, type ResolutionRecord, type ResolutionStats, type RejectionReason } from "./log.js";
export { mergeResolver } from "./merge-resolver.js";
