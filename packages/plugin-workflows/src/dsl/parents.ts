/**
 * The parent rule: which instance each spawn step's instances are children of.
 *
 * `parent: <step>` names it. Otherwise the parent is the nearest spawn step
 * before it in the file, among the steps it depends on (through `needs:`),
 * whose role may spawn its role (`roles.<role>.spawns` in the config). A step
 * that starts several instances cannot be a parent (which one would it be?).
 * With no such step the instances are spawned by whoever runs the workflow:
 * at the top level (the role must be `topLevel`) or, run by an instance
 * through MCP, as that instance's children (its role must spawn them).
 */
import type { Settings } from "@tmux-claude/core";
import type { SpawnStep, Step, Workflow } from "../types.js";
import type { WorkflowIssue } from "./errors.js";
import { prerequisites } from "./graph.js";

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
  const issue = (step: Step, key: string, message: string) =>
    issues.push({ line: step.line, path: `steps[${workflow.steps.indexOf(step)}].${key}`, message });

  for (const step of spawns) {
    if (!config.roles[step.role]) continue; // reported by the plan with the known roles
    let parent: SpawnStep | undefined;
    if (step.parent !== undefined) {
      parent = spawns.find((other) => other.id === step.parent);
      if (parent && !mayParent(parent.role, step.role)) {
        issue(step, "parent", `step "${parent.id}" starts ${a(parent.role)}, and ${a(parent.role)} may not spawn ${a(step.role)} (roles.${parent.role}.spawns: ${list(config.roles[parent.role]?.spawns)}); name another parent or allow it in the config`);
        continue;
      }
    } else {
      const before = prerequisites(workflow.steps, step.id);
      const index = workflow.steps.indexOf(step);
      parent = spawns.filter((other) => before.has(other.id) && workflow.steps.indexOf(other) < index && mayParent(other.role, step.role)).at(-1);
      if (parent && parent.count > 1) {
        issue(step, "spawn", `its parent would be step "${parent.id}" (line ${parent.line}), the nearest earlier spawn step whose role (${parent.role}) may spawn ${a(step.role)}, but it starts ${parent.count} instances and a step with several instances cannot be a parent; give this step parent: <a spawn step with one instance>, or split "${parent.id}" into one step per instance`);
        continue;
      }
    }
    if (parent) {
      parents.set(step.id, parent.id);
      depths.set(step.id, (depths.get(parent.id) ?? caller.depth + 1) + 1);
    } else if (caller.role === null && !config.roles[step.role]!.topLevel) {
      const may = Object.entries(config.roles).filter(([, role]) => role.spawns.includes(step.role)).map(([name]) => name);
      issue(step, "spawn", `no earlier spawn step it depends on may spawn ${a(step.role)} (roles that may: ${list(may)}), and ${a(step.role)} cannot be spawned at the top level (roles.${step.role}.topLevel is false); add a spawn step of one of those roles before it, or set roles.${step.role}.topLevel: true`);
      continue;
    } else if (caller.role !== null && !mayParent(caller.role, step.role)) {
      issue(step, "spawn", `no earlier spawn step it depends on may spawn ${a(step.role)}, so the ${caller.role} running the workflow would, and ${a(caller.role)} may not spawn ${a(step.role)} (roles.${caller.role}.spawns: ${list(config.roles[caller.role]?.spawns)}); add a spawn step of a role that may before it`);
      continue;
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
