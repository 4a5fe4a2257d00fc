// `/health` is unauthenticated, so anyone who can reach the port can ask as
// often as they like; each report runs tmux and store checks (and whatever
// plugins add). Concurrent requests share one run, and a finished report
// answers for a second: the load is bounded whatever the request rate.
import type { HealthReport } from "@tmux-claude/core";

/** How long a report answers for: short enough for a monitor polling every few seconds to see every change. */
export const HEALTH_REUSE_MS = 1000;

/** `read` at most once at a time, its report reused for `reuseMs` after it finished. `read` must not reject. */
export function sharedHealth(read: () => Promise<HealthReport>, reuseMs = HEALTH_REUSE_MS): () => Promise<HealthReport> {
  let running: Promise<HealthReport> | undefined;
  let last: { report: HealthReport; at: number } | undefined;
  return () => {
    if (last && performance.now() - last.at < reuseMs) return Promise.resolve(last.report);
    running ??= read()
      .then((report) => {
        last = { report, at: performance.now() };
        return report;
      })
      .finally(() => (running = undefined));
    return running;
  };
}
