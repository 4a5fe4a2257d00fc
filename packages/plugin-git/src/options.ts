// The options of `git({...})` and of one spawn (`plan.plugins.git`), as zod
// schemas. One block per part of the plugin; each part adds its own keys in
// its block and reads them from the parsed options.
import { TmuxClaudeError, formatIssueList, formatZodIssues, parsePluginOptions } from "@tmux-claude/core";
import { z } from "zod";
import { GitErrorCodes } from "./errors.js";
import { resolverOptionsSchema } from "./resolve/options.js";

export const isolationSchema = z.enum(["worktree", "shared", "none"]);

// ---------------------------------------------------------------- isolation (worktree/, commit/)

/**
 * What a role (`roles: { specialist: {...} }`) or one spawn (`--plugin git.<key>=...`)
 * may set; unset keys fall back to the role's, then the plugin's. `baseRef`:
 * for a role, where its top-level instances start; for a spawn, where this
 * instance starts, instead of its parent's branch.
 */
export const instanceOptionsSchema = z
  .object({
    isolation: isolationSchema.optional(),
    autoCommit: z.boolean().optional(),
    baseRef: z.string().min(1).optional(),
  })
  .strict();

const isolationOptions = {
  /** How an instance works in its repository unless its role or spawn says otherwise. */
  isolation: isolationSchema.default("worktree"),
  /**
   * What a top-level instance branches from: a branch (or any commit). Default:
   * the branch checked out where it was spawned. Children branch from their parent's branch.
   */
  baseRef: z.string().min(1).optional(),
  /** Instance branches are `<branchPrefix><instance id>`. */
  branchPrefix: z.string().default("tc/"),
  /**
   * Where worktrees live: `<worktreeDir>/<repo key>/<instance id>`. Default
   * `<stateDir>/worktrees`, outside the user's tree. A relative path is taken
   * from the kernel's state dir.
   */
  worktreeDir: z.string().min(1).optional(),
  /**
   * Files git does not track that agents need (`.env`, local config), copied
   * into each new worktree: gitignore-style patterns, added to the repository's
   * own `.worktreeinclude`. Only files the repository also ignores are copied:
   * any other copy would be committed from the worktree.
   */
  include: z.array(z.string().min(1)).default([]),
  /**
   * A spawn outside any git repository, when its isolation came from the
   * plugin's or role's default: "skip" runs it without git (logged), "error"
   * refuses it. Asking for `isolation: "worktree"` in the spawn itself always refuses.
   */
  outsideRepo: z.enum(["skip", "error"]).default("skip"),
  /** Per role: `{ specialist: { isolation: "worktree", autoCommit: true } }`. */
  roles: z.record(z.string(), instanceOptionsSchema).default({}),
};

// ---------------------------------------------------------------- auto-commit (commit/)

const autoCommitOptions = {
  /** Commit an instance's changes at the end of each of its turns. */
  autoCommit: z.boolean().default(false),
};

// ---------------------------------------------------------------- forecast (forecast/)

const forecastOptionsSchema = z
  .object({
    /** Forecast conflicts continuously (on turn ends, auto-commits and commits seen on the branches). */
    enabled: z.boolean().default(true),
    /** Wait until a branch has been quiet this long before forecasting it: a burst of commits costs one forecast. */
    debounceMs: z.number().int().min(0).max(600_000).default(500),
    /** Tell the parent (a queued message) when two of its children start to conflict; the conflictForecast event fires either way. */
    notifyParent: z.boolean().default(true),
  })
  .strict();

// ---------------------------------------------------------------- merge (merge/)

export const mergeStrategySchema = z.enum(["merge", "squash", "rebase"]);
export const mergeResolveSchema = z.enum(["none", "ai"]);
/** A command as one string (split on blanks and quotes, never given to a shell) or as argv. */
export const commandSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** Defaults of `merge(id, {...})`; a request's own values win. */
export const mergeOptionsSchema = z
  .object({
    /** "merge": a merge commit; "squash": one commit; "rebase": the branch's commits replayed onto the target. */
    strategy: mergeStrategySchema.default("merge"),
    /** "ai": a conflict goes to a resolver instance (see the resolver options). */
    resolve: mergeResolveSchema.default("none"),
    /** Run on the merged result in a scratch worktree before the target moves (`"npm test"`). */
    verify: commandSchema.optional(),
    verifyTimeoutMs: z.number().int().positive().default(600_000),
    /** How long a merge waits for the merge ahead of it on the same target (another process's). */
    lockTimeoutMs: z.number().int().positive().default(1_800_000),
  })
  .strict();

