// The options of `git({...})` and of one spawn (`plan.plugins.git`), as zod
// schemas. One block per part of the plugin; each part adds its own keys in
// its block and reads them from the parsed options.
import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
import { z } from "zod";
import { GitErrorCodes } from "./errors.js";

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
   * own `.worktreeinclude`.
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

// ---------------------------------------------------------------- merge (merge/)

// ---------------------------------------------------------------- resolver (resolve/)

// ---------------------------------------------------------------- gc (gc/)

export const gitOptionsSchema = z
  .object({
    ...isolationOptions,
    ...autoCommitOptions,
    // forecast: forecastOptionsSchema.default({}),
    // merge: mergeOptionsSchema.default({}),
    // resolver: resolverOptionsSchema.default({}),
    // gc: gcOptionsSchema.default({}),
  })
  .strict();

export type GitOptions = z.output<typeof gitOptionsSchema>;
export type GitUserOptions = z.input<typeof gitOptionsSchema>;

/** Validate `git({...})` as definePlugin does: one error naming the plugin, each bad option and the fix. */
export function parseGitOptions(raw: unknown): GitOptions {
  return parseOrThrow(gitOptionsSchema, raw, (issues) =>
    new TmuxClaudeError(ErrorCodes.PLUGIN_OPTIONS_INVALID, `Invalid options for plugin "git":\n${issues}\nFix the options passed to the plugin in your config.`, { plugin: "git" }),
  );
}

/** Parse `raw` (undefined: `{}`) with `schema`; on failure throw what `fail` makes of the issues, one `  - path: message` line each. */
export function parseOrThrow<S extends z.ZodType>(schema: S, raw: unknown, fail: (issues: string) => TmuxClaudeError): z.output<S> {
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  throw fail(result.error.issues.map((issue) => `  - ${issue.path.length ? issue.path.join(".") : "(options)"}: ${issue.message}`).join("\n"));
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
