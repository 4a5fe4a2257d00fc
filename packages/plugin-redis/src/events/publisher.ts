/**
 * The publishing side: every kernel appends the events its own hooks fire to
 * `<prefix>:events`. The kernel fires each observed event once across the
 * processes of a node (EventMeta), and afterSpawn, afterTerminate and
 * spawnFailed in the one process that performed the operation, so each event
 * is appended once, by its node.
 *
 * Publishing never holds up or fails the kernel: taps are synchronous and do
 * not wait for Redis, and a failed append is counted and logged at most once
 * per LOG_INTERVAL_MS (Redis down would otherwise log every status change).
 */
import { randomUUID } from "node:crypto";
import { SECRET_ENV, type EventMeta, type InstanceRecord, type Logger, type PluginContext } from "@tmux-claude/core";
import type { RedisStore } from "../redis-store.js";
import { entryFields, fromHook, type ClusterEvent } from "./wire.js";

export const LOG_INTERVAL_MS = 30_000;

export interface PublisherOptions {
  store: RedisStore;
  stream: string;
  maxLen: number;
  logger: Logger;
}

export class EventPublisher {
  private failed = 0;
  private lastLogged = 0;

  constructor(private readonly options: PublisherOptions) {}

  /** Append an event; resolves when Redis took it or the failure was counted (never rejects: callers do not wait). */
  publish(event: ClusterEvent): Promise<void> {
    const { store, stream, maxLen } = this.options;
    return store
      .command("events: append", (client) => client.xadd(stream, "MAXLEN", "~", maxLen, "*", ...entryFields(event)))
      .then(
        () => this.recovered(),
        (error: unknown) => this.failure(error, event),
      );
  }

  private failure(error: unknown, event: ClusterEvent): void {
    this.failed++;
    const now = Date.now();
    if (now - this.lastLogged < LOG_INTERVAL_MS) return;
    this.lastLogged = now;
    this.options.logger.warn(
      { err: error, failed: this.failed, type: event.type, instance: event.instanceId },
      `events: could not append ${this.failed} event(s) to ${this.options.stream} (other nodes miss them; the agents are not affected); next report in ${LOG_INTERVAL_MS / 1000} s at the earliest`,
    );
    this.failed = 0;
  }

  private recovered(): void {
    if (this.failed === 0) return;
    this.options.logger.warn({ failed: this.failed }, `events: ${this.failed} more event(s) could not be appended before Redis answered again`);
    this.failed = 0;
    this.lastLogged = 0;
  }
}

/** Tap the kernel's event hooks: each event its kernel fires is appended, without waiting. */
export function tapEvents(ctx: PluginContext, publisher: EventPublisher): void {
  const { hooks, logger } = ctx;
  // Never throws: a throwing afterSpawn tap would fail the spawn, and one of afterTerminate the terminate.
  const send = (build: () => ClusterEvent): void => {
    try {
      void publisher.publish(build());
    } catch (error) {
      logger.error({ err: error }, "events: an event could not be put in its published form; it is not published");
    }
  };
  /** afterSpawn and afterTerminate carry no EventMeta: they fire once, in the process that performed the operation, so a fresh id is unique. */
  const metaOf = (record: InstanceRecord): EventMeta => ({ eventId: randomUUID(), instanceId: record.id, node: ctx.kernel.node, at: new Date().toISOString() });
  // afterSpawn does not say whether it was a restart; beforeSpawn's plan does, in this same process.
  const restarting = new Set<string>();
  hooks.beforeSpawn.tap((plan) => {
    if (plan.restart) restarting.add(plan.id);
    return plan;
  });
  hooks.statusChange.tap((change) => send(() => fromHook.statusChange(change)));
  hooks.delivered.tap((event) => send(() => fromHook.delivered(event)));
  hooks.turnEnded.tap((turn) => send(() => fromHook.turnEnded(turn)));
  hooks.usage.tap((update) => send(() => fromHook.usage(update)));
  hooks.progress.tap((update) => send(() => fromHook.progress(update)));
  hooks.afterSpawn.tap((record) => send(() => fromHook.afterSpawn(metaOf(record), record, restarting.delete(record.id))));
  hooks.afterTerminate.tap((event) => send(() => fromHook.afterTerminate(metaOf(event.instance), event.instance, event.cascade)));
  hooks.spawnFailed.tap((failure) => {
    restarting.delete(failure.plan.id);
    send(() => fromHook.spawnFailed(failure, SECRET_ENV.flatMap((name) => (failure.plan.env[name] === undefined ? [] : [failure.plan.env[name]]))));
  });
}
