/**
 * Telling the `operation` hook's taps that a caller's operation finished
 * (kernel.recordOperation), without letting them hold the caller: every MCP
 * reply and dashboard action waits for this, and a tap may wait on a lock
 * (the audit log's rotation lock, up to 10 s) or never settle (a third
 * party's). Every tap starts at once; the caller waits for them at most
 * `budgetMs`, then goes on while the slow ones finish in the background, with
 * a warning that names them. Failures, also late ones, are logged, never thrown.
 */
import type { Logger } from "pino";
import type { FullTap } from "tapable";
import type { OperationEvent } from "./events.js";
import type { KernelHooks } from "./hooks.js";

/** Long enough for a line appended to a local file (about 0.5 ms) or a rotation; short enough for a person waiting on a reply. */
export const OPERATION_TAP_BUDGET_MS = 1_000;

export async function tellOperationTaps(hook: KernelHooks["operation"], event: OperationEvent, logger: Logger, budgetMs = OPERATION_TAP_BUDGET_MS): Promise<void> {
  // Each tap on its own (not hook.promise), so a slow one can be named; tap.fn is the one hooks.ts wrapped to name its plugin in errors.
  const pending = new Set<FullTap>();
  const runs = hook.taps.map(async (tap) => {
    pending.add(tap);
    try {
      await callTap(tap, event);
    } catch (error) {
      logger.error({ err: error, operation: event.operation, plugin: tap.name }, "an operation tap failed");
    } finally {
      pending.delete(tap);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), budgetMs);
  });
  try {
    if ((await Promise.race([Promise.all(runs), budget])) !== "late") return;
  } finally {
    clearTimeout(timer);
  }
  const plugins = [...new Set([...pending].map((tap) => tap.name))];
  logger.warn(
    { operation: event.operation, plugins, budgetMs },
    `the operation hook's taps of ${plugins.map((name) => `"${name}"`).join(", ")} did not finish within ${budgetMs} ms: the caller got its answer without waiting, they go on in the background. A tap should hand slow work off (a queue) rather than hold every reply.`,
  );
}

function callTap(tap: FullTap, event: OperationEvent): Promise<unknown> {
  const fn = tap.fn as (...args: unknown[]) => unknown;
  if (tap.type === "async") {
    return new Promise((resolve, reject) => fn(event, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result))));
  }
  // A sync tap's throw becomes this promise's rejection, as tapable's parallel hook would have it.
  return Promise.resolve().then(() => fn(event));
}
