// `tmux-claude git merge <id>`, `tmux-claude git queue` and the MCP tool
// `merge`: the merge part's surfaces. Each prints or returns the MergeOutcome
// as is; a merge that did not happen exits 1 from the CLI.
import { TmuxClaudeError, type ToolContribution } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { z } from "zod";
import type { MergeOutcome } from "../merge/engine.js";
import { mergeCallSchema, type MergeCall, type MergePart } from "../merge/call.js";
import type { QueuedEntry } from "../merge/queue.js";
import type { GitSubcommand } from "./commands.js";

export function mergeSubcommand(part: MergePart): GitSubcommand {
  return {
    name: "merge",
    usage: "merge <id> [--into <branch>] [--strategy merge|squash|rebase] [--resolve none|ai] [--verify <cmd>] [--priority <n>] [--batch] [--dry-run] [--json]",
    summary: "merge an instance's branch into its parent's branch (or --into) through the merge queue",
    options: {
      into: { type: "string" },
      strategy: { type: "string" },
      resolve: { type: "string" },
      verify: { type: "string" },
      priority: { type: "string" },
      batch: { type: "boolean" },
      "dry-run": { type: "boolean" },
    },
    positionals: { min: 1, max: 1, names: ["id"] },
    async run({ positionals, flags, out }) {
      const call: Record<string, unknown> = {};
      for (const key of ["into", "strategy", "resolve", "verify"] as const) if (typeof flags[key] === "string") call[key] = flags[key];
      // A wrong number is named by the request's own validation (TC_GIT_MERGE_INVALID).
      if (typeof flags.priority === "string") call.priority = priorityFlag(flags.priority);
      if (flags.batch === true) call.batch = true;
      if (flags["dry-run"] === true) call.dryRun = true;
      const outcome = await part.merge(positionals[0]!, call as MergeCall);
      out.result(outcome, () => outcomeText(outcome));
      return outcome.status === "merged" || outcome.status === "up-to-date" || outcome.status === "would-merge" ? 0 : 1;
    },
  };
}

export function queueSubcommand(part: MergePart): GitSubcommand {
  return {
    name: "queue",
    usage: "queue [--json]",
    summary: "the merge queues: requests waiting per target branch, in serving order",
    async run({ out }) {
      const entries = await part.queue();
      out.result({ queue: entries }, () => queueText(entries));
      return 0;
    },
  };
}

// No `verify` from MCP: it runs a command in the kernel's process, with its environment and outside the
// agent's own permission prompts, so an agent could run anything through it. verify comes from the
// plugin's config (merge.verify) or the CLI, which are the user's.
const mergeToolInput = mergeCallSchema.omit({ verify: true }).extend({
  instanceId: z.string().min(1).describe("The instance whose branch to merge: one of your own children (the root: any instance)."),
});

/** MCP `merge`: a manager merges its own children into its own branch; a specialist may not merge; the root merges anything. */
export function mergeTool(part: MergePart, roles: readonly string[]): ToolContribution {
  return {
    name: "merge",
    description:
      "Merge a child instance's branch into your branch (its parent's) through the merge queue: conflicts are found first and reported with files and hunks (nothing changes then); verify runs on the merged result before your branch moves; dryRun only says what would happen.",
    inputSchema: mergeToolInput,
    // A specialist (and the resolver) never merges; who may merge what is checked per call (part.ts authorize).
    roles: roles.filter((role) => role !== "specialist" && role !== "resolver"),
    async handler(args, caller) {
      const { instanceId, ...call } = mergeToolInput.parse(args);
      return part.merge(instanceId, call, caller);
    },
  };
}

export function outcomeText(outcome: MergeOutcome): string {
  const leftOut = outcome.uncommittedLeftOut?.length
    ? `\nNote: ${outcome.uncommittedLeftOut.length} uncommitted file(s) in ${outcome.instanceId ?? outcome.source}'s worktree are not part of it (only commits are merged): ${outcome.uncommittedLeftOut.slice(0, 10).join(", ")}${outcome.uncommittedLeftOut.length > 10 ? ", ..." : ""}. Commit them (or turn on autoCommit) and merge again.`
    : "";
  return statusText(outcome) + leftOut;
}

function statusText(outcome: MergeOutcome): string {
  const what = `${outcome.source} -> ${outcome.target} (${outcome.strategy})`;
  switch (outcome.status) {
    case "merged":
      return `Merged ${what}: ${outcome.target} is now ${outcome.commit?.slice(0, 12)} (was ${outcome.previous?.slice(0, 12)}).${outcome.verify ? ` verify passed in ${outcome.verify.ms} ms.` : ""}`;
    case "up-to-date":
      return `${outcome.target} already contains ${outcome.source}: nothing to merge.`;
    case "would-merge":
      return `Dry run: ${what} merges cleanly; nothing was changed.`;
    case "conflict": {
      const files = (outcome.conflicts ?? []).map((c) => `  ${c.path} (${c.kind}): ${c.message}${c.hunks ? `\n${indent(c.hunks)}` : ""}`);
      return [`Conflict: ${outcome.reason}`, ...files].join("\n");
    }
    default:
      return `Not merged (${outcome.status}, ${outcome.code ?? "no code"}): ${outcome.reason ?? "no reason given"}`;
  }
}

/** `--priority` as typed: an integer, or an error quoting what was given (not "received NaN"). */
function priorityFlag(value: string): number {
  const parsed = Number(value);
  if (value.trim() !== "" && Number.isInteger(parsed)) return parsed;
  throw new TmuxClaudeError(GitErrorCodes.MERGE_INVALID, `tmux-claude git merge: --priority takes an integer, higher served first (got "${value}"), e.g. --priority 5.`, { priority: value });
}

function queueText(entries: readonly QueuedEntry[]): string {
  if (entries.length === 0) return "No merges queued.";
  return entries
    .map((e) => `${e.target.padEnd(24)} ${e.done ? "done   " : "waiting"} ${e.source} (${e.strategy}${e.priority ? `, priority ${e.priority}` : ""}${e.batch ? ", batch" : ""}) ${e.instanceId ?? ""} since ${e.requestedAt}`)
    .join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}
