/** The kernel's health: its own checks (tmux, the store) and the ones plugins add through the `health` hook. */
import type { StateStore } from "../store/store-contract.js";

/** One dependency's check, added through the `health` hook (a Redis connection, an HTTP endpoint). */
export interface HealthCheck {
  /** Short and stable: it names the check in `/health` and in logs (`tmux`, `store`, `mcp`, `redis`). */
  name: string;
  /**
   * Resolves with the dependency's state now; a throw counts as not ok (its
   * message is the detail). It runs under a timeout (HEALTH_CHECK_TIMEOUT_MS),
   * so it need not bound itself, but it should not start work it cannot stop.
   */
  check(): Promise<{ ok: boolean; detail: string }>;
}

export interface HealthCheckResult {
  name: string;
  ok: boolean;
  /** What was found, for a person: no secrets, no instance data. */
  detail: string;
}

export interface HealthReport {
  /** Every check is ok. */
  ok: boolean;
  checks: HealthCheckResult[];
}

/** How long one check may take before it counts as failed ("timed out"). */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** Run checks concurrently, each bounded by `timeoutMs`: a hung dependency makes a failed check, never a hung report. */
export async function runHealthChecks(checks: readonly HealthCheck[], timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<HealthReport> {
  const results = await Promise.all(checks.map((check) => runOne(check, timeoutMs)));
  return { ok: results.every((result) => result.ok), checks: results };
}

async function runOne(check: HealthCheck, timeoutMs: number): Promise<HealthCheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<{ ok: boolean; detail: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(() => check.check()), timedOut]);
    return { name: check.name, ok: outcome.ok === true, detail: String(outcome.detail ?? "") };
  } catch (error) {
    return { name: check.name, ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** The kernel's own checks: its tmux server answers, and its store answers a read. */
export function kernelChecks(runtime: { health(): Promise<{ ok: boolean; detail: string }> }, store: StateStore): HealthCheck[] {
  return [
    { name: "tmux", check: () => runtime.health() },
    {
      name: "store",
      check: async () => {
        const started = performance.now();
        // Any id will do: a read of one record is the cheapest operation every store has, and it reaches the storage.
        await store.get(STORE_PROBE_ID);
        return { ok: true, detail: `a read took ${Math.round(performance.now() - started)} ms` };
      },
    },
  ];
}

/** The record the store check reads (it need not exist). */
const STORE_PROBE_ID = "health-0";
