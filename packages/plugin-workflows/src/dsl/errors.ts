/**
 * The errors of reading a workflow: every problem found in one pass, each
 * with its place in the file, so a user fixes them all at once.
 */
import { defineErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
import type { Step, Workflow } from "../types.js";

export const WorkflowDslErrors = defineErrorCodes("workflows", {
  /** The file is not YAML, or not a valid workflow (kind usage: the CLI exits 2). */
  INVALID: { code: "TC_WORKFLOW_INVALID", kind: "usage" },
  /** The workflow does not fit the kernel's config (roles, spawn rules, limits) or its variables. */
  REJECTED: { code: "TC_WORKFLOW_REJECTED", kind: "usage" },
  /** `--template <name>` names no shipped template. */
  TEMPLATE_NOT_FOUND: { code: "TC_WORKFLOW_TEMPLATE_NOT_FOUND", kind: "not-found" },
});

/** One problem, where it is and what to do. */
export interface WorkflowIssue {
  /** 1-based; undefined when the problem has no place (an empty file). */
  readonly line?: number;
  readonly column?: number;
  /** Key path such as `steps[1].count`, or "" for the document. */
  readonly path: string;
  /** What was found and what is allowed. */
  readonly message: string;
}

/** `feature.yaml:3:5: steps[0].count: expected ...` */
export function formatIssue(source: string, issue: WorkflowIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}${issue.column === undefined ? "" : `:${issue.column}`}`;
  return `${where}: ${issue.path === "" ? "" : `${issue.path}: `}${issue.message}`;
}

/** All the problems of one file as one error (code TC_WORKFLOW_INVALID or TC_WORKFLOW_REJECTED). */
export function workflowError(code: `TC_${string}`, source: string, issues: readonly WorkflowIssue[], heading: string): TmuxClaudeError {
  const lines = issues.map((issue) => `  ${formatIssue(source, issue)}`);
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  return new TmuxClaudeError(code, `${heading} ${source} (${count}):\n${lines.join("\n")}`, { source, issues: [...issues] });
}

/** An issue about a key of a parsed step (checked against the config): at that key's value, else at the step. */
export function stepIssue(workflow: Workflow, step: Step, key: string, message: string): WorkflowIssue {
  const at = step.positions?.[key];
  return { line: at?.line ?? step.line, ...(at ? { column: at.column } : {}), path: `steps[${workflow.steps.indexOf(step)}].${key}`, message };
}
