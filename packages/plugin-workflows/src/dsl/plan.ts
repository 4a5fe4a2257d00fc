/**
 * `planWorkflow`: a parsed workflow checked against the kernel's config
 * (roles, who may spawn whom, agents, limits) and its variables, and what it
 * would do: the order steps start in, each spawn's parent, texts with the
 * variables filled in. `run --dry-run` prints it; a run checks it before it
 * spawns anything.
 */
import { closest, type Settings } from "@tmux-claude/core";
import type { SpawnStep, Step, Workflow } from "../types.js";
import { formatDuration } from "./duration.js";
import { stepIssue, WorkflowDslErrors, workflowError, type WorkflowIssue } from "./errors.js";
import { prerequisites, waves } from "./graph.js";
import { resolveParents, ROOT_CALLER, type Caller } from "./parents.js";
import { interpolate } from "./refs.js";
import { resolveVars, type VarsFrom } from "./vars.js";
import { planWarnings } from "./warnings.js";

export interface PlannedStep {
  readonly id: string;
  readonly kind: Step["kind"];
  readonly needs: readonly string[];
  readonly line: number;
  /** 1-based: steps of one wave may run at the same time. */
  readonly wave: number;
  /** One line: what it does. */
  readonly summary: string;
  /** Its texts with the variables filled in (step outputs stay `${{ steps... }}` until the step starts). */
  readonly details: readonly string[];
  /** Spawn steps: the step whose instance is the parent, or null (the caller: top level, or the instance running the workflow). */
  readonly parent?: string | null;
  readonly instances?: number;
}

export interface WorkflowPlan {
  readonly workflow: string;
  readonly source: string;
  readonly vars: Readonly<Record<string, string>>;
  readonly steps: readonly PlannedStep[];
  /** How many instances the run spawns in all. */
  readonly instances: number;
  /** What may not do what its author means (a task that cannot complete, a wait that ends early): shown by a dry run and at a run's start. */
  readonly warnings: readonly string[];
}

/**
 * Throws TC_WORKFLOW_REJECTED listing every problem; nothing is started either
 * way. `plugins`: the names of the kernel's plugins (`kernel.pluginNames()`),
 * to refuse merge steps without the git plugin; left out, that is not checked.
 * `varsFrom`: how the values were given, for the messages (`--var`, or run_workflow's `vars`).
 */
