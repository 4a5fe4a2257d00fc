// `tmux-claude git stats`: how often AI conflict resolution was accepted.
import { loadResolutionStats, type ResolutionStats } from "../resolve/log.js";
import type { GitSubcommand } from "./commands.js";

export const statsSubcommand: GitSubcommand = {
  name: "stats",
  usage: "stats [--json]",
  summary: "AI conflict resolutions: attempts, accepted, rejected, acceptance rate, rejections by reason",
  async run({ kernel, out }) {
    const stats = await loadResolutionStats(kernel.stateDir);
    out.result(stats, () => statsText(stats));
    return 0;
  },
};

export function statsText(stats: ResolutionStats): string {
  if (stats.attempts === 0) return "No AI conflict resolutions yet (merge with resolve: \"ai\" to make one).";
  const rate = `${((stats.acceptanceRate ?? 0) * 100).toFixed(1)}%`;
  const reasons = Object.entries(stats.byReason).map(([reason, count]) => `${reason} ${count}`);
  return [
    `AI conflict resolutions: ${stats.attempts} attempt${stats.attempts === 1 ? "" : "s"}, ${stats.accepted} accepted, ${stats.rejected} rejected (acceptance rate ${rate})`,
    ...(reasons.length ? [`Rejected by reason: ${reasons.join(", ")}`] : []),
  ].join("\n");
}
