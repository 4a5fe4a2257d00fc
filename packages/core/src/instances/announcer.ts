import { randomUUID } from "node:crypto";
import type { AgentDriver, TurnEndReason } from "../agents/adapter.js";
import type { EventMeta } from "../kernel/events.js";
import type { InstanceRecord, InstanceStatus } from "../store/types.js";
import { EventOwner } from "./event-owner.js";
import { KeyedChain } from "./keyed-chain.js";
import type { ManagerDeps } from "./deps.js";

export interface ObservedChange {
  from: InstanceStatus;
  to: InstanceStatus;
  reason?: string;
  /** Set when the change ends a turn. */
  turn?: TurnEndReason;
  /** The attachment's driver, to ask for token use after a turn. */
  driver?: AgentDriver;
}

/**
 * Fires the observed events of a change (statusChange, then turnEnded and
 * usage when it ends a turn) once across processes (see EventOwner), after
 * the change is written, and in the order of the changes of each instance.
 */
export class Announcer {
  private readonly chain = new KeyedChain();
  private owner: EventOwner | undefined;

  constructor(private readonly deps: ManagerDeps) {}

  async start(serving: boolean): Promise<void> {
    this.owner = new EventOwner(this.deps.stateDir, this.deps.nodes.id, serving);
    await this.owner.start();
  }

  async stop(): Promise<void> {
    await this.chain.all();
    await this.owner?.stop();
  }

  /** Resolves once this change's events were fired (or found to be another process's to fire). */
  announce(record: InstanceRecord, change: ObservedChange, recorded: Promise<{ observed: boolean; recordedHere: boolean }>): Promise<void> {
    const { hooks, logger } = this.deps;
    const failed = (hook: string) => (error: unknown) => logger.error({ err: error, instance: record.id }, `a ${hook} tap failed`);
    return this.chain.run(record.id, async () => {
      if (!this.owner || !(await this.owner.shouldFire(await recorded))) return;
      await hooks.statusChange.promise({ ...this.meta(record.id), instance: record, from: change.from, to: change.to, reason: change.reason }).catch(failed("statusChange"));
      if (!change.turn) return;
      const usage = await change.driver?.usage?.().catch(() => undefined);
      await hooks.turnEnded
        .promise({ ...this.meta(record.id), instance: record, reason: change.turn, lastReply: record.lastReply, ...(usage ? { usage } : {}) })
        .catch(failed("turnEnded"));
      if (usage) await hooks.usage.promise({ ...this.meta(record.id), instance: record, usage }).catch(failed("usage"));
    });
  }

  /** What every event carries: a fresh id, the instance, this node, the time. */
  meta(instanceId: string): EventMeta {
    return { eventId: randomUUID(), instanceId, node: this.deps.nodes.id, at: new Date().toISOString() };
  }
}

/** Without the adapter's word, a turn ends when a working agent goes idle (it answered) or into error (it failed). */
export function implicitTurnEnd(from: InstanceStatus, to: InstanceStatus): TurnEndReason | undefined {
  if (from !== "busy" && from !== "waiting") return undefined;
  if (to === "idle") return "stop";
  if (to === "error") return "failure";
  return undefined;
}
