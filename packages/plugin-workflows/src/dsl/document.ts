/**
 * A parsed workflow back in the shape of a file (every default written out),
 * and validated again as a file is: `run --from <run>` starts a new run from
 * the workflow its journal recorded, which is only JSON on disk and may have
 * been edited or damaged since.
 */
import { stringify } from "yaml";
import type { Workflow } from "../types.js";
import { WorkflowDslErrors, workflowError, type WorkflowIssue } from "./errors.js";
import { parseWorkflow } from "./parse.js";

type Doc = Record<string, unknown>;

const isDoc = (value: unknown): value is Doc => typeof value === "object" && value !== null && !Array.isArray(value);

/** Leaves out what is undefined (the file had no such key). */
const defined = (doc: Doc): Doc => Object.fromEntries(Object.entries(doc).filter(([, value]) => value !== undefined));

/**
 * `recorded` (a Workflow as a journal holds it, or anything) checked as a
 * file would be; `origin` names where it came from. The result keeps the
 * recorded source, step lines and key positions (the original file's) where
 * they are sound; positions that are not are left out (the re-written text's
 * would point into a file nobody has).
 * Throws TC_WORKFLOW_INVALID listing each problem by its key.
 */
export function reparseWorkflow(recorded: unknown, origin: string): Workflow {
  const source = isDoc(recorded) ? recorded : {};
  let parsed: Workflow;
  try {
    parsed = parseWorkflow(stringify(workflowDocument(source)), origin);
  } catch (error) {
    const issues = (error as { details?: { issues?: WorkflowIssue[] } }).details?.issues;
    if (!issues) throw error;
    // The lines are the re-written text's, which nobody has: the key path says where.
    throw workflowError(WorkflowDslErrors.INVALID, origin, issues.map(({ path, message }) => ({ path, message })), "The recorded workflow was changed or damaged since it ran (start it from its file instead):");
  }
  const recordedSteps: unknown[] = Array.isArray(source.steps) ? source.steps : [];
  const { varPositions: _rewrittenVars, ...whole } = parsed;
  const varPositions = soundPositions(source.varPositions);
  return {
    ...whole,
    ...(varPositions ? { varPositions } : {}),
    source: typeof source.source === "string" ? source.source : parsed.source,
    steps: parsed.steps.map((step, index) => {
      const { positions: _rewritten, ...rest } = step;
      const recordedStep = recordedSteps[index];
      const line = isDoc(recordedStep) && isLine(recordedStep.line) ? recordedStep.line : step.line;
      const positions = isDoc(recordedStep) ? soundPositions(recordedStep.positions) : undefined;
      return { ...rest, line, ...(positions ? { positions } : {}) };
    }),
  };
}

const isLine = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;

/** Recorded positions (a step's keys, the variables) when every one is a line and column; else none. */
function soundPositions(value: unknown): Record<string, { line: number; column: number }> | undefined {
  if (!isDoc(value)) return undefined;
  const entries = Object.entries(value);
  return entries.every(([, at]) => isDoc(at) && isLine(at.line) && isLine(at.column)) ? (value as Record<string, { line: number; column: number }>) : undefined;
}

function workflowDocument(workflow: Doc): Doc {
  const { name, description, vars, completion, timeoutMs, steps, source: _source, varPositions: _varPositions, ...rest } = workflow;
  const declared = isDoc(vars) ? Object.fromEntries(Object.entries(vars).map(([key, value]) => [key, value ?? null])) : vars;
  return defined({ workflow: name, description, vars: declared, completion, timeout: timeoutMs, steps: Array.isArray(steps) ? steps.map(stepDocument) : steps, ...rest });
}

/** One step as a file writes it; keys it should not have stay, so they are refused by name. */
function stepDocument(step: unknown): unknown {
  if (!isDoc(step)) return step;
  // line and positions are the original file's, kept aside (reparseWorkflow), not keys of a step.
  const { kind, id, needs, timeoutMs, line: _line, positions, ...rest } = step;
  const common = { id, needs, timeout: timeoutMs };
  switch (kind) {
    case "spawn": {
      const { role, tasks, count, ...more } = rest;
      const list = Array.isArray(tasks) && tasks.length > 0 ? tasks : undefined;
      // The parser sets count to the number of tasks: written only when it says more.
      return defined({ spawn: role, ...common, ...more, tasks: list ?? (Array.isArray(tasks) ? undefined : tasks), count: list && count === list.length ? undefined : count });
    }
    case "send": {
      const { to, ...more } = rest;
      return defined({ send: to, ...common, ...more });
    }
    case "wait": {
      const { for: target, ...more } = rest;
      return defined({ wait: target, ...common, ...more });
    }
    case "merge": {
      const { strategy, spec, from, ...more } = rest;
      if (strategy !== "spec") return defined({ merge: strategy, ...common, from, spec, ...more });
      // The spec form: from: where the file had it, beside merge: or inside it.
      const outside = isDoc(positions) && positions.from !== undefined;
      return defined({ merge: isDoc(spec) ? defined({ ...spec, from: outside ? undefined : from }) : spec, ...common, from: outside ? from : undefined, ...more });
    }
    case "run": {
      const { command, ...more } = rest;
      return defined({ run: command, ...common, ...more });
    }
    default:
      return defined({ ...common, ...rest, kind });
  }
}
