import type { EventEmitter } from "node:events";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { InstanceRecord, InstanceStatus } from "../store/types.js";
import type { ManagerEvents } from "./wait-delivered.js";

/**
 * Resolve with the status once `accept(status)` holds or the instance exited;
 * READ_TIMEOUT after `timeoutMs`. `current` is the status known now; `gone`,
 * when the instance is attached here, rejects the wait once it is let go of.
 */
export function waitForStatusChange(
  events: EventEmitter<ManagerEvents>,
  id: string,
  current: InstanceStatus,
  accept: (status: InstanceStatus) => boolean,
  timeoutMs: number,
  gone: AbortSignal | undefined,
): Promise<InstanceStatus> {
  if (accept(current) || current === "exited") return Promise.resolve(current);
  if (gone?.aborted) return Promise.reject(gone.reason as Error);
  return new Promise<InstanceStatus>((resolve, reject) => {
    const onStatus = (changed: string, record: InstanceRecord) => {
      if (changed !== id) return;
      if (accept(record.status) || record.status === "exited") {
        cleanup();
        resolve(record.status);
      }
    };
    // Let go of (kernel closing, instance terminated): nothing here will see its status change.
    const onGone = () => {
      cleanup();
      reject(gone!.reason as Error);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new TmuxClaudeError(ErrorCodes.READ_TIMEOUT, `Instance "${id}" did not change state within ${timeoutMs} ms.`, { id }));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      events.off("status", onStatus);
      gone?.removeEventListener("abort", onGone);
    };
    events.on("status", onStatus);
    gone?.addEventListener("abort", onGone, { once: true });
  });
}