export function planWorkflow(
  workflow: Workflow,
  config: Settings,
  given: Readonly<Record<string, string>> = {},
  caller: Caller = ROOT_CALLER,
  plugins?: readonly string[],
  varsFrom: VarsFrom = "cli",
): WorkflowPlan {
  const { vars, issues } = resolveVars(workflow, given, varsFrom);
  issues.push(...checkSpawns(workflow, config));
  const { parents, issues: parentIssues } = resolveParents(workflow, config, caller);
  issues.push(...parentIssues);
  if (parentIssues.length === 0) issues.push(...checkMerges(workflow, parents, plugins));
  const instances = workflow.steps.reduce((sum, step) => sum + (step.kind === "spawn" ? step.count : 0), 0);
  if (instances > config.limits.maxInstances) {
    const counts = workflow.steps.flatMap((step) => (step.kind === "spawn" ? [`${step.id}: ${step.count}`] : []));
    // Where the running total first goes over: the step a user would cut.
    let total = 0;
    const over = workflow.steps.find((step): step is SpawnStep => step.kind === "spawn" && (total += step.count) > config.limits.maxInstances)!;
    // A step over the limit on its own is reported at its count already (checkSpawns): the total would say it again at the same place.
    if (over.count <= config.limits.maxInstances) issues.push(stepIssue(workflow, over, over.positions?.count ? "count" : "spawn", `the workflow spawns ${instances} instances in all (${counts.join(", ")}), over limits.maxInstances (${config.limits.maxInstances}) from this step on; lower the counts or raise limits.maxInstances`));
  }
  if (issues.length > 0) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw workflowError(WorkflowDslErrors.REJECTED, workflow.source, issues, "This config cannot run workflow");
  }
  const fill = (text: string) => interpolate(text, (reference) => (reference.kind === "var" ? vars[reference.name] : undefined));
  const wave = new Map(waves(workflow.steps).flatMap((ids, n) => ids.map((id) => [id, n + 1] as const)));
  const steps = workflow.steps.map((step): PlannedStep => {
    const base = { id: step.id, kind: step.kind, needs: step.needs, line: step.line, wave: wave.get(step.id)! };
    const timeout = step.timeoutMs === undefined ? "" : `, timeout ${formatDuration(step.timeoutMs)}`;
    switch (step.kind) {
      case "spawn": {
        const parent = parents.get(step.id) ?? null;
        const under = parent === null ? (caller.role === null ? "at the top level" : `under the calling ${caller.role}`) : `under ${parent} (${spawnStep(workflow, parent).role})`;
        const texts = [
          ...(step.context === undefined ? [] : [`context: ${fill(step.context)}`]),
          ...(step.prompt === undefined ? [] : [`prompt: ${fill(step.prompt)}`]),
          ...step.tasks.map((task, n) => `task ${n + 1}: ${fill(task)}`),
        ];
        const how = step.count > 1 ? (step.parallel ? " in parallel" : " one after another") : "";
        const agent = step.agent === undefined ? "" : `, agent ${step.agent}`;
        return { ...base, parent, instances: step.count, summary: `spawn ${step.count} ${step.role}${step.count > 1 ? "s" : ""}${how} ${under}${agent}, done when ${completionText(step.completion ?? workflow.completion)}${timeout}`, details: texts };
      }
      case "send":
        return { ...base, summary: `send to ${step.to}${timeout}`, details: [`text: ${fill(step.text)}`] };
      case "wait": {
        const targets = waitTargets(workflow, step);
        const which = waitsForAny(step) ? "any task" : "every task";
        return { ...base, summary: `wait until ${which} of ${targets.join(", ") || "(no spawn step)"} completed${timeout}`, details: [] };
      }
      case "merge":
        return { ...base, summary: `merge ${mergeSources(workflow, step, parents).join(", ") || "(no spawn step with a parent)"} ${mergeHow(step)}${timeout}`, details: [] };
      case "run":
        return { ...base, summary: `run ${step.command.map(fill).join(" ")}${step.cwd === undefined ? "" : ` in ${fill(step.cwd)}`}${timeout}`, details: Object.entries(step.env ?? {}).map(([name, value]) => (typeof value === "string" ? `env ${name}=${fill(value)}` : `env ${name} from the runner's $${value.fromEnv} (secret: not shown, journaled or stored)`)) };
    }
  });
  return { workflow: workflow.name, source: workflow.source, vars, steps, instances, warnings: planWarnings(workflow, config) };
}

/** The spawn steps whose tasks a wait step waits for: those it lists, or every spawn step before it (among its needs, directly or not). */
export function waitTargets(workflow: Workflow, step: Extract<Step, { kind: "wait" }>): string[] {
  if (Array.isArray(step.for)) return [...step.for];
  if (typeof step.for === "object" && "any" in step.for) return [...step.for.any];
  return earlierSpawns(workflow, step).map((spawn) => spawn.id);
}

/** Whether one completed task ends the wait (`any-complete`, `{ any: [...] }`) rather than all of them. */
export function waitsForAny(step: Extract<Step, { kind: "wait" }>): boolean {
  return step.for === "any-complete" || (typeof step.for === "object" && "any" in step.for);
}

/**
 * The spawn steps whose instances a merge step merges: `from:`, or every spawn
 * step before it whose instances have a parent step (with a spec's `into`:
 * every one, since each has a branch to merge into then).
 */
export function mergeSources(workflow: Workflow, step: Extract<Step, { kind: "merge" }>, parents?: ReadonlyMap<string, string | null>): string[] {
  if (step.from) return [...step.from];
  return earlierSpawns(workflow, step)
    .filter((spawn) => step.spec?.into !== undefined || (parents ? parents.get(spawn.id) !== null : true))
    .map((spawn) => spawn.id);
}

