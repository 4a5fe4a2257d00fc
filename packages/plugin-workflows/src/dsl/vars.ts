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

/** Where the values come from, so a message says how to give one: the CLI's `--var`, or `vars` of the MCP tool run_workflow. */
export type VarsFrom = "cli" | "run_workflow";

/**
 * Every declared variable's value: given, else its default. A given name the
 * workflow does not declare, or a declared one without default or value, is an issue.
 */
export function resolveVars(workflow: Workflow, given: Readonly<Record<string, string>>, from: VarsFrom = "cli"): { vars: Record<string, string>; issues: WorkflowIssue[] } {
  const declared = Object.keys(workflow.vars);
  const issues: WorkflowIssue[] = [];
  for (const name of Object.keys(given)) {
    if (declared.includes(name)) continue;
    const guess = closest(name, declared);
    const known = declared.length > 0 ? `it declares ${declared.join(", ")}` : "it declares none";
    const drop = from === "cli" ? `drop --var ${name}` : `drop "${name}" from vars`;
    issues.push({ path: from === "cli" ? `--var ${name}` : `vars.${name}`, message: `workflow "${workflow.name}" has no variable "${name}" (${known})${guess ? ` (did you mean "${guess}"?)` : ""}; declare it under vars: or ${drop}` });
  }
  const vars: Record<string, string> = {};
  for (const name of declared) {
    const value = given[name] ?? workflow.vars[name];
    const give = from === "cli" ? `pass --var ${name}="..."` : `give it in run_workflow's vars: {"${name}": "..."}`;
    if (value === undefined) issues.push({ ...workflow.varPositions?.[name], path: `vars.${name}`, message: `variable "${name}" has no default and no value was given; ${give}` });
    else vars[name] = value;
  }
  return { vars, issues };
}
