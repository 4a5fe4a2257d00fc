// The AI conflict resolution part: what plugin.ts wires in.
import type { PluginContext } from "@tmux-claude/core";
import type { GitCommands } from "../surfaces/commands.js";
import { statsSubcommand } from "../surfaces/stats-command.js";
import { loadResolutionStats, type ResolutionStats } from "./log.js";
import type { ResolverOptions } from "./options.js";
import { resolveConflicts, type ResolveOutcome, type ResolveRequest } from "./resolver.js";

export interface ResolvePart {
  /** Resolve one conflicted merge with a resolver instance (see resolver.ts); the merge part calls this for `resolve: "ai"`. */
  resolveConflicts(request: ResolveRequest): Promise<ResolveOutcome>;
  /** The resolution log's counts: what `api.stats()` and `tmux-claude git stats` report. */
  stats(): Promise<ResolutionStats>;
}

/** The resolve part; with `commands`, `tmux-claude git stats` is registered there. */
export function installResolve(ctx: Pick<PluginContext, "kernel" | "logger">, options: ResolverOptions, commands?: GitCommands): ResolvePart {
  const deps = { kernel: ctx.kernel, logger: ctx.logger, options };
  commands?.register(statsSubcommand);
  return {
    resolveConflicts: (request) => resolveConflicts(deps, request),
    stats: () => loadResolutionStats(ctx.kernel.stateDir),
  };
}

export { resolverOptionsSchema, resolverRoles, type ResolverOptions } from "./options.js";
export { resolveConflicts, leftoverMarkers, type ResolveRequest, type ResolveOutcome, type AcceptedResolution, type RejectedResolution, type ResolveDeps } from "./resolver.js";
export { readResolutions, resolutionStats, loadResolutionStats, resolutionLogPath, type ResolutionRecord, type ResolutionStats, type RejectionReason } from "./log.js";
export { mergeResolver } from "./merge-resolver.js";