/** Where a merge step merges and how: `into their parents' branches (auto-resolve-conflicts)`, `into main (squash, resolve ai, verify npm test)`. */
export function mergeHow(step: Extract<Step, { kind: "merge" }>): string {
  const spec = step.spec;
  if (!spec) return `into their parents' branches (${step.strategy})`;
  const how = [spec.strategy, spec.resolve && `resolve ${spec.resolve}`, spec.verify && `verify ${spec.verify.join(" ")}`, spec.priority !== undefined && `priority ${spec.priority}`, spec.batch && "batch"].filter(Boolean);
  return `into ${spec.into ?? "their parents' branches"}${how.length > 0 ? ` (${how.join(", ")})` : ""}`;
}

function earlierSpawns(workflow: Workflow, step: Step): SpawnStep[] {
  const before = prerequisites(workflow.steps, step.id);
  return workflow.steps.filter((other): other is SpawnStep => other.kind === "spawn" && before.has(other.id));
}

function spawnStep(workflow: Workflow, id: string): SpawnStep {
  return workflow.steps.find((step) => step.id === id) as SpawnStep;
}

function completionText(mode: string): string {
  return mode === "turn-end" ? "each task's turn ends (or it calls complete)" : "each task calls complete";
}

/** A merge step needs the git plugin, and instances with a parent step to merge into. */
function checkMerges(workflow: Workflow, parents: ReadonlyMap<string, string | null>, plugins: readonly string[] | undefined): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  workflow.steps.forEach((step) => {
    if (step.kind !== "merge") return;
    const at = (key: string, message: string) => issues.push(stepIssue(workflow, step, key, message));
    if (plugins && !plugins.includes("git")) {
      at("merge", 'merge steps need the git plugin (each instance on its own branch), and the config has none; add git() to plugins in tmuxclaude.config.ts (import { git } from "@tmux-claude/plugin-git"), or drop the merge step');
    }
    const sources = mergeSources(workflow, step, parents);
    if (sources.length === 0) at("merge", "nothing to merge: no spawn step before it has a parent step (a merge merges each instance's branch into its parent's); spawn the instances under an earlier spawn step, give the merge an into: branch, or drop the merge step");
    if (step.spec?.into !== undefined) return;
    for (const id of sources) {
      if (parents.get(id) === null) at(step.positions?.from ? "from" : "merge", `step "${id}" has no parent step, so its instances have no branch to merge into; name spawn steps whose parent is a step of this workflow, or give the merge an into: branch`);
    }
  });
  return issues;
}

/** Roles, agents and counts against the config. */
function checkSpawns(workflow: Workflow, config: Settings): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const roles = Object.keys(config.roles);
  const agents = Object.keys(config.agents);
  workflow.steps.forEach((step) => {
    if (step.kind !== "spawn") return;
    const at = (key: string, message: string) => issues.push(stepIssue(workflow, step, key, message));
    const role = config.roles[step.role];
    if (!role) {
      const guess = closest(step.role, roles);
      at("spawn", `unknown role "${step.role}"; the config's roles: ${roles.join(", ")}${guess ? ` (did you mean "${guess}"?)` : ""}; use one of them or add it under roles in the config`);
    }
    if (step.agent !== undefined) {
      if (!agents.includes(step.agent)) {
        const guess = closest(step.agent, agents);
        at("agent", `unknown agent "${step.agent}"; the config's agents: ${agents.join(", ")}${guess ? ` (did you mean "${guess}"?)` : ""}`);
      } else if (role?.agents && !role.agents.includes(step.agent)) {
        at("agent", `a ${step.role} may not run agent "${step.agent}" (roles.${step.role}.agents: ${role.agents.join(", ")})`);
      }
    }
    if (step.count > config.limits.maxInstances) {
      at("count", `count ${step.count} is over limits.maxInstances (${config.limits.maxInstances}); lower it or raise limits.maxInstances in the config`);
    }
  });
  return issues;
}
