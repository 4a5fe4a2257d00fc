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
 * recorded source and step lines (the original file's) where they are sound.
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
  const lines = Array.isArray(source.steps) ? source.steps.map((step) => (isDoc(step) && Number.isInteger(step.line) ? (step.line as number) : undefined)) : [];
  // The parsed positions are the re-written text's: the recorded ones (the original file's, as its lines) where they are sound, else none.
  const { positions: _rewritten, ...rest } = parsed;
  const positions = soundPositions(source.positions);
  return {
    ...rest,
    source: typeof source.source === "string" ? source.source : parsed.source,
    steps: parsed.steps.map((step, index) => ({ ...step, line: lines[index] ?? step.line })),
    ...(positions ? { positions } : {}),
  };
}

function soundPositions(value: unknown): Workflow["positions"] {
  if (!isDoc(value)) return undefined;
  const sound = Object.values(value).every((at) => isDoc(at) && Number.isInteger(at.line) && Number.isInteger(at.column));
  return sound ? (value as Workflow["positions"]) : undefined;
}

function workflowDocument(workflow: Doc): Doc {
  const { name, description, vars, completion, timeoutMs, steps, source: _source, positions: _positions, ...rest } = workflow;
  const declared = isDoc(vars) ? Object.fromEntries(Object.entries(vars).map(([key, value]) => [key, value ?? null])) : vars;
  return defined({ workflow: name, description, vars: declared, completion, timeout: timeoutMs, steps: Array.isArray(steps) ? steps.map(stepDocument) : steps, ...rest });
}

/** One step as a file writes it; keys it should not have stay, so they are refused by name. */
function stepDocument(step: unknown): unknown {
  if (!isDoc(step)) return step;
  const { kind, id, needs, timeoutMs, line: _line, ...rest } = step;
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
      const { strategy, ...more } = rest;
      return defined({ merge: strategy, ...common, ...more });
    }
    case "run": {
      const { command, ...more } = rest;
      return defined({ run: command, ...common, ...more });
    }
    default:
      return defined({ ...common, ...rest, kind });
  }
}