// ---------------------------------------------------------------- resolver (resolve/)

// ---------------------------------------------------------------- gc (gc/)

/** What terminate does with an instance's worktree, and the defaults of `tmux-claude git gc`. */
export const gcOptionsSchema = z
  .object({
    /** `remove-merged`: at terminate a merged, clean worktree goes (with its branch); `keep`: terminate leaves every worktree to `git gc`. */
    onTerminate: z.enum(["remove-merged", "keep"]).default("remove-merged"),
    /** `git gc` also removes stale, clean worktrees untouched for this many days (their unmerged branches stay). */
    olderThanDays: z.number().positive().optional(),
    /** `git gc` removes stale worktrees, largest first, until all of the plugin's worktrees use at most this many MB. */
    diskBudgetMb: z.number().positive().optional(),
  })
  .strict();

export const gitOptionsSchema = z
  .object({
    ...isolationOptions,
    ...autoCommitOptions,
    forecast: forecastOptionsSchema.prefault({}),
    merge: mergeOptionsSchema.default({ strategy: "merge", resolve: "none", verifyTimeoutMs: 600_000, lockTimeoutMs: 1_800_000 }),
    /** Who resolves conflicts for `resolve: "ai"`: `{ agent, role, timeoutMs, verifyTimeoutMs, prompt }` (resolve/options.ts). */
    resolver: resolverOptionsSchema,
    gc: gcOptionsSchema.default({ onTerminate: "remove-merged" }),
  })
  .strict();

export type GitOptions = z.output<typeof gitOptionsSchema>;
export type GitUserOptions = z.input<typeof gitOptionsSchema>;

/** Validate `git({...})` as definePlugin does: one error naming the plugin, each bad option and the fix. */
export function parseGitOptions(raw: unknown): GitOptions {
  return parsePluginOptions("git", gitOptionsSchema, raw);
}

/** Parse `raw` (undefined: `{}`) with `schema`; on failure throw what `fail` makes of the issues, one `  - path: message` line each. */
export function parseOrThrow<S extends z.ZodType>(schema: S, raw: unknown, fail: (issues: string) => TmuxClaudeError): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  // The config's own formatter: each issue names the value it got, the allowed keys or values, and a "did you mean".
  throw fail(formatIssueList(formatZodIssues(result.error, raw ?? {}, schema)));
}

// ---------------------------------------------------------------- one spawn (plan.plugins.git)

/** `spawn --plugin git.<key>=<value>` / MCP spawn `plugins: { git: {...} }`. */
export type GitSpawnOptions = z.output<typeof instanceOptionsSchema>;

export function parseSpawnOptions(raw: unknown): GitSpawnOptions {
  return parseOrThrow(instanceOptionsSchema, raw, (issues) =>
    new TmuxClaudeError(
      GitErrorCodes.SPAWN_OPTIONS_INVALID,
      `Invalid git options for this spawn:\n${issues}\nFix them (e.g. --plugin git.isolation=shared); keys: ${Object.keys(instanceOptionsSchema.shape).join(", ")}.`,
      { plugin: "git", options: raw },
    ),
  );
}

/** The isolation, autoCommit and baseRef one spawn gets: spawn > role > plugin default. */
export interface EffectiveSettings {
  readonly isolation: z.output<typeof isolationSchema>;
  /** Did the spawn itself ask for this isolation (then a missing repo is always an error)? */
  readonly explicit: boolean;
  readonly autoCommit: boolean;
  /** The spawn's own baseRef: wins over the parent's branch. */
  readonly baseRef: string | undefined;
  /** The role's or plugin's baseRef: where a top-level instance starts. */
  readonly topLevelBaseRef: string | undefined;
}

export function effectiveSettings(options: GitOptions, role: string, spawn: GitSpawnOptions): EffectiveSettings {
  const forRole = options.roles[role] ?? {};
  return {
    isolation: spawn.isolation ?? forRole.isolation ?? options.isolation,
    explicit: spawn.isolation !== undefined,
    autoCommit: spawn.autoCommit ?? forRole.autoCommit ?? options.autoCommit,
    baseRef: spawn.baseRef,
    topLevelBaseRef: forRole.baseRef ?? options.baseRef,
  };
}
