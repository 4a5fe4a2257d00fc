/** A replay as people read it: what happened, how long each step took, what decided the end, what it cost. */
import { formatDuration } from "../dsl/duration.js";
import type { ReplayReport, Tokens } from "./analyze.js";

/** `950`, `7.2k`, `31k`: token counts at a glance. */
export function shortCount(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export function formatTokens(tokens: Tokens): string {
  return `${shortCount(tokens.inputTokens)} in / ${shortCount(tokens.outputTokens)} out${tokens.costUsd === undefined ? "" : `, $${tokens.costUsd.toFixed(2)}`}`;
}

const offset = (ms: number | undefined) => (ms === undefined ? "-" : `+${formatDuration(ms)}`);

export function formatReplay(report: ReplayReport): string {
  const took = report.durationMs === undefined ? "no end recorded (still running, or its runner died: tmux-claude run --resume " + report.run + ")" : `after ${formatDuration(report.durationMs)}`;
  const lines = [`Run ${report.run} (${report.workflow}, ${report.source}): ${report.state} ${took}${report.resumes > 0 ? `, resumed ${report.resumes}x` : ""}`];
  if (report.failure) lines.push(`Failed at step "${report.failure.step}": ${report.failure.reason}`);

  lines.push("", "Timeline:");
  const actorWidth = Math.min(28, Math.max(...report.timeline.map((entry) => entry.actor.length)));
  const offsetWidth = Math.max(...report.timeline.map((entry) => offset(entry.offsetMs).length));
  for (const entry of report.timeline) lines.push(`  ${offset(entry.offsetMs).padStart(offsetWidth)}  ${entry.actor.padEnd(actorWidth)}  ${entry.text}`);

  lines.push("", "Steps:");
  const rows = report.steps.map((step) => [
    step.id,
    step.kind,
    step.state + (step.restarted ? " (resumed)" : ""),
    offset(step.startOffsetMs),
    step.durationMs === undefined ? "-" : formatDuration(step.durationMs),
    step.instances.length === 0 ? "-" : String(step.instances.length),
    step.kind === "spawn" ? formatTokens(step.tokens) : "-",
    step.reason ?? "",
  ]);
  lines.push(...table(["STEP", "KIND", "STATE", "START", "TOOK", "INSTANCES", "TOKENS", "REASON"], rows).map((line) => `  ${line}`));

  const path = report.criticalPath.steps.map((id) => {
    const step = report.steps.find((s) => s.id === id);
    return step?.durationMs === undefined ? id : `${id} (${formatDuration(step.durationMs)})`;
  });
  lines.push("", `Critical path (${formatDuration(report.criticalPath.durationMs)}): ${path.join(" -> ") || "no step finished"}`);
  lines.push(`Tokens: ${formatTokens(report.tokens)}`);
  return lines.join("\n");
}

/** Columns padded to their widest cell; the last column is not padded. */
function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  return all.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ").trimEnd());
}
