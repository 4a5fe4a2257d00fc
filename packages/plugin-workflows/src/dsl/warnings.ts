/**
 * What a valid workflow may still do unlike its author means, said before
 * anything runs (a dry run, a run's first progress lines): a task whose
 * agent cannot call the MCP tool `complete` and so never completes, and an
 * `any-complete` that a task of an earlier step (a manager's) can end.
 */
import { agentForRole, type Settings } from "@tmux-claude/core";
import type { SpawnStep, Step, Workflow } from "../types.js";
import { formatIssue, stepIssue } from "./errors.js";
import { waitTargets } from "./plan.js";

/** The adapter whose agents call MCP tools (Claude Code, given the tmux-claude server by agent-claude); no config key says so of other agents. */
const TOOL_CALLING_ADAPTERS = new Set(["claude"]);

export function planWarnings(workflow: Workflow, config: Settings): string[] {
  const warnings: string[] = [];
  for (const step of workflow.steps) {
    if (step.kind === "spawn") {
      const warning = completionWarning(workflow, step, config);
      if (warning) warnings.push(at(workflow, step, step.agent !== undefined ? "agent" : "spawn", warning));
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

function completionWarning(workflow: Workflow, step: SpawnStep, config: Settings): string | undefined {
  if ((step.completion ?? workflow.completion) !== "tool") return undefined;
  let agent: string;
  try {
    agent = agentForRole(config, step.role, step.agent, null);
  } catch {
    return undefined; // A role that may not run it: planWorkflow reports that.
  }
  const adapter = config.agents[agent]?.adapter;
  if (adapter === undefined || TOOL_CALLING_ADAPTERS.has(adapter)) return undefined;
  return (
    `step "${step.id}" runs agent "${agent}" (adapter ${adapter}), which cannot call the MCP tool complete on its own, and its tasks complete only that way: the run would wait for ever (or fail at a timeout). ` +
    `Set completion: turn-end (on the step or the workflow) to complete a task when its turn ends, give it a timeout: so it fails rather than hangs, or have the agent call complete over HTTP (TMUX_CLAUDE_MCP_URL and TMUX_CLAUDE_MCP_TOKEN, see packages/mcp/README.md).`
  );
}
