import { randomUUID } from "node:crypto";
import type { AgentDriver, TokenUsage, TurnEndReason } from "../agents/adapter.js";
import type { EventMeta } from "../kernel/events.js";
import type { InstanceRecord, InstanceStatus } from "../store/types.js";
import { EventOwner } from "./event-owner.js";
import { KeyedChain } from "./keyed-chain.js";
import { TURN_PROMPTS } from "./turn-prompts.js";
import type { ManagerDeps } from "./deps.js";

/** How this process came to know a change (see EventOwner.shouldFire). */
export interface Recorded {
  /** Its own attachment saw it. */
  observed: boolean;
  /** Its write made the change. */
  recordedHere: boolean;
  /** It removed the change's pending turn-end mark (InstanceRecord.turnEnd). */
  claimed?: boolean;
}

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
  /** Each instance's prompt as read when its current turn began (TurnEnded.prompt). */
  private readonly turnPrompts = new Map<string, string | undefined>();

  constructor(
    private readonly deps: ManagerDeps,
    /** Store the usage being announced on the record (InstanceRecord.usage), so every process sees it. */
    private readonly recordUsage: (id: string, usage: TokenUsage) => Promise<void>,
    /** Remove the pending mark of the turn end `record` recorded (InstanceRecord.turnEnd); true when this call removed it. */
    private readonly claimTurnEnd: (record: InstanceRecord) => Promise<boolean>,
  ) {}

  async start(serving: boolean): Promise<void> {
    this.owner = new EventOwner(this.deps.stateDir, this.deps.nodes.id, serving, Object.keys(this.deps.config.agents));
    await this.owner.start();
  }

  async stop(): Promise<void> {
    await this.chain.all();
    await this.owner?.stop();
  }

  /** Resolves once this change's events were fired (or found to be another process's to fire). */
  announce(record: InstanceRecord, change: ObservedChange, recorded: Promise<Recorded>): Promise<void> {
    const { hooks, logger } = this.deps;
    const failed = (hook: string) => (error: unknown) => logger.error({ err: error, instance: record.id }, `a ${hook} tap failed`);
    return this.chain.run(record.id, async () => {
      // Read when the turn begins: the sender wrote it before typing, and by the turn's end it may already have written the next one.
      if (startsTurn(change.from, change.to)) this.turnPrompts.set(record.id, await this.storedPrompt(record));
      const how = await recorded;
      if (!this.owner || !(await this.owner.shouldFire({ ...how, turn: change.turn !== undefined }, record.agent))) return;
      // A turn end this one-shot kernel recorded is marked pending: serve, just attached, may claim it too.
      if (change.turn && !this.owner.isServing && !(await this.claimTurnEnd(record))) return;
      await hooks.statusChange.promise({ ...this.meta(record.id), instance: record, from: change.from, to: change.to, reason: change.reason }).catch(failed("statusChange"));
      if (!change.turn) return;
      const usage = await change.driver?.usage?.().catch(() => undefined);
      const prompt = this.turnPrompts.has(record.id) ? this.turnPrompts.get(record.id) : await this.storedPrompt(record);
      this.turnPrompts.delete(record.id);
      await hooks.turnEnded
        .promise({ ...this.meta(record.id), instance: record, reason: change.turn, lastReply: record.lastReply, ...(prompt !== undefined ? { prompt } : {}), ...(usage ? { usage } : {}) })
        .catch(failed("turnEnded"));
      if (!usage) return;
      // Stored before the hook fires: a tap (a dashboard) that reads the record finds it there.
      await this.recordUsage(record.id, usage).catch((error: unknown) => logger.warn({ err: error, instance: record.id }, "could not store the instance's usage"));
      await hooks.usage.promise({ ...this.meta(record.id), instance: { ...record, usage }, usage }).catch(failed("usage"));
    });
  }

  /** Is this process the one to act on the node's instances of `agent` (see EventOwner.owns)? */
  owns(agent: string): Promise<boolean> {
    return this.owner?.owns(agent) ?? Promise.resolve(false);
  }

  /** The last message typed into the instance by any process (written to the store before it was typed, typing.ts). */
  private async storedPrompt(record: InstanceRecord): Promise<string | undefined> {
    const doc = (await this.deps.store.getDoc(TURN_PROMPTS, record.id).catch(() => undefined)) as { text?: unknown } | undefined;
    return typeof doc?.text === "string" ? doc.text : record.turnPrompt;
  }

  /** What every event carries: a fresh id, the instance, this node, the time. */
  meta(instanceId: string): EventMeta {
    return { eventId: randomUUID(), instanceId, node: this.deps.nodes.id, at: new Date().toISOString() };
  }
}

function startsTurn(from: InstanceStatus, to: InstanceStatus): boolean {
  return to === "busy" && from !== "busy" && from !== "waiting";
}

/** Without the adapter's word, a turn ends when a working agent goes idle (it answered) or into error or its usage limit (it failed). */
export function implicitTurnEnd(from: InstanceStatus, to: InstanceStatus): TurnEndReason | undefined {
  if (from !== "busy" && from !== "waiting") return undefined;
  if (to === "idle") return "stop";
  if (to === "error" || to === "limited") return "failure";
  return undefined;
}
