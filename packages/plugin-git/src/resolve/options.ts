import type { UserRoleConfig } from "@tmux-claude/core";
import { z } from "zod";

/** `git({ resolver: {...} })`: who resolves conflicts when a merge asks for `resolve: "ai"`. */
export const resolverOptionsSchema = z
  .strictObject({
    /** The agent the resolver runs (`agents.<name>`); it must be able to edit files unasked in a folder it has not seen. */
    agent: z.string().min(1, 'an agent name from agents, e.g. "claude"').default("claude"),
    /** The role it is spawned as; the plugin contributes this role unless the config defines it. */
    role: z.string().regex(/^[a-z][a-z0-9]*$/u, "a lowercase word (a role name)").default("resolver"),
    /** Milliseconds the resolver's turn may take before the resolution is rejected (reason "timeout"). */
    timeoutMs: z.int().min(1_000, "at least 1000 ms").default(600_000),
    /** Milliseconds `verify` may run on the resolved tree. */
    verifyTimeoutMs: z.int().min(1_000, "at least 1000 ms").default(600_000),
    /** Your own instructions, added at the end of the resolver's prompt (style rules, files never to touch). */
    prompt: z.string().min(1, "instructions for the resolver (leave the key out for none)").optional(),
  })
  .prefault({});

export type ResolverOptions = z.output<typeof resolverOptionsSchema>;

/** The role the plugin contributes (Plugin.defaultRoles) so the resolver can be spawned with no config change. */
export function resolverRoles(options: ResolverOptions): Record<string, UserRoleConfig> {
  return {
    [options.role]: {
      prefix: "res",
      spawns: [],
      topLevel: true,
      instructions: "You resolve git merge conflicts in a scratch checkout. Edit files only; never commit, abort, reset or check out.",
    },
  };
}
