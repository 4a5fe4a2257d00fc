import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { ResolvedConfig, RoleConfig } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";

/**
 * What a role allows its instances to be spawned with, checked by the kernel at
 * every spawn (so the CLI, the API and every MCP caller get the same answer):
 *
 * - `roles.<role>.agents`: the agents an instance of the role may run (default:
 *   any). A spawn that names no agent gets `defaultAgent` when it is allowed,
 *   else the first agent of the list.
 * - a child's workDir lies inside its parent's (both resolved with realpath, so
 *   `..` and symlinks cannot leave it) unless `roles.<role>.workDirOutsideParent`
 *   is true. Top-level instances have no parent and no such limit.
 */

/** The agent a spawn of `role` runs when it names `requested` (or none). */
export function agentForRole(config: ResolvedConfig, role: string, requested: string | undefined, configPath: string | null): string {
  const allowed = config.roles[role]?.agents;
  if (requested === undefined) return !allowed || allowed.includes(config.defaultAgent) ? config.defaultAgent : allowed[0]!;
  if (allowed && !allowed.includes(requested)) {
    throw new TmuxClaudeError(
      ErrorCodes.AGENT_NOT_ALLOWED,
      `A ${role} may not run agent "${requested}": roles.${role}.agents allows ${allowed.map((a) => `"${a}"`).join(", ")}. ` +
        `Spawn it with one of those, or add "${requested}" to roles.${role}.agents in ${configPath ?? "your config"}.`,
      { role, agent: requested, allowed },
    );
  }
  return requested;
}

/** The directory an agent works in exists and is a directory. */
export async function assertDirectory(dir: string): Promise<void> {
  if (typeof dir !== "string" || dir === "") {
    throw new TmuxClaudeError(ErrorCodes.WORKDIR_INVALID, "workDir is required: the directory the agent works in.");
  }
  const info = await stat(dir).catch(() => undefined);
  if (!info) {
    throw new TmuxClaudeError(ErrorCodes.WORKDIR_INVALID, `workDir "${dir}" does not exist. Create it or pass an existing directory.`, { workDir: dir });
  }
  if (!info.isDirectory()) {
    throw new TmuxClaudeError(ErrorCodes.WORKDIR_INVALID, `workDir "${dir}" is not a directory. Pass the directory the agent should work in.`, { workDir: dir });
  }
}

/** Refuse a child whose workDir leaves its parent's, unless its role allows it. */
export async function assertWorkDirAllowed(role: string, roleConfig: RoleConfig, workDir: string, parent: InstanceRecord | undefined): Promise<void> {
  if (!parent || roleConfig.workDirOutsideParent) return;
  const [child, base] = await Promise.all([realOrResolved(workDir), realOrResolved(parent.workDir)]);
  if (isInside(child, base)) return;
  const real = child === path.resolve(workDir) ? "" : ` (real path "${child}")`;
  throw new TmuxClaudeError(
    ErrorCodes.WORKDIR_NOT_ALLOWED,
    `A ${role} must work inside its parent's workDir: "${workDir}"${real} is outside "${parent.workDir}" of "${parent.id}". ` +
      `Spawn it in ${parent.workDir} or below, or set roles.${role}.workDirOutsideParent: true in your config to allow any directory.`,
    { role, workDir, realWorkDir: child, parentId: parent.id, parentWorkDir: parent.workDir },
  );
}

/** Every agent a role lists exists, so a typo fails when the kernel starts, naming the key. */
export function roleAgentIssues(config: ResolvedConfig): { path: string; message: string; value: string }[] {
  const known = Object.keys(config.agents);
  const issues: { path: string; message: string; value: string }[] = [];
  for (const [role, roleConfig] of Object.entries(config.roles)) {
    (roleConfig.agents ?? []).forEach((agent, index) => {
      if (!known.includes(agent)) {
        issues.push({
          path: `roles.${role}.agents[${index}]`,
          message: `"${agent}" is not a configured agent (agents: ${known.join(", ")}); define it under agents or fix the name`,
          value: JSON.stringify(agent),
        });
      }
    });
  }
  return issues;
}

async function realOrResolved(dir: string): Promise<string> {
  return realpath(dir).catch(() => path.resolve(dir));
}

function isInside(child: string, base: string): boolean {
  const relative = path.relative(base, child);
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}
