import path from "node:path";
import type { ConfigIssue } from "../config/issues.js";
import type { Settings } from "../config/schema.js";
import type { InstanceRecord } from "../store/types.js";
import type { StateStore } from "../store/store-contract.js";
import type { ManagerDeps } from "./deps.js";
import { agentForRole } from "./spawn-policy.js";

/**
 * Warm pools (config `pool`): idle, ready instances of a role kept under
 * every running instance whose role may spawn it, so that a spawn that fits
 * takes one (a store update, atomic across processes) instead of starting a
 * process. Pooled instances are ordinary instances with `pooled` set on
 * their record: they count toward limits.maxInstances, show in `list`, and
 * end with their parent.
 *
 * Who fills: `serve` only (WarmStart), every pool of its node when it
 * starts, then whenever it sees a pool made short (a take, a parent that
 * became ready, a pooled instance that died), from any process. A one-shot
 * process (the CLI) takes from pools but never fills them, so it neither
 * waits for a launch at its exit nor delays Ctrl-C; without serve a spawn is
 * cold unless a pooled instance is there. The count is checked under the
 * spawn lock, so kernels filling the same pool at once never overfill it.
 */

/** One role's pool as configured, with its agent resolved. */
export interface PoolSpec {
  role: string;
  count: number;
  agent: string;
  /** "parent": under every instance that may spawn the role; "node": top-level instances of this node in `workDir`. */
  per: "parent" | "node";
  workDir?: string;
}

/** One pool: a role's idle instances under one parent (null: this node's top level), in one workDir. */
export interface PoolPlace extends PoolSpec {
  parentId: string | null;
  workDir: string;
}

/** The pools of the config, with agents resolved (count 0 pools left out). */
export function poolSpecs(config: Settings, configPath: string | null): PoolSpec[] {
  return Object.entries(config.pool).flatMap(([role, entry]) => {
    const { count, agent, per, workDir } = normalized(entry);
    // An agent the role may not run is a config error at start (poolIssues), not here.
    return count > 0 ? [{ role, count, per, agent: agent ?? agentForRole(config, role, undefined, configPath), ...(workDir !== undefined ? { workDir } : {}) }] : [];
  });
}

function normalized(entry: Settings["pool"][string]): { count: number; agent?: string; per: "parent" | "node"; workDir?: string } {
  return typeof entry === "number" ? { count: entry, per: "parent" } : entry;
}

/** What is wrong with `pool` (checked at kernel start, so a mistake fails there naming the key). */
export function poolIssues(config: Settings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const max = config.limits.maxInstances;
  for (const [role, entry] of Object.entries(config.pool)) {
    const key = `pool.${role}`;
    const { count, agent, per, workDir } = normalized(entry);
    if (!config.roles[role]) {
      issues.push({ path: key, message: `"${role}" is not a role (roles: ${Object.keys(config.roles).join(", ")}); pool a configured role or fix the name`, value: JSON.stringify(entry) });
      continue;
    }
    if (count > max) {
      issues.push({
        path: typeof entry === "number" ? key : `${key}.count`,
        message: `a pool of ${count} idle instances is larger than limits.maxInstances (${max}); lower the pool to ${max} or less, or raise limits.maxInstances`,
        value: JSON.stringify(count),
      });
    }
    if (per === "node" && workDir === undefined) {
      issues.push({ path: `${key}.workDir`, message: 'missing; a pool per node keeps top-level instances in this directory: give one (relative to the config file)', value: undefined });
    } else if (per === "parent" && workDir !== undefined) {
      issues.push({ path: `${key}.workDir`, message: 'only for per: "node"; a pool per parent works in each parent\'s workDir: leave it out or set per: "node"', value: JSON.stringify(workDir) });
    }
    if (per === "node" && !config.roles[role].topLevel) {
      issues.push({ path: `${key}.per`, message: `a pool per node keeps top-level instances, and a ${role} may not be spawned at the top level (roles.${role}.topLevel is false); set it to true or use per: "parent"`, value: '"node"' });
    }
    if (per === "parent" && count > 0 && !Object.values(config.roles).some((r) => r.spawns.includes(role))) {
      issues.push({ path: key, message: `no role may spawn a ${role} (roles.<role>.spawns), so its pool, kept under each parent, would never fill; add "${role}" to a role's spawns or remove the pool`, value: JSON.stringify(entry) });
    }
    const allowed = config.roles[role].agents;
    if (agent !== undefined && !Object.hasOwn(config.agents, agent)) {
      issues.push({ path: `${key}.agent`, message: `"${agent}" is not a configured agent (agents: ${Object.keys(config.agents).join(", ")}); define it under agents or fix the name`, value: JSON.stringify(agent) });
    } else if (agent !== undefined && allowed && !allowed.includes(agent)) {
      issues.push({ path: `${key}.agent`, message: `a ${role} may not run "${agent}" (roles.${role}.agents allows ${allowed.join(", ")}); pool one of those`, value: JSON.stringify(agent) });
    }
  }
  // Each pool alone may fit while together they fill every place (one parent's pools, or the node's).
  const counts = Object.values(config.pool).map((entry) => normalized(entry).count);
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (counts.length > 1 && total > max && counts.every((count) => count <= max)) {
    issues.push({ path: "pool", message: `the pools keep ${total} idle instances together, more than limits.maxInstances (${max}); lower them to ${max} or less in all, or raise limits.maxInstances`, value: JSON.stringify(config.pool) });
  }
  return issues;
}

