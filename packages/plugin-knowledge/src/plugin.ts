// `knowledge(options)`: shared project knowledge and file claims per hierarchy.
// Written by hand (not definePlugin) because its `api` is handed out before
// `apply` runs (the dashboard and the command read through it).
import { parsePluginOptions, type Plugin, type PluginContext, type ResolvedConfig } from "@tmux-claude/core";
import { z } from "zod";
import type { ClaimsDoc } from "./claim-doc.js";
import { Claims, type ClaimRequest, type ClaimResult } from "./claims.js";
import { knowledgeCommand } from "./command.js";
import { Knowledge, type KnowledgeEntry, type KnowledgeIndex, type KnowledgeQuery } from "./entries.js";
import { knowledgeTools } from "./tools.js";

export const PLUGIN_NAME = "knowledge";

export const knowledgeOptionsSchema = z.strictObject({
  /** The largest knowledge value, in UTF-8 bytes (default 16 KB); a larger one is refused, naming both. */
  maxValueBytes: z.int().min(1).max(512 * 1024).default(16 * 1024),
  /** The most knowledge entries one hierarchy keeps (default 500); recording a new key beyond is refused, naming the limit. */
  maxEntries: z.int().min(1).max(500).default(500),
  /** How long claim_files with wait: true waits by default, in ms (default 5 minutes). */
  claimWaitMs: z.int().min(1).max(3_600_000).default(300_000),
});

export type KnowledgeOptions = z.input<typeof knowledgeOptionsSchema>;

/** What other plugins (the dashboard) and the command use. */
export interface KnowledgeApi {
  /** Entries of one hierarchy (every one's when undefined) that match, newest first, at most `query.limit` (default 50). */
  query(hierarchy?: string, query?: KnowledgeQuery): Promise<KnowledgeEntry[]>;
  /** Forget `keys` of a hierarchy (all its entries without); resolves with the keys forgotten. */
  forget(hierarchy: string, keys?: string[]): Promise<string[]>;
  /** Drop everything a hierarchy kept: its entries and its claims document (done when its top-level instance is terminated). */
  drop(hierarchy: string): Promise<{ forgotten: string[] }>;
  /** Record as `by` (null: the root). */
  record(hierarchy: string, by: string | null, input: { key: string; value: string; tags?: string[] }): Promise<KnowledgeEntry>;
  /** Claims by hierarchy. */
  claims(hierarchy?: string): Promise<ClaimsDoc[]>;
  claim(instanceId: string, request: ClaimRequest): Promise<ClaimResult>;
  release(instanceId: string, paths?: string[]): Promise<{ hierarchy: string; released: string[] }>;
  /** The collections to watch for changes (`kernel.watch`'s `doc` changes). */
  readonly collections: readonly string[];
}

export function knowledge(userOptions: KnowledgeOptions = {}): Plugin<KnowledgeApi> {
  const options = parsePluginOptions(PLUGIN_NAME, knowledgeOptionsSchema, userOptions);
  let applied: { entries: Knowledge; claims: Claims } | undefined;
  const parts = () => {
    if (!applied) throw new Error("The knowledge plugin is not applied yet: use its api from a hook (init or later) or a command.");
    return applied;
  };
  const api: KnowledgeApi = {
    query: async (hierarchy, query) => (await parts().entries.query(hierarchy, query)).entries,
    forget: (hierarchy, keys) => parts().entries.forget(hierarchy, keys),
    drop: (hierarchy) => drop(parts(), hierarchy),
    record: (hierarchy, by, input) => parts().entries.record(hierarchy, by, input),
    claims: (hierarchy) => parts().claims.all(hierarchy),
    claim: (instanceId, request) => parts().claims.claim(instanceId, request),
    release: (instanceId, paths) => parts().claims.release(instanceId, paths),
    collections: [`${PLUGIN_NAME}/entries`, `${PLUGIN_NAME}/index`, `${PLUGIN_NAME}/claims`],
  };
  return {
    name: PLUGIN_NAME,
    kernel: "^0.1.0",
    api,
    apply(ctx) {
      const entries = new Knowledge(ctx.data<KnowledgeEntry>("entries"), ctx.data<KnowledgeIndex>("index"), options.maxValueBytes, options.maxEntries);
      // A closing kernel withdraws every wait it serves, rather than leaving them queued to be granted to nobody.
      const closing = new AbortController();
      ctx.hooks.shutdown.tap(() => closing.abort());
      const claims = new Claims(ctx.kernel, ctx.data<ClaimsDoc>("claims"), options.claimWaitMs, closing.signal);
      applied = { entries, claims };
      releaseWithInstances(ctx, claims);
      // Retention: a hierarchy's knowledge and claims live as long as its top-level instance.
      ctx.hooks.afterTerminate.tapPromise(async ({ instance }) => {
        if (instance.parentId !== null) return;
        await drop({ entries, claims }, instance.id).catch((error: unknown) =>
          ctx.logger.warn({ err: error, hierarchy: instance.id }, `could not drop the knowledge of hierarchy "${instance.id}" (its top-level instance was terminated); tmux-claude knowledge forget ${instance.id} --all drops it`),
        );
      });
      ctx.hooks.tools.tap((tools) => [...tools, ...knowledgeTools(ctx.kernel, entries, claims)]);
      ctx.hooks.commands.tap((commands) => [...commands, knowledgeCommand(api)]);
    },
  };
}

async function drop(parts: { entries: Knowledge; claims: Claims }, hierarchy: string): Promise<{ forgotten: string[] }> {
  const forgotten = await parts.entries.forget(hierarchy);
  await parts.claims.drop(hierarchy);
  return { forgotten };
}

/**
 * Claims end with their instance, in the process that sees the end: the one
 * that terminates it, the one whose spawn failed, and for an exit the one
 * that fires it (serve, or without serve the process that recorded it). A
 * holder that ended unseen (killed while nothing watched) is dropped by the
 * next claim that meets it.
 */
function releaseWithInstances(ctx: PluginContext, claims: Claims): void {
  const end = (id: string, why: string) =>
    claims.ended(id).catch((error: unknown) => ctx.logger.warn({ err: error, instance: id }, `could not release the file claims of "${id}" (${why}); the next claim that meets them drops them`));
  ctx.hooks.afterTerminate.tapPromise(({ instance }) => end(instance.id, "terminated"));
  ctx.hooks.spawnFailed.tapPromise(({ plan }) => (plan.restart ? Promise.resolve() : end(plan.id, "its spawn failed")));
  ctx.hooks.statusChange.tapPromise(async ({ instance, to }) => {
    if (to === "exited") await end(instance.id, "exited");
  });
}

/** The config with the knowledge plugin added unless it lists one itself (with its own options): the CLI has it by default. */
export function withKnowledge(config: ResolvedConfig): ResolvedConfig {
  if (config.plugins.some((plugin) => plugin.name === PLUGIN_NAME)) return config;
  return { ...config, plugins: [...config.plugins, knowledge()] };
}
