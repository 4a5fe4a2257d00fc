/** A workflow's variables: declared under `vars:`, given with `--var name=value`. */
import { closest } from "@tmux-claude/core";
import type { Workflow } from "../types.js";
import type { WorkflowIssue } from "./errors.js";

/** `--var goal="Add a cart"` as typed: name and value split at the first "=". */
export function parseVarArgument(argument: string): { name: string; value: string } | undefined {
  const eq = argument.indexOf("=");
  if (eq <= 0) return undefined;
  return { name: argument.slice(0, eq).trim(), value: argument.slice(eq + 1) };
}

/**
 * Every declared variable's value: given, else its default. A given name the
 * workflow does not declare, or a declared one without default or value, is an issue.
 */
export function resolveVars(workflow: Workflow, given: Readonly<Record<string, string>>): { vars: Record<string, string>; issues: WorkflowIssue[] } {
  const declared = Object.keys(workflow.vars);
  const issues: WorkflowIssue[] = [];
  for (const name of Object.keys(given)) {
    if (declared.includes(name)) continue;
    const guess = closest(name, declared);
    const known = declared.length > 0 ? `it declares ${declared.join(", ")}` : "it declares none";
    issues.push({ path: `--var ${name}`, message: `workflow "${workflow.name}" has no variable "${name}" (${known})${guess ? ` (did you mean "${guess}"?)` : ""}; declare it under vars: or drop --var ${name}` });
  }
  const vars: Record<string, string> = {};
  for (const name of declared) {
    const value = given[name] ?? workflow.vars[name];
    if (value === undefined) issues.push({ ...workflow.varPositions?.[name], path: `vars.${name}`, message: `variable "${name}" has no default and no value was given; pass --var ${name}="..."` });
    else vars[name] = value;
  }
  return { vars, issues };
}
