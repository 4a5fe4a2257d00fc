/**
 * What a workflow file must get right beyond its keys: unique ids, `needs:`
 * that exist and make no cycle, steps named by wait/merge/send/parent/cwd that
 * exist and run before, and `${{ }}` references that can be resolved when the
 * step starts (a declared variable; an output of a step that finished before).
 */
import { closest } from "@tmux-claude/core";
import type { SpawnStep, Step } from "../types.js";
import type { WorkflowIssue } from "./errors.js";
import { findCycle, prerequisites } from "./graph.js";
import { CALLER_PARENT } from "./parents.js";
import { EXPRESSION_HELP, findReferences, STEP_FIELDS } from "./refs.js";
import type { Key, YamlSource } from "./source.js";

/** An instance id as the kernel makes them: `mgr-1`, `exec-1.mgr-2.spec-3`. */
const INSTANCE_ID = /^[A-Za-z][\w]*-\d+(?:\.[A-Za-z][\w]*-\d+)*$/u;

const didYouMean = (name: string, names: readonly string[]) => {
  const guess = closest(name, names);
  return guess ? ` (did you mean "${guess}"?)` : "";
};

/**
 * Where the checked steps are among the file's: a file whose other steps had
 * problems of their own (reported already) is still checked, as far as it can
 * be, so every problem is listed at once.
 */
export interface StepLayout {
  /** Each checked step's position in the file (`steps[i]`). */
  readonly fileIndex: readonly number[];
  /** Every step of the file in order: the steps read, and `{ id, needs }` of those that could not be (naming them is no problem here). */
  readonly graph: readonly (Step | { readonly id: string; readonly needs: readonly string[] })[];
}

/**
 * Every problem of the steps, in file order. `declaredVars` undefined: the
 * variables could not be read (reported already), so references to them are not checked.
 */
export function checkSteps(source: YamlSource, steps: readonly Step[], declaredVars: readonly string[] | undefined, layout?: StepLayout): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const fileIndex = (index: number) => layout?.fileIndex[index] ?? index;
  const all = layout?.graph ?? steps;
  const ids = all.map((node) => node.id);
  // An id given twice (reported) means its first step: the graph keeps only that one, self-needs (reported) are left out.
  const graph = all.filter((node, index) => ids.indexOf(node.id) === index).map((node) => ({ id: node.id, needs: node.needs.filter((need) => need !== node.id) }));
  const at = (index: number, ...rest: Key[]): Key[] => ["steps", fileIndex(index), ...rest];
  /** The step an id names: its first in the file; "unread" when that one could not be read (its problems are listed, it is not judged here). */
  const lookup: Lookup = (id) => {
    const first = all.find((node) => node.id === id);
    return first && !("kind" in first) ? "unread" : (first as Step | undefined);
  };

  // Ids over every step of the file, read or not: a duplicate whose step has other problems is a problem of its own.
  all.forEach((node, position) => {
    const first = ids.indexOf(node.id);
    const where: Key[] = ["steps", position, "id"];
    if (node.id === CALLER_PARENT) {
      issues.push(source.issue(where, `"${CALLER_PARENT}" is not a step id: parent: ${CALLER_PARENT} means whoever runs the workflow; give the step another id`));
    } else if (first !== position) {
      issues.push(source.issue(where, `the id "${node.id}" is taken by step ${first + 1} (line ${source.locate(["steps", first]).line ?? "?"}); give each step its own id`));
    }
  });
  steps.forEach((step, index) => {
    step.needs.forEach((need, n) => {
      // Only a needs: the file gives: the default (the step before) names this step itself when the two share a duplicate id, reported above.
      if (need === step.id) {
        if (step.positions?.needs) issues.push(source.issue(at(index, "needs", n), `a step cannot need itself ("${need}"); name the steps that must finish before it`));
      } else if (!ids.includes(need)) issues.push(source.issue(at(index, "needs", n), `no step has the id "${need}"; steps: ${ids.join(", ")}${didYouMean(need, ids)}`));
    });
  });
  // Self-needs and unknown ids are reported above and left out here (findCycle skips unknown ids), so a cycle elsewhere is still found.
  const cycle = findCycle(graph);
  if (cycle) {
    const index = steps.findIndex((step) => step.id === cycle[0]);
    const path: Key[] = index >= 0 ? at(index, "needs") : ["steps"];
    issues.push(source.issue(path, `these steps need each other in a cycle (${cycle.join(" -> ")}), so none of them could ever start; remove one of these needs`));
  }

  steps.forEach((step, index) => {
    const before = prerequisites(graph, step.id);
    /** A step this one names (wait, merge from, send to, parent, cwd): it must exist, be a spawn step, and finish first. */
    const named = (id: string, path: Key[], role: string, singleInstance = false): SpawnStep | undefined => {
      const target = lookup(id);
      if (target === "unread") return undefined;
      if (!target) {
        issues.push(source.issue(path, `no step has the id "${id}"; steps: ${ids.join(", ")}${didYouMean(id, ids)}`));
        return undefined;
      }
      if (target.kind !== "spawn") {
        issues.push(source.issue(path, `"${id}" is a ${target.kind} step; ${role} names a spawn step (${spawnIds(steps).join(", ") || "there is none"})`));
        return undefined;
      }
      if (!before.has(id)) {
        issues.push(source.issue(path, `"${id}" does not run before this step, so ${role} cannot use it; add it to needs: (needs: [${[...step.needs, id].join(", ")}])`));
        return undefined;
      }
      if (singleInstance && target.count > 1) {
        issues.push(source.issue(path, `"${id}" starts ${target.count} instances; ${role} needs a spawn step with one instance`));
        return undefined;
      }
      return target;
    };
    switch (step.kind) {
      case "spawn":
        if (step.tasks.length > 0 && step.count !== step.tasks.length) {
          issues.push(source.issue(at(index, "count"), `count is ${step.count} but there ${step.tasks.length === 1 ? "is 1 task" : `are ${step.tasks.length} tasks`}; each task gets one instance, so leave count out or make it ${step.tasks.length}`));
        }
        if (step.parent !== undefined && step.parent !== CALLER_PARENT) named(step.parent, at(index, "parent"), "parent:", true);
        break;
      case "send":
        if (ids.includes(step.to)) named(step.to, at(index, "send"), "send:");
        else if (!INSTANCE_ID.test(step.to)) {
          issues.push(source.issue(at(index, "send"), `"${step.to}" is neither a step id nor an instance id (like "mgr-1"); send: names a spawn step (${spawnIds(steps).join(", ") || "there is none"}) or an instance${didYouMean(step.to, ids)}`));
        }
        break;
      case "wait":
        if (Array.isArray(step.for)) step.for.forEach((id, n) => named(id, at(index, "wait", n), "wait:"));
        else if (typeof step.for === "object" && "any" in step.for) step.for.any.forEach((id, n) => named(id, at(index, "wait", "any", n), "wait:"));
        break;
      case "merge": {
        // The spec form may hold from: inside merge: { ... }.
        const from: Key[] = step.spec && step.positions?.from === undefined ? ["merge", "from"] : ["from"];
        step.from?.forEach((id, n) => named(id, at(index, ...from, n), "from:"));
        break;
      }
      case "run":
        if (step.cwd !== undefined && ids.includes(step.cwd)) named(step.cwd, at(index, "cwd"), "cwd:", true);
        break;
    }
    for (const { path, text } of texts(step)) {
      issues.push(...checkReferences(source, at(index, ...path), text, ids, lookup, before, declaredVars, step.id));
    }
  });
  return issues;
}

