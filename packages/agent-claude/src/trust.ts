// Folder trust for an instance a plugin moved (e.g. into a git worktree):
// the worktree is a new path Claude Code has never seen, but the user trusted
// the directory it was made from. That trust, read from the Claude config the
// instance runs with, answers the dialog for the new path.
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** The global config Claude Code reads: `$CLAUDE_CONFIG_DIR/.claude.json`, else `~/.claude.json`. */
export function claudeConfigFile(env: Readonly<Record<string, string | undefined>>): string {
  if (env.CLAUDE_CONFIG_DIR) return path.join(env.CLAUDE_CONFIG_DIR, ".claude.json");
  return path.join(env.HOME || os.homedir(), ".claude.json");
}

/**
 * Did the user accept Claude Code's folder-trust dialog for `dir` or a
 * directory above it (trust covers everything below), in the config the
 * instance runs with? A missing or unreadable config trusts nothing.
 */
export async function isTrustedDir(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<boolean> {
  const text = await readFile(claudeConfigFile(env), "utf8").catch(() => undefined);
  if (text === undefined) return false;
  let projects: Record<string, { hasTrustDialogAccepted?: unknown } | undefined>;
  try {
    projects = (JSON.parse(text) as { projects?: typeof projects }).projects ?? {};
  } catch {
    return false;
  }
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (projects[current]?.hasTrustDialogAccepted === true) return true;
    if (path.dirname(current) === current) return false;
  }
}
