// `tmux-claude git gc`: apply the GC policy to the plugin's worktrees.
import { ErrorCodes, TmuxClaudeError } from "@tmux-claude/core";
import type { GcPart, GcReport } from "../gc/index.js";
import { mb, type GcDecision } from "../gc/plan.js";
import type { GitFlagValue, GitSubcommand } from "./commands.js";

export function gcSubcommand(gc: GcPart): GitSubcommand {
  return {
    name: "gc",
    usage: "gc [id...] [--dry-run] [--force] [--older-than <days>] [--disk-budget <MB>] [--json]",
    summary: "remove worktrees that are merged and clean, orphaned, old or over a disk budget; never uncommitted work without --force",
    options: {
      "dry-run": { type: "boolean" },
      force: { type: "boolean" },
      "older-than": { type: "string" },
      "disk-budget": { type: "string" },
    },
    positionals: { min: 0, max: Number.MAX_SAFE_INTEGER, names: ["id"] },
    async run({ positionals, flags, out }) {
      const ids = [...positionals];
      const report = await gc.collect({
        dryRun: flags["dry-run"] === true,
        force: flags.force === true,
        olderThanDays: positiveNumber(flags["older-than"], "--older-than", "days, e.g. --older-than 7"),
        diskBudgetMb: positiveNumber(flags["disk-budget"], "--disk-budget", "megabytes, e.g. --disk-budget 2048"),
        ...(ids.length ? { ids } : {}),
      });
      const unknown = ids.filter((id) => !report.decisions.some((d) => d.id === id));
      if (unknown.length) {
        // Not found, as for git status/diff/merge of an unknown id (exit 3).
        throw new TmuxClaudeError(
          ErrorCodes.INSTANCE_NOT_FOUND,
          `tmux-claude git gc: no worktree of the git plugin belongs to ${unknown.map((id) => `"${id}"`).join(", ")}. Run tmux-claude git gc --dry-run to see them all.`,
          { ids: unknown },
        );
      }
      // Every field the README lists, also without a budget (null).
      out.result({ ...report, diskBudgetMb: report.diskBudgetMb ?? null }, () => gcText(report));
      // Kept by the policy is an answer; a removal git refused is a failure.
      return report.decisions.some((d) => d.error) ? 1 : 0;
    },
  };
}

function positiveNumber(value: GitFlagValue, flag: string, what: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(parsed) && parsed > 0) return parsed;
  throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude git gc: ${flag} takes a positive number of ${what} (got "${String(value)}").`, { flag, value });
}

export function gcText(report: GcReport): string {
  if (report.decisions.length === 0) return "The git plugin has no worktrees.";
  const removed = report.decisions.filter((d) => d.action === "remove");
  const verb = report.dryRun ? "Would remove" : "Removed";
  const budget = report.diskBudgetMb === undefined ? "" : ` (budget ${report.diskBudgetMb} MB)`;
  const stay = report.dryRun ? "would stay" : "stay";
  const lines = [`${verb} ${removed.length} worktree(s), kept ${report.decisions.length - removed.length}; ${mb(report.remainingBytes)} MB of ${mb(report.totalBytes)} MB ${stay} in use${budget}.`];
  const idWidth = Math.max(16, ...report.decisions.map((d) => d.id.length));
  for (const d of report.decisions) lines.push(decisionLine(d, report.dryRun, idWidth));
  return lines.join("\n");
}

function decisionLine(d: GcDecision, dryRun: boolean, idWidth: number): string {
  const action = d.action === "remove" ? (dryRun ? "would remove" : "removed") : "kept";
  const branch = d.branch ? (d.action !== "remove" ? "" : d.deleteBranch ? `; branch ${d.branch} deleted` : `; branch ${d.branch} kept: ${d.branchKept}`) : "";
  const saved = d.stash && d.action === "remove" ? `\n    work saved on ${d.stash.ref}; recover it with: ${d.stash.recover}` : "";
  return `  ${action.padEnd(12)} ${d.id.padEnd(idWidth)} ${mb(d.sizeBytes).padStart(7)} MB  ${d.worktree}\n    ${d.reason}${branch}${saved}`;
}
