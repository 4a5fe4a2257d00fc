import type { EventEmitter } from "node:events";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { StateStore } from "../store/store-contract.js";

/** What the instance manager tells about its instances while a sender waits. */
export interface ManagerEvents {
  status: [id: string, record: InstanceRecord];
  /** This process attached to the instance (its driver started): the record as it was then. */
  attached: [id: string, record: InstanceRecord];
  /** Its adapter reported (a status, changed or not) or its pane printed: the instance is doing something (kernel.activity). */
  activity: [id: string, source: "report" | "output", record: InstanceRecord, quietForMs?: number];
  delivered: [messageId: string];
  /** A queued message could not be typed in; it stays queued and is tried again. */
  deliveryFailed: [messageId: string, error: unknown];
}

export interface DeliveryWaitDeps {
  store: StateStore;
  events: EventEmitter<ManagerEvents>;
  /** The instance as this process sees it, when attached (its status may be newer than the store's). */
  live(id: string): InstanceRecord | undefined;
  /** Attach to the instance (so its exit is seen here) and start delivering its queue. */
  deliver(id: string): Promise<void>;
  /** Aborted when this process lets go of the instance (tmux connection lost, kernel closing). */
  gone(id: string): AbortSignal | undefined;
  /** Why the message may still be queued at the timeout; by default, the agent has not become idle. */
  stillQueuedBecause?: string;
}

/**
 * Wait until a queued message was delivered, by this process or another one
 * (its queue file going away says so). Fails as soon as the message cannot be
 * delivered any more: the instance exited or was terminated, or a delivery
 * attempt of this very message failed. An exited instance keeps its queue, so
 * `restart` delivers the message; `terminate` drops it.
 */
export function waitDelivered(deps: DeliveryWaitDeps, instanceId: string, messageId: string, timeoutMs: number): Promise<void> {
  const { store, events } = deps;
  const stillQueued = async () => (await store.queue(instanceId)).some((m) => m.id === messageId);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let gone: AbortSignal | undefined;
    const cleanups: (() => void)[] = [];
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      for (const cleanup of cleanups) cleanup();
      if (error === undefined) resolve();
      else reject(error);
    };

    /** Decide from the store: delivered, terminated, exited, or still waiting. */
    const check = async (): Promise<void> => {
      if (settled) return;
      const [queued, stored] = await Promise.all([stillQueued(), store.get(instanceId)]);
      // A terminate marks the record before it stops the agent, so its exit is not mistaken for a crash.
      if (!stored || stored.terminatedAt) return finish(terminatedError(instanceId, messageId));
      if (!queued) return finish();
      const record = deps.live(instanceId) ?? stored;
      if (record.status === "exited") finish(exitedError(record, messageId));
    };
    const checkOrFail = () => void check().catch(finish);

    /** Attach (again) and keep watching; an instance that cannot be attached to fails the wait with the reason. */
    const follow = async (): Promise<void> => {
      await deps.deliver(instanceId);
      if (settled) return;
      gone?.removeEventListener("abort", onGone);
      gone = deps.gone(instanceId);
      gone?.addEventListener("abort", onGone, { once: true });
      await check();
    };
    // Let go of (tmux connection lost, kernel closing): look again, re-attaching if the instance lives on.
    const onGone = () => void check().then(() => (settled ? undefined : follow())).catch(finish);

    const onDelivered = (id: string) => {
      if (id === messageId) finish();
    };
    const onFailed = (id: string, error: unknown) => {
      if (id === messageId) finish(deliveryFailedError(instanceId, messageId, error));
    };
    const onStatus = (id: string, record: InstanceRecord) => {
      if (id === instanceId && record.status === "exited") checkOrFail();
    };
    events.on("delivered", onDelivered);
    events.on("deliveryFailed", onFailed);
    events.on("status", onStatus);
    // Another process (serve, a restart, a terminate) may deliver, drop or end it.
    const watching = store.watch((change) => {
      if ((change.kind === "queue" && change.instanceId === instanceId) || (change.kind === "instance" && change.id === instanceId)) checkOrFail();
    });
    const timer = setTimeout(
      () =>
        finish(
          new TmuxClaudeError(
            ErrorCodes.SEND_TIMEOUT,
            `Message ${messageId} to "${instanceId}" is still queued after ${timeoutMs} ms: ${deps.stillQueuedBecause ?? "the agent has not become idle. It stays queued and is delivered when it does."}`,
            { id: instanceId, messageId },
          ),
        ),
      timeoutMs,
    );
    cleanups.push(() => {
      clearTimeout(timer);
      watching.stop();
      events.off("delivered", onDelivered);
      events.off("deliveryFailed", onFailed);
      events.off("status", onStatus);
      gone?.removeEventListener("abort", onGone);
    });

    void (async () => {
      // Decide only once every later change will be seen.
      await watching.ready;
      await check();
      if (!settled) await follow();
    })().catch(finish);
  });
}

function exitedError(record: InstanceRecord, messageId: string): TmuxClaudeError {
  const why = record.statusReason ? `: ${record.statusReason}` : "";
  return new TmuxClaudeError(
    ErrorCodes.INSTANCE_EXITED,
    `Message ${messageId} to "${record.id}" was not delivered: the instance exited${why}. The message stays queued: tmux-claude restart ${record.id} delivers it, tmux-claude terminate ${record.id} drops it.`,
    { id: record.id, messageId, status: record.status, reason: record.statusReason, queued: true },
  );
}

function terminatedError(instanceId: string, messageId: string): TmuxClaudeError {
  return new TmuxClaudeError(
    ErrorCodes.INSTANCE_NOT_FOUND,
    `Message ${messageId} to "${instanceId}" was not delivered: the instance was terminated, and its queued messages with it.`,
    { id: instanceId, messageId, queued: false },
  );
}

export function deliveryFailedError(instanceId: string, messageId: string, error: unknown): TmuxClaudeError {
  const reason = error instanceof Error ? error.message : String(error);
  const code = isTmuxClaudeError(error) ? error.code : ErrorCodes.SEND_FAILED;
  return new TmuxClaudeError(
    code,
    `Message ${messageId} to "${instanceId}" was queued, but typing it in failed: ${reason}\nIt stays queued and is tried again while "${instanceId}" is idle.`,
    { id: instanceId, messageId, queued: true },
    { cause: error },
  );
}
