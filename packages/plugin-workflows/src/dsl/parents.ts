/**
 * The parent rule: which instance each spawn step's instances are children of.
 *
 * `parent: <step>` names it; `parent: caller` names whoever runs the workflow.
 * Otherwise the parent is the nearest spawn step before it in the file, among
 * the steps it depends on (through `needs:`), whose role may spawn its role
 * (`roles.<role>.spawns` in the config). A step that starts several instances
 * cannot be a parent (which one would it be?). When it depends on no spawn
 * step at all, whoever runs the workflow spawns it: at the top level (the
 * role must be `topLevel`) or, run by an instance through MCP, as that
 * instance's children (its role must spawn them). When it depends on spawn
 * steps but none of their roles may spawn its role, that is an error: the
 * file reads as if the step before were its parent, so it is not quietly
 * spawned elsewhere; `parent:` says where it goes.
 */
import type { Settings } from "@tmux-claude/core";
import type { SpawnStep, Workflow } from "../types.js";
import { stepIssue, type WorkflowIssue } from "./errors.js";
import { prerequisites } from "./graph.js";

/** `parent: caller`: spawned by whoever runs the workflow (no step of it is the parent). */
export const CALLER_PARENT = "caller";

/** Who runs the workflow: the root (CLI, kernel API) or an instance with this role, at this depth. */
export interface Caller {
  readonly role: string | null;
  readonly depth: number;
}

export const ROOT_CALLER: Caller = { role: null, depth: 0 };

/** For each spawn step: the step whose instance is its parent, or null for the caller. */
export interface Parents {
  readonly parents: ReadonlyMap<string, string | null>;
  readonly depths: ReadonlyMap<string, number>;
  readonly issues: WorkflowIssue[];
}

export function resolveParents(workflow: Workflow, config: Settings, caller: Caller = ROOT_CALLER): Parents {
  const parents = new Map<string, string | null>();
  const depths = new Map<string, number>();
  const issues: WorkflowIssue[] = [];
  const spawns = workflow.steps.filter((step): step is SpawnStep => step.kind === "spawn");
  const mayParent = (parentRole: string, role: string) => config.roles[parentRole]?.spawns.includes(role) ?? false;
  const issue = (step: SpawnStep, key: string, message: string) => issues.push(stepIssue(workflow, step, key, message));
  const rolesThatMay = (role: string) => Object.entries(config.roles).filter(([, r]) => r.spawns.includes(role)).map(([name]) => name);
  /** Whether whoever runs the workflow may spawn `role` itself, and if not why. */
  const callerRefusal = (role: string): string | undefined => {
    if (caller.role === null) return config.roles[role]!.topLevel ? undefined : `${a(role)} cannot be spawned at the top level (roles.${role}.topLevel is false)`;
    return mayParent(caller.role, role) ? undefined : `the ${caller.role} running the workflow would spawn it, and ${a(caller.role)} may not spawn ${a(role)} (roles.${caller.role}.spawns: ${list(config.roles[caller.role]?.spawns)})`;
  };

  for (const step of spawns) {
    if (!config.roles[step.role]) continue; // reported by the plan with the known roles
    let parent: SpawnStep | undefined;
    if (step.parent === CALLER_PARENT) {
      const refusal = callerRefusal(step.role);
      if (refusal) {
        issue(step, "parent", `parent: caller, but ${refusal}; name a spawn step whose role may spawn it (roles that may: ${list(rolesThatMay(step.role))})`);
        continue;
      }
    } else if (step.parent !== undefined) {
      parent = spawns.find((other) => other.id === step.parent);
      if (parent && !mayParent(parent.role, step.role)) {
        issue(step, "parent", `step "${parent.id}" starts ${a(parent.role)}, and ${a(parent.role)} may not spawn ${a(step.role)} (roles.${parent.role}.spawns: ${list(config.roles[parent.role]?.spawns)}); name another parent or allow it in the config`);
        continue;
      }
    } else {
      const before = prerequisites(workflow.steps, step.id);
      const index = workflow.steps.indexOf(step);
      // A step of an unknown role (reported by the plan) is no candidate: naming it would only add a second, made-up error.
      const earlier = spawns.filter((other) => before.has(other.id) && workflow.steps.indexOf(other) < index && config.roles[other.role] !== undefined);
      parent = earlier.filter((other) => mayParent(other.role, step.role)).at(-1);
      if (parent && parent.count > 1) {
        issue(step, "spawn", `its parent would be step "${parent.id}" (line ${parent.line}), the nearest earlier spawn step whose role (${parent.role}) may spawn ${a(step.role)}, but it starts ${parent.count} instances and a step with several instances cannot be a parent; give this step parent: <a spawn step with one instance>, or split "${parent.id}" into one step per instance`);
        continue;
      }
      const nearest = earlier.at(-1);
      if (!parent && nearest) {
        const refusal = callerRefusal(step.role);
        const viaCaller = refusal ? "" : `, parent: caller to have ${caller.role === null ? "it spawned at the top level" : `the calling ${caller.role} spawn it`}`;
        issue(step, "spawn", `no spawn step before it may spawn ${a(step.role)}: the nearest, "${nearest.id}" (line ${nearest.line}), starts ${a(nearest.role)}, and ${a(nearest.role)} may not spawn ${a(step.role)} (roles.${nearest.role}.spawns: ${list(config.roles[nearest.role]?.spawns)}); give this step parent: <a spawn step of a role that may (${list(rolesThatMay(step.role))})>${viaCaller}, or add ${step.role} to roles.${nearest.role}.spawns`);
        continue;
      }
      if (!parent) {
        const refusal = callerRefusal(step.role);
        if (refusal) {
          issue(step, "spawn", `no earlier spawn step it depends on may spawn ${a(step.role)} (roles that may: ${list(rolesThatMay(step.role))}), and ${refusal}; add a spawn step of one of those roles before it${caller.role === null ? `, or set roles.${step.role}.topLevel: true` : ""}`);
          continue;
        }
      }
    }
    if (parent) {
      parents.set(step.id, parent.id);
      depths.set(step.id, (depths.get(parent.id) ?? caller.depth + 1) + 1);
    } else {
      parents.set(step.id, null);
      depths.set(step.id, caller.depth + 1);
    }
    const depth = depths.get(step.id)!;
    if (depth > config.limits.maxDepth) {
      issue(step, "spawn", `its instances would be at depth ${depth}, over limits.maxDepth (${config.limits.maxDepth}); spawn them higher in the tree or raise limits.maxDepth`);
    }
  }
  return { parents, depths, issues };
}

/** "a manager", "an executive". */
function a(role: string): string {
  return `${/^[aeiou]/iu.test(role) ? "an" : "a"} ${role}`;
}

function list(names: readonly string[] | undefined): string {
  return names && names.length > 0 ? names.join(", ") : "nothing";
}
