/**
 * `parseWorkflow(text, origin)`: YAML to a validated `Workflow` with every
 * default filled in, or one error listing every problem with its line and
 * column. Nothing about the kernel's config is checked here (that is
 * `planWorkflow`): a file is valid or not on its own.
 */
import { closest, formatPath, formatZodIssues, showValue } from "@tmux-claude/core";
import { z } from "zod";
import type { Step, Workflow } from "../types.js";
import { checkSteps } from "./check.js";
import { WorkflowDslErrors, workflowError, type WorkflowIssue } from "./errors.js";
import { mergeSpecStepSchema, STEP_KINDS, STEP_SCHEMAS, VARS_HELP, workflowSchema, type StepKind } from "./schema.js";
import { YamlSource, type Key } from "./source.js";

/** Keys every kind of step may have. */
const COMMON_KEYS = ["id", "needs", "timeout"];

/**
 * Read a workflow. `origin` names it in every message: a file path as the user
 * gave it, or `template:<name>`.
 */
export function parseWorkflow(text: string, origin: string): Workflow {
  const { source, value, issues } = YamlSource.parse(text);
  const fail = (found: readonly WorkflowIssue[]) => workflowError(WorkflowDslErrors.INVALID, origin, found, "Invalid workflow");
  if (issues.length > 0) throw fail(issues);
  if (value === null || value === undefined) {
    throw fail([{ path: "", message: 'the file is empty; a workflow has at least "workflow: <name>" and "steps:" (see tmux-claude templates for examples)' }]);
  }

  const top = workflowSchema.safeParse(value);
  const found = top.success ? [] : zodIssues(source, top.error, value, workflowSchema, []);
  const rawSteps = Array.isArray((value as { steps?: unknown }).steps) ? ((value as { steps: unknown[] }).steps) : [];
  // Each step's id as the file gives it (`step-<n>` without one), also for a step that could not be read: others may name it.
  const rawIds = rawSteps.map((raw, index) => rawField(raw, "id", (id): id is string => typeof id === "string") ?? `step-${index + 1}`);
  const read: Step[] = [];
  const fileIndex: number[] = [];
  rawSteps.forEach((raw, index) => {
    const step = readStep(source, raw, index, found);
    // The default of `needs:` is the step before in the file, read or not.
    if (step) read.push(step.needs === undefined ? { ...step, needs: index === 0 ? [] : [rawIds[index - 1]!] } : step);
    if (step) fileIndex.push(index);
  });
  // The steps read are checked even when others (or the top level) had problems: every independent problem is listed at once.
  const graph = rawIds.map((id, index) => read[fileIndex.indexOf(index)] ?? { id, needs: rawNeeds(rawSteps[index]) ?? (index === 0 ? [] : [rawIds[index - 1]!]) });
  const declared = top.success ? Object.keys(top.data.vars ?? {}) : undefined;
  found.push(...checkSteps(source, read, declared, { fileIndex, graph }));
  if (found.length > 0 || !top.success) throw fail(sortIssues(found));
  const steps = read;

  const data = top.data;
  const vars = Object.fromEntries(Object.entries(data.vars ?? {}).map(([name, value]) => [name, value === null ? undefined : String(value)]));
  return {
    name: data.workflow,
    ...(data.description === undefined ? {} : { description: data.description }),
    vars,
    completion: data.completion ?? "tool",
    ...(data.timeout === undefined ? {} : { timeoutMs: data.timeout }),
    steps,
    source: origin,
    varPositions: positions(source, ["vars"], Object.keys(vars)),
  };
}

/** A key of a raw step when it has the expected type. */
function rawField<T>(raw: unknown, key: string, ok: (value: unknown) => value is T): T | undefined {
  const value = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>)[key] : undefined;
  return ok(value) ? value : undefined;
}

/** `needs:` of a step that could not be read, when it is a list of ids (else its default applies). */
function rawNeeds(raw: unknown): string[] | undefined {
  const needs = rawField(raw, "needs", (value): value is string | string[] => typeof value === "string" || (Array.isArray(value) && value.every((need) => typeof need === "string")));
  return typeof needs === "string" ? [needs] : needs;
}

/** File order: by line, then column (problems found in different passes interleave). */
function sortIssues(issues: WorkflowIssue[]): WorkflowIssue[] {
  return issues.map((issue, n) => ({ issue, n })).sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.n - b.n).map(({ issue }) => issue);
}

