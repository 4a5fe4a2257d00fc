import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { RoleConfig, Settings } from "../config/schema.js";
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

/** Where a requested spawn sits in the hierarchy, once the role rules allow it. */
export interface SpawnPlace {
  roleConfig: RoleConfig;
  parentId: string | null;
  depth: number;
}

/**
 * The role rules (pure): the role exists, its parent (if any) has not exited
 * and may spawn it, a parentless spawn is of a top-level role, and the depth
 * stays within limits.maxDepth.
 */
export function placeSpawn(config: Settings, role: string, requestedParentId: string | null | undefined, parent: InstanceRecord | undefined): SpawnPlace {
  const roleConfig = knownRole(config, role);
  if (requestedParentId === "") {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, "parentId is empty. Give the parent's id, or null (leave it out) for a top-level instance.");
  }
  const parentId = requestedParentId ?? null;
  let depth = 1;
  if (parent) {
    if (parent.status === "exited") {
      throw new TmuxClaudeError(ErrorCodes.INSTANCE_EXITED, `Parent instance "${parent.id}" has exited; restart it or spawn under another parent.`, { id: parent.id });
    }
    const allowed = config.roles[parent.role]?.spawns ?? [];
    if (!allowed.includes(role)) {
      throw new TmuxClaudeError(
        ErrorCodes.ROLE_NOT_ALLOWED,
        `A ${parent.role} ("${parent.id}") may not spawn a ${role}. It may spawn: ${allowed.join(", ") || "nothing"}. Change roles.${parent.role}.spawns in your config to allow it.`,
        { role, parentId: parent.id, parentRole: parent.role },
      );
    }
    depth = parent.depth + 1;
  } else if (!roleConfig.topLevel) {
    throw new TmuxClaudeError(
      ErrorCodes.ROLE_NOT_ALLOWED,
      `A ${role} cannot be spawned at the top level; give a parent (parentId) whose role may spawn it, or set roles.${role}.topLevel to true.`,
      { role },
    );
  }
  if (depth > config.limits.maxDepth) {
    throw new TmuxClaudeError(
      ErrorCodes.MAX_DEPTH,
      `Spawning under "${parentId}" would make depth ${depth}, over limits.maxDepth (${config.limits.maxDepth}). Spawn higher in the tree or raise limits.maxDepth.`,
      { depth, maxDepth: config.limits.maxDepth },
    );
  }
  return { roleConfig, parentId, depth };
}

/** The config of a role that exists. */
export function knownRole(config: Settings, role: string): RoleConfig {
  const roleConfig = config.roles[role];
  if (!roleConfig) {
    throw new TmuxClaudeError(
      ErrorCodes.UNKNOWN_ROLE,
      `Unknown role "${role}". Known roles: ${Object.keys(config.roles).join(", ")}. Use one of them or add it under roles in your config.`,
      { role },
    );
  }
  return roleConfig;
}

/** The agent a spawn of `role` runs when it names `requested` (or none). */
export function agentForRole(config: Settings, role: string, requested: string | undefined, configPath: string | null): string {
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
export function roleAgentIssues(config: Settings): { path: string; message: string; value: string }[] {
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