type Lookup = (id: string) => Step | "unread" | undefined;

function spawnIds(steps: readonly Step[]): string[] {
  return steps.filter((step) => step.kind === "spawn").map((step) => step.id);
}

/** The texts of a step that may hold `${{ }}` references, with their key paths in the step. */
function texts(step: Step): { path: Key[]; text: string }[] {
  const out: { path: Key[]; text: string }[] = [];
  const add = (path: Key[], text: string | undefined) => text !== undefined && out.push({ path, text });
  switch (step.kind) {
    case "spawn":
      add(["context"], step.context);
      add(["prompt"], step.prompt);
      step.tasks.forEach((task, n) => add(["tasks", n], task));
      break;
    case "send":
      add(["text"], step.text);
      break;
    case "run":
      step.command.forEach((arg, n) => add(["run", n], arg));
      add(["cwd"], step.cwd);
      for (const [name, value] of Object.entries(step.env ?? {})) if (typeof value === "string") add(["env", name], value);
      break;
    default:
      break;
  }
  return out;
}

function checkReferences(
  source: YamlSource,
  path: Key[],
  text: string,
  ids: readonly string[],
  lookup: Lookup,
  before: ReadonlySet<string>,
  declaredVars: readonly string[] | undefined,
  self: string,
): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  for (const found of findReferences(text)) {
    // At the reference itself, not the text's start: a text may hold several.
    const nth = text.slice(0, found.offset).split(found.expression).length - 1;
    const problem = (message: string) => issues.push(source.issueWithin(path, found.expression, nth, `${found.expression}: ${message}`));
    const reference = found.reference;
    if (reference === undefined) {
      problem(`not an expression tmux-claude knows; write ${EXPRESSION_HELP}`);
    } else if (reference.kind === "var") {
      if (declaredVars && !declaredVars.includes(reference.name)) {
        const declared = declaredVars.length > 0 ? `declared: ${declaredVars.join(", ")}` : "none is declared";
        problem(`undefined variable "${reference.name}" (${declared})${didYouMean(reference.name, declaredVars)}; declare it under vars: (${reference.name}: ~ to require --var ${reference.name}=..., or give a default)`);
      }
    } else {
      const target = lookup(reference.step);
      if (target === "unread") continue;
      const fields: readonly string[] = target ? STEP_FIELDS[target.kind] : [];
      if (!target) problem(`no step has the id "${reference.step}"; steps: ${ids.join(", ")}${didYouMean(reference.step, ids)}`);
      else if (target.id === self) {
        problem(`a step cannot use its own output ("${self}" is this step: its outputs exist only once it finished); use an earlier step's output, or move this text to a step that needs "${self}"`);
      } else if (!before.has(target.id)) {
        problem(`step "${target.id}" does not finish before this step (it is not among its needs, directly or through other steps), so its output does not exist yet; add it to needs:`);
      } else if (fields.length === 0) problem(`a ${target.kind} step has no outputs; outputs come from spawn (instance, instances, reply), run (exitCode, stdout, stderr) and merge (merged) steps`);
      else if (!fields.includes(reference.field)) {
        problem(`"${reference.field}" is not an output of a ${target.kind} step; it has ${fields.join(", ")}${didYouMean(reference.field, fields)}`);
      } else if (reference.field === "instance" && target.kind === "spawn" && target.count > 1) {
        problem(`step "${target.id}" starts ${target.count} instances, so it has no single instance; use \${{ steps.${target.id}.instances }}`);
      }
    }
  }
  return issues;
}
