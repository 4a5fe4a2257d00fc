/**
 * What a valid workflow may still do unlike its author means, said before
 * anything runs (a dry run, a run's first progress lines): a task whose
 * agent cannot call the MCP tool `complete` and so never completes, tasks no
 * wait step waits for (the run can end while they work), and an
 * `any-complete` that a task of an earlier step (a manager's) can end.
 */
import { agentForRole, type Settings } from "@tmux-claude/core";
import type { SpawnStep, Step, Workflow } from "../types.js";
import { formatDuration } from "./duration.js";
import { formatIssue, stepIssue } from "./errors.js";
import { waitTargets } from "./plan.js";

/** The adapter whose agents call MCP tools (Claude Code, given the tmux-claude server by agent-claude); no config key says so of other agents. */
const TOOL_CALLING_ADAPTERS = new Set(["claude"]);

export function planWarnings(workflow: Workflow, config: Settings): string[] {
  const warnings: string[] = [];
  const waited = new Set(workflow.steps.flatMap((step) => (step.kind === "wait" ? waitTargets(workflow, step) : [])));
  for (const step of workflow.steps) {
    if (step.kind === "spawn") {
      const warning = completionWarning(workflow, step, config);
      if (warning) warnings.push(at(workflow, step, step.agent !== undefined ? "agent" : "spawn", warning));
      if (!waited.has(step.id)) warnings.push(at(workflow, step, "spawn", unwaitedWarning(step)));
    } else if (step.kind === "wait" && step.for === "any-complete") {
      const targets = waitTargets(workflow, step);
      if (targets.length > 1) {
        const last = targets[targets.length - 1]!;
        warnings.push(at(workflow, step, "wait", `step "${step.id}" (wait: any-complete) ends when any task of ${targets.join(", ")} completes: every spawn step before it counts. To wait for one task of ${last} only, write wait: { any: [${last}] }.`));
      }
    }
  }
  return warnings;
}

/** Where a warning is, as errors say it: `<file>:<line>:<column>: steps[i].<key>: ...`. */
function at(workflow: Workflow, step: Step, key: string, message: string): string {
  return formatIssue(workflow.source, stepIssue(workflow, step, key, message));
}

/**
 * A spawn step succeeds once its instances are spawned: without a wait step
 * for its tasks, the run may end (and succeed) while they still work, and
 * what they do then (a failure, their timeout) no longer counts.
 */
function unwaitedWarning(step: SpawnStep): string {
  const timeout = step.timeoutMs === undefined ? "" : ` (its timeout, ${formatDuration(step.timeoutMs)}, too)`;
  return (
    `no wait step waits for the tasks of step "${step.id}": the step succeeds once its instances are spawned, so the run can succeed while they still work, and how they end${timeout} counts for nothing then. ` +
    `Add a step "wait: [${step.id}]" after it, or ignore this if they are meant to work on after the run.`
  );
}

function completionWarning(workflow: Workflow, step: SpawnStep, config: Settings): string | undefined {
  if ((step.completion ?? workflow.completion) !== "tool") return undefined;
  let agent: string;
  try {
    agent = agentForRole(config, step.role, step.agent, null);
  } catch {
    return undefined; // A role that may not run it: planWorkflow reports that.
  }
  const adapter = config.agents[agent]?.adapter;
  if (adapter === undefined || callsTools(adapter) || runsComplete(step)) return undefined;
  // With a timeout the task fails at it: "wait for ever" would be wrong then (a run's timeout fails the whole run).
  const ends =
    step.timeoutMs !== undefined
      ? `each task would fail at the step's timeout (${formatDuration(step.timeoutMs)})`
      : workflow.timeoutMs !== undefined
        ? `the run would fail at its timeout (${formatDuration(workflow.timeoutMs)})`
        : "the run would wait for ever";
  return (
    `step "${step.id}" runs agent "${agent}" (adapter ${adapter}), which cannot call the MCP tool complete on its own, and its tasks complete only that way: ${ends}. ` +
    `Its prompt does not tell it to call complete (a shell would run the sentence). ` +
    `Set completion: turn-end (on the step or the workflow) to complete a task when its turn ends${step.timeoutMs === undefined ? ", give it a timeout: so it fails rather than hangs" : ""}, ` +
    `or have the task run tmux-claude complete "<summary>" when it is done (the complete tool over HTTP, with the TMUX_CLAUDE_MCP_URL and TMUX_CLAUDE_MCP_TOKEN it is given; README "Agents other than Claude Code").`
  );
}

/** Every task's text runs `tmux-claude complete` (README "Agents other than Claude Code"): it can complete, nothing to warn of. */
function runsComplete(step: SpawnStep): boolean {
  const says = (text: string | undefined) => text?.includes("tmux-claude complete") ?? false;
  if (says(step.context) || says(step.prompt)) return true;
  return step.tasks.length > 0 && step.tasks.every(says);
}

/** Whether agents of this adapter call MCP tools themselves (and so can be told to call complete). */
export function callsTools(adapter: string): boolean {
  return TOOL_CALLING_ADAPTERS.has(adapter);
}