/** One step with its defaults (`id: step-<n>`, `needs:` the step before), or undefined after adding its problems to `found`. */
function readStep(source: YamlSource, raw: unknown, index: number, found: WorkflowIssue[]): Step | undefined {
  const path: Key[] = ["steps", index];
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    found.push(source.issue(path, `expected a step (a map such as "spawn: manager" or "run: [npm, test]"), got ${showValue(raw)}`));
    return undefined;
  }
  const keys = Object.keys(raw);
  const kinds = keys.filter((key): key is StepKind => (STEP_KINDS as readonly string[]).includes(key));
  if (kinds.length === 0) {
    found.push(...kindlessStep(source, path, keys));
    return undefined;
  }
  if (kinds.length > 1) {
    found.push(source.issue([...path, kinds[1]!], `a step does one thing, and this one has ${kinds.join(" and ")}: split it into ${kinds.length} steps`, true));
    return undefined;
  }
  const kind = kinds[0]!;
  const command = (raw as { run?: unknown }).run;
  if (kind === "run" && typeof command === "string") {
    found.push(stringCommand(source, [...path, "run"], command));
    return undefined;
  }
  const merge = (raw as { merge?: unknown }).merge;
  const spec = kind === "merge" && merge !== null && typeof merge === "object" && !Array.isArray(merge) ? (merge as Record<string, unknown>) : undefined;
  if (spec && typeof spec.verify === "string") {
    found.push(stringCommand(source, [...path, "merge", "verify"], spec.verify));
    return undefined;
  }
  if (spec && spec.from !== undefined && (raw as { from?: unknown }).from !== undefined) {
    found.push(source.issue([...path, "from"], "from: is given twice, here and inside merge: { from: ... }; keep one", true));
    return undefined;
  }
  const schema = spec ? mergeSpecStepSchema : STEP_SCHEMAS[kind];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    found.push(...zodIssues(source, parsed.error, raw, schema, path));
    return undefined;
  }
  const base = {
    id: parsed.data.id ?? `step-${index + 1}`,
    // Undefined until every step is read: then it defaults to the step before.
    needs: parsed.data.needs,
    line: source.locate(path).line ?? 0,
    positions: positions(source, path, Object.keys(raw)),
    ...(parsed.data.timeout === undefined ? {} : { timeoutMs: parsed.data.timeout }),
  };
  return { ...base, ...stepBody(kind, parsed.data) } as unknown as Step;
}

/** Where each key's value starts: checks against the config (plan.ts) point at it. */
function positions(source: YamlSource, path: Key[], keys: readonly string[]): Record<string, { line: number; column: number }> {
  const out: Record<string, { line: number; column: number }> = {};
  for (const key of keys) {
    const { line, column } = source.locate([...path, key]);
    if (line !== undefined && column !== undefined) out[key] = { line, column };
  }
  return out;
}

function stepBody(kind: StepKind, data: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, needs: _needs, timeout: _timeout, [kind]: head, ...rest } = data;
  switch (kind) {
    case "spawn": {
      const tasks = (rest.tasks as string[] | undefined) ?? [];
      return { kind, ...rest, role: head, tasks, count: (rest.count as number | undefined) ?? Math.max(1, tasks.length), parallel: (rest.parallel as boolean | undefined) ?? true };
    }
    case "send":
      return { kind, to: head, text: rest.text };
    case "wait":
      return { kind, for: head };
    case "merge": {
      if (typeof head === "string") return { kind, strategy: head, ...rest };
      const { from, ...spec } = head as { from?: string[] };
      return { kind, strategy: "spec", ...rest, ...(from ? { from } : {}), spec };
    }
    case "run":
      return { kind, command: head, ...rest };
  }
}

/** A command line written as one string: no shell runs it, so it cannot be split safely for the user. */
function stringCommand(source: YamlSource, path: Key[], command: string): WorkflowIssue {
  const words = command.trim().split(/\s+/u).map((word) => JSON.stringify(word));
  return source.issue(path, `expected an argument array such as [${words.join(", ")}], got ${showValue(command)}; no shell runs it, so pipes, && and quotes mean nothing here`);
}

/** A step without spawn/send/wait/merge/run: most often a misspelt kind. */
function kindlessStep(source: YamlSource, path: Key[], keys: string[]): WorkflowIssue[] {
  const allowed = STEP_KINDS.join(", ");
  const unknown = keys.filter((key) => !COMMON_KEYS.includes(key) && !isOtherStepKey(key));
  if (unknown.length === 0) {
    return [source.issue(path, `this step has no kind; start it with one of ${allowed} (e.g. "spawn: specialist", "wait: all-complete")`)];
  }
  // A misspelt kind is the problem; other unknown keys are checked once the step has its kind.
  const kindLike = unknown.filter((key) => closest(key, STEP_KINDS) !== undefined);
  return (kindLike.length > 0 ? kindLike : unknown.slice(0, 1)).map((key) => {
    const guess = closest(key, STEP_KINDS);
    return source.issue([...path, key], `unknown step kind "${key}"; a step is one of ${allowed}${guess ? ` (did you mean "${guess}"?)` : ""}`, true);
  });
}

function isOtherStepKey(key: string): boolean {
  return Object.values(STEP_SCHEMAS).some((schema) => key in schema.shape);
}

/** zod's problems as issues at their place in the file, worded like the config's (allowed keys, "did you mean"). */
function zodIssues(source: YamlSource, error: z.ZodError, input: unknown, schema: z.core.$ZodType, prefix: readonly Key[]): WorkflowIssue[] {
  return error.issues.flatMap((issue) => {
    const at = [...prefix, ...(issue.path as Key[])];
    const described = formatZodIssues(new z.ZodError([issue]), input, schema);
    if (issue.code === "unrecognized_keys") {
      return described.map((one, i) => source.issue([...at, issue.keys[i]!], one.message, true));
    }
    const help = issue.code === "invalid_type" && at.length === 1 && at[0] === "vars" ? `; ${VARS_HELP}` : "";
    return described.map((one) => source.issue(at, `${one.message}${help}`));
  });
}
