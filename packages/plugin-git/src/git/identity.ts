// Who the plugin's own commits (auto-commit, merges, resolutions) are by.
import { runGit } from "./run.js";

/** Used only when the repository has no identity configured: a commit must have an author, and a fresh machine may have none. */
export const FALLBACK_IDENTITY = { name: "tmux-claude", email: "tmux-claude@localhost" } as const;

/** The plugin as author and committer, as git's environment (also for commits that must say the plugin made them: a stash). */
export const PLUGIN_IDENTITY_ENV: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: FALLBACK_IDENTITY.name,
  GIT_AUTHOR_EMAIL: FALLBACK_IDENTITY.email,
  GIT_COMMITTER_NAME: FALLBACK_IDENTITY.name,
  GIT_COMMITTER_EMAIL: FALLBACK_IDENTITY.email,
};

/**
 * `env` plus an author and committer when git would otherwise refuse to commit
 * ("Please tell me who you are"): the user's own identity always wins.
 */
export async function withIdentity(repo: string, env: Readonly<Record<string, string>> = {}): Promise<Record<string, string>> {
  const configured = await runGit(repo, ["config", "--get", "user.email"], { ok: [0, 1] });
  if (configured.code === 0) return { ...env };
  return { ...PLUGIN_IDENTITY_ENV, ...env };
}