/** This node's top-level pools (per "node"). */
export function nodePlaces(specs: readonly PoolSpec[]): PoolPlace[] {
  return specs.filter((spec) => spec.per === "node").map((spec) => ({ ...spec, parentId: null, workDir: spec.workDir! }));
}

/** The pools under one instance: one per pooled role its role may spawn (none under a pooled or exited instance). */
export function placesUnder(specs: readonly PoolSpec[], config: Settings, record: InstanceRecord): PoolPlace[] {
  // A parent still starting may yet fail and be removed: its pools are filled once its spawn succeeded.
  if (record.pooled || record.status === "exited" || record.status === "starting" || record.terminatedAt) return [];
  const spawns = config.roles[record.role]?.spawns ?? [];
  return specs.filter((spec) => spec.per === "parent" && spawns.includes(spec.role)).map((spec) => ({ ...spec, parentId: record.id, workDir: record.workDir }));
}

/** Is `record` one of this place's instances (ready or still starting)? */
export function inPlace(record: InstanceRecord, place: { role: string; agent: string; parentId: string | null }): boolean {
  return record.pooled !== undefined && record.status !== "exited" && !record.terminatedAt && record.role === place.role && record.agent === place.agent && record.parentId === place.parentId;
}

/** Where a spawn asked to work: a plugin may have moved the instance (a git worktree), its origin is what the spawn named. */
export function requestedWorkDir(record: InstanceRecord): string {
  return record.workDirOrigin ?? record.workDir;
}

/** The fields a take or a reuse gives the instance: the new spawn's name and budget. */
export function asSpawned(record: InstanceRecord, spawn: { name: string | undefined; budget: InstanceRecord["budget"] }): InstanceRecord {
  const { pooled: _pooled, reusing: _reusing, budget: _budget, name: _name, ...rest } = record;
  return { ...rest, ...(spawn.name !== undefined ? { name: spawn.name } : {}), ...(spawn.budget ? { budget: spawn.budget } : {}), updatedAt: new Date().toISOString() };
}

export interface TakeRequest {
  role: string;
  agent: string;
  parentId: string | null;
  workDir: string;
  name: string | undefined;
  budget: InstanceRecord["budget"];
  caller: string | null;
}

/** Why a plugin (hook `beforeTake`) passes `candidate` over for this spawn, or undefined: it may serve it. */
export async function takeRefused(deps: ManagerDeps, candidate: InstanceRecord, request: TakeRequest, source: "pool" | "reuse"): Promise<string | undefined> {
  const { role, parentId, agent, workDir, name, caller, budget } = request;
  const reason = await deps.hooks.beforeTake.promise({ instance: candidate, source, role, parentId, agent, workDir, name, caller, budget });
  if (reason !== undefined) deps.logger.debug({ instance: candidate.id, source, reason }, "a plugin passed a running instance over");
  return reason;
}

/**
 * Take an idle pooled instance that fits the request, in one store update
 * per candidate (the updater removes `pooled` only while it is still set and
 * the instance idle: of two processes taking at once, one wins it).
 */
export async function takePooled(deps: ManagerDeps, request: TakeRequest): Promise<InstanceRecord | undefined> {
  const { store, nodes } = deps;
  const all = await store.list();
  const parent = request.parentId === null ? undefined : all.find((r) => r.id === request.parentId);
  // A held parent (its budget crossed, paused by hand) gets no free instance: a cold spawn goes through every plugin's checks.
  if (request.parentId !== null && (!parent || parent.hold)) return undefined;
  const wanted = path.resolve(request.workDir);
  const candidates = all
    .filter((r) => inPlace(r, request) && r.status === "idle" && !r.hold && nodes.owns(r) && requestedWorkDir(r) === wanted)
    .sort((a, b) => a.pooled!.since.localeCompare(b.pooled!.since));
  for (const candidate of candidates) {
    if ((await takeRefused(deps, candidate, request, "pool")) !== undefined) continue;
    let won = false;
    const taken = await store.update(candidate.id, (r) => {
      won = r.pooled !== undefined && r.status === "idle" && !r.terminatedAt;
      return won ? asSpawned(r, request) : r;
    });
    if (won && taken) return taken;
  }
  return undefined;
}

/**
 * This node's pooled instances no pool wants any more (what serve's start
 * ends): dead ones, those of a parent not running, of a role, agent or place
 * no longer pooled, and those beyond a pool's count (a pool lowered in the
 * config; the oldest are kept).
 */
export function unwantedPooled(specs: readonly PoolSpec[], config: Settings, all: readonly InstanceRecord[], owns: (record: InstanceRecord) => boolean): InstanceRecord[] {
  const running = new Map(all.filter((r) => r.status !== "exited").map((r) => [r.id, r]));
  const wanted = new Map<string, number>();
  for (const place of nodePlaces(specs)) wanted.set(placeKey(place, place.workDir), place.count);
  for (const parent of running.values()) for (const place of placesUnder(specs, config, parent)) wanted.set(placeKey(place, null), place.count);
  const kept = new Map<string, number>();
  const pooled = all.filter((r) => r.pooled && !r.terminatedAt && owns(r)).sort((a, b) => a.pooled!.since.localeCompare(b.pooled!.since));
  return pooled.filter((r) => {
    if (r.status === "exited" || (r.parentId !== null && !running.has(r.parentId))) return true;
    const key = placeKey(r, r.parentId === null ? requestedWorkDir(r) : null);
    const count = (kept.get(key) ?? 0) + 1;
    kept.set(key, count);
    return count > (wanted.get(key) ?? 0);
  });
}

/** A pool's identity: role, agent and parent (and, at a node's top level, the workDir). */
function placeKey(place: { role: string; agent: string; parentId: string | null }, workDir: string | null): string {
  return JSON.stringify([place.role, place.agent, place.parentId, workDir === null ? null : path.resolve(workDir)]);
}

/**
 * At limits.maxInstances a spawn with work to do gets the place of the oldest
 * idle pooled instance of this node (a spare must never keep real work out):
 * marked terminating in the store under the spawn lock, so no spawn takes it
 * and it counts no more toward this spawn's limit; the caller then ends it.
 * Undefined when there is no such spare.
 */
export async function retireSparePooled(store: StateStore, live: InstanceRecord[], owns: (record: InstanceRecord) => boolean): Promise<InstanceRecord | undefined> {
  const spares = live.filter((r) => r.pooled && r.status === "idle" && !r.terminatedAt && owns(r)).sort((a, b) => a.pooled!.since.localeCompare(b.pooled!.since));
  for (const spare of spares) {
    let won = false;
    const at = new Date().toISOString();
    await store.update(spare.id, (r) => {
      won = r.pooled !== undefined && r.status === "idle" && !r.terminatedAt;
      return won ? { ...r, terminatedAt: at } : r;
    });
    if (won) {
      live.splice(live.findIndex((r) => r.id === spare.id), 1);
      return spare;
    }
  }
  return undefined;
}
