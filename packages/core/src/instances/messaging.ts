import { randomUUID } from "node:crypto";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import type { DeliveryReceipt, OutgoingMessage, WhenBusy } from "../kernel/messages.js";
import type { SubmitOptions } from "../agents/adapter.js";
import type { InstanceRecord } from "../store/types.js";
import { DeliveryAttemptError, deliverNext, type DeliveryDeps, type DeliveryOutcome } from "./delivery.js";
import { exitedError } from "./failures.js";
import { KeyedChain } from "./keyed-chain.js";
import { earlierReceipt, messageEntry, withDelivered, withQueued, type SentMessage } from "./message-history.js";
import type { Registry } from "./registry.js";
import { DELIVERABLE, type SendOptions } from "./types.js";
import type { Live, ManagerDeps } from "./deps.js";
import { deliveryFailedError, waitDelivered } from "./wait-delivered.js";
import { requireRecord } from "./lookups.js";
import { RecentReceipts, checkMessage, checkMessageId } from "./send-input.js";
import { DrainRetries } from "./drain-retries.js";
import { heldIn, pausedError } from "./holds.js";
import { storePromptUnlessHeld, submitText, withSendLock } from "./typing.js";
import { checkThreadOptions, RecentThreads, threadFields, threadOfNew } from "./threads.js";

/**
 * Where a message goes after `send`: `beforeSend` may rewrite it, `route` may
 * deliver it elsewhere, else it is typed into the local agent now or queued
 * until the agent is idle (`drain` delivers the queue, oldest first).
 */
export class Messaging {
  /** One line per instance: its messages are handled in the order of the calls. */
  private readonly lines = new KeyedChain();

  /** When to try a failed drain again. */
  private readonly retries: DrainRetries;

  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
  ) {
    this.retries = new DrainRetries(registry, deps.logger, (id) => this.drain(id));
    registry.onDeliverable = (id) => this.drain(id);
    deps.nodes.queueWhileDown = (message) => this.queueWhileDown(message);
  }

  /**
   * A message for another node's instance while that node is down, with
   * whenBusy "queue": into the store's queue, as for a busy agent. The node's
   * serve delivers it, once, when it runs again (it drains the queues of the
   * instances it re-attaches).
   */
  private queueWhileDown(message: OutgoingMessage): Promise<DeliveryReceipt> {
    const id = message.instanceId;
    return this.sendLock(id, async () => {
      const position = (await this.deps.store.queue(id)).length + 1;
      await this.enqueue(message, new Date().toISOString());
      const hold = await heldIn(this.deps.store, id);
      return { messageId: message.id, instanceId: id, state: "queued", position, ...(hold ? { paused: hold.reason } : {}) };
    });
  }

  /** `awaitHistory`: a typed message's receipt waits for its history mark (and the record's turnPrompt), e.g. a spawn's prompt. */
  async send(id: string, text: string, options: SendOptions = {}, caller: string | null = null, awaitHistory = false): Promise<DeliveryReceipt> {
    const whenBusy = options.whenBusy ?? "queue";
    checkMessage(id, text, whenBusy);
    checkMessageId(id, options.messageId);
    checkThreadOptions(id, options);
    // Join this instance's line before the first await: messages keep the order of the calls.
    return this.lines.run(id, () => this.sendNow(id, text, whenBusy, caller, options, awaitHistory));
  }

  /**
   * A message routed here from another node: delivered as it is (its id
   * kept), without beforeSend or route. One for a free agent goes in through
   * the queue all the same (history, queue, the drain's claim) and is waited
   * for: a kill -9 of this process while typing it is then finished by the
   * next one from the claim and the agent's evidence, never typed twice,
   * while the sending node waits for the answer (whenBusy "now" is typed at
   * once, as asked).
   */
  async sendHere(message: OutgoingMessage): Promise<DeliveryReceipt> {
    checkMessage(message.instanceId, message.text, message.whenBusy);
    if (typeof message.id !== "string" || message.id === "") {
      throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `A routed message to "${message.instanceId}" has no id; pass the message as the sending node made it.`, { id: message.instanceId });
    }
    const { receipt, viaQueue } = await this.lines.run(message.instanceId, async () => {
      const record = this.registry.get(message.instanceId)?.record ?? (await requireRecord(this.deps.store, message.instanceId));
      this.deps.nodes.assertOwned(record, "deliver a message to");
      if (record.status === "exited") throw exitedError(record);
      return this.deliverLocal(message, record, true);
    });
    if (!viaQueue) return receipt;
    // Outside the instance's line: the drain that types it runs on that line.
    try {
      await this.waitDelivered(message.instanceId, message.id, this.deps.config.limits.sendTimeout);
    } catch (error) {
      // Still queued (a dead kernel's claim holds it for its lease): it is delivered later, once; the receipt says queued.
      if (isTmuxClaudeError(error, ErrorCodes.SEND_TIMEOUT)) return receipt;
      throw error;
    }
    return { messageId: message.id, instanceId: message.instanceId, state: "delivered", acceptedAt: new Date().toISOString() };
  }

  private async sendNow(id: string, text: string, whenBusy: WhenBusy, caller: string | null, options: SendOptions, awaitHistory: boolean): Promise<DeliveryReceipt> {
    const { messageId } = options;
    // A repeated send (the sender's own id) reads what the store knows of it, whichever process sent it first.
    const record = messageId === undefined ? (this.registry.get(id)?.record ?? (await requireRecord(this.deps.store, id))) : await requireRecord(this.deps.store, id);
    if (messageId !== undefined) {
      const earlier = this.recent.get(messageId) ?? earlierReceipt(record, await this.deps.store.queue(id), messageId);
      if (earlier?.state === "queued") return this.deliverRepeated(record, earlier);
      if (earlier) return earlier;
    }
    if (record.status === "exited") throw exitedError(record);
    const { hooks } = this.deps;
    const newId = messageId ?? randomUUID();
    // Only a reply without its threadId may read a history (the sender's record): see threads.ts.
    const threadId = await threadOfNew(newId, options, this.threads, record, async () => (caller === null ? undefined : (this.registry.get(caller)?.record ?? (await this.deps.store.get(caller)))));
    let message: OutgoingMessage = { id: newId, instanceId: id, text, from: caller, whenBusy, ...threadFields({ threadId, replyTo: options.replyTo }) };
    message = await hooks.beforeSend.promise(message);
    const delivered = await this.deps.nodes.deliver(record, message, async () => (await this.deliverLocal(message, record, false, messageId !== undefined || awaitHistory)).receipt);
    const receipt: DeliveryReceipt = { ...delivered, threadId: message.threadId ?? message.id };
    if (messageId !== undefined) this.recent.remember(messageId, receipt);
    await hooks.afterSend.promise(message, receipt);
    return receipt;
  }

  /**
   * A repeated send whose message is still queued: its first sender may have
   * died between the enqueue and the drain that would have typed it (an idle
   * agent has no other reason to drain), so start that drain here, or have the
   * instance's node do it.
   */
  private async deliverRepeated(record: InstanceRecord, earlier: DeliveryReceipt): Promise<DeliveryReceipt> {
    const receipt = record.hold ? { ...earlier, paused: record.hold.reason } : earlier; // read from the store for this repeat
    if (!this.deps.nodes.owns(record)) return this.deps.nodes.nudge(record, receipt);
    await this.registry.attach(record);
    this.drain(record.id);
    return receipt;
  }

  /**
   * Receipts of sends with the sender's own id, by id: a message typed in at
   * once reaches the instance's history only with its next write, so a repeat
   * from this process finds it here first (other processes' writes landed
   * before they closed).
   */
  private readonly recent = new RecentReceipts();
  /** Threads of this process's recent sends (see RecentThreads). */
  private readonly threads = new RecentThreads();

  /**
   * Deliver on this machine's tmux; runs inside the instance's line.
   * `viaQueue`: the message was queued although the agent is free (a routed
   * one, see sendHere); its caller waits for the drain.
   */
  private async deliverLocal(message: OutgoingMessage, record: InstanceRecord, routed: boolean, awaitHistory = false): Promise<{ receipt: DeliveryReceipt; viaQueue: boolean }> {
    const { store } = this.deps;
    const id = message.instanceId;
    const sentAt = new Date().toISOString();
    const live = await this.registry.attach(record);
    return this.sendLock(id, async () => {
      const queue = await store.queue(id);
      // Held (kernel.hold, by any process): the message may only wait in the queue until the release. The followed record
      // shows another process's hold (or release) late: a hold it shows is checked here, one it does not show below.
      let hold = live.record.hold && (await heldIn(store, id));
      if (hold && message.whenBusy !== "queue") throw pausedError(id, hold, message.whenBusy);
      // The queue may hold this very message: a routed one whose owner was killed after queueing it (performed again).
      const waiting = queue.filter((m) => m.id !== message.id);
      const inQueue = waiting.length !== queue.length;
      // Performed again (bus recovery) after this node's drain delivered it: in the history, out of the queue (acked).
      const known = routed && !inQueue ? live.record.messages?.find((m) => m.id === message.id) : undefined;
      if (known) return { receipt: { messageId: message.id, instanceId: id, state: "delivered", acceptedAt: known.acceptedAt ?? sentAt }, viaQueue: false };
      // An answer already on the screen may still be being looked at: queue only for an agent that is busy after that look.
      if (!DELIVERABLE.has(live.record.status) && waiting.length === 0) await live.driver.settled?.();
      const status = live.record.status;
      if (status === "exited") throw exitedError(live.record);
      let free = DELIVERABLE.has(status) && waiting.length === 0 && !hold;
      const types = (free && !(routed && message.whenBusy !== "now")) || (!free && message.whenBusy === "now");
      // The store's hold where the followed record showed none: for a message to type, read in the write of its prompt.
      const found = types ? await storePromptUnlessHeld(this.deps, live, message.text) : live.record.hold ? undefined : await heldIn(store, id);
      if (found && message.whenBusy !== "queue") throw pausedError(id, found, message.whenBusy);
      hold ??= found;
      free &&= !found;
      if (!free && message.whenBusy === "refuse") {
        throw new TmuxClaudeError(
          ErrorCodes.INSTANCE_BUSY,
          `Instance "${id}" is ${status}${waiting.length ? ` with ${waiting.length} queued message(s)` : ""}; the message was refused as asked. Send with whenBusy "queue" to deliver it when the agent is idle.`,
          { id, status, queued: waiting.length },
        );
      }
      const viaQueue = routed && free && message.whenBusy !== "now";
      if ((!free && message.whenBusy === "queue") || viaQueue) {
        // Into the queue before the history (see enqueue).
        await this.enqueue(message, sentAt, { alreadyQueued: inQueue });
        this.deps.logger.debug({ instance: id, message: message.id, status }, "queued");
        const queued: DeliveryReceipt = { messageId: message.id, instanceId: id, state: "queued", position: waiting.length + 1, ...(hold ? { paused: hold.reason } : {}) };
        if (!viaQueue) {
          // Queued behind others for an idle agent: whoever queued those may have died or missed the drain (a node that came
          // back), so make sure one runs; a drain already under way makes this one find the queue empty or held.
          if (DELIVERABLE.has(status) && !hold) this.drain(id);
          return { receipt: queued, viaQueue };
        }
        // The agent is free and this line and send lock are held: deliver it from the queue now, as the drain would
        // (claim, type, ack), instead of letting go and waiting for the drain to take both again.
        const delivered = await this.deliverQueuedNow(live, message);
        return delivered ? { receipt: delivered, viaQueue: false } : { receipt: queued, viaQueue };
      }
      await this.submit(live, message.text, undefined, true);
      const receipt: DeliveryReceipt = { messageId: message.id, instanceId: id, state: "delivered", acceptedAt: new Date().toISOString() };
      const recorded = this.recordDelivery(id, message, sentAt, receipt.acceptedAt!);
      // A sender that chose the id may repeat the send from another process: the history must know it by then.
      if (awaitHistory) await recorded;
      this.announceDelivery(message, receipt, false);
      return { receipt, viaQueue: false };
    });
  }

  /**
   * Into the queue, then into the instance's history as queued. In this order
   * a history entry marked queued that the queue no longer holds has left it
   * (delivered, its mark not written yet): a repeated send relies on that
   * (earlierReceipt), and a sender killed in between leaves the message
   * queued, which the repeat finds. A delivery that comes first writes the
   * entry delivered, and the queued mark then leaves it so (withQueued). The
   * history only tells: a failed write of it is logged, the message is queued.
   */
  private async enqueue(message: OutgoingMessage, sentAt: string, options: { alreadyQueued?: boolean } = {}): Promise<void> {
    const id = message.instanceId;
    // Already queued: a routed message whose owner was killed after queueing it, performed again.
    if (!options.alreadyQueued) await this.deps.store.enqueue({ id: message.id, instanceId: id, text: message.text, from: message.from, enqueuedAt: sentAt, ...threadFields(message) });
    const entry = withQueued(messageEntry(message, sentAt, "queued"));
    await this.registry
      .persistShared(id, entry)
      .catch((error: unknown) => this.deps.logger.warn({ err: error, instance: id, message: message.id }, "could not record a queued message in the instance's history"));
  }

  /**
   * Mark the message delivered in the instance's history. A message typed in
   * at once does not wait for it (the receipt does not): it rides on the
   * instance's next write (`registry.persistShared`, awaited by close). It is
   * an update of the stored record, so a later write by any process keeps it.
   * The record's `turnPrompt` comes with it (the one written before typing is
   * a store document, see typing.ts; this copy may trail a later sender's).
   */
  private recordDelivery(id: string, message: SentMessage, sentAt: string, acceptedAt: string): Promise<void> {
    return this.registry
      .persistShared(id, (r) => ({ ...withDelivered({ ...messageEntry(message, sentAt, "delivered"), acceptedAt })(r), turnPrompt: message.text }))
      .catch((error: unknown) => this.deps.logger.warn({ err: error, instance: id, message: message.id }, "could not record a delivery in the instance's history"));
  }

  /**
   * Deliver the queue's oldest message, `messageId` (queued for a free agent), inside the caller's line and send lock:
   * its receipt, or undefined when something else was first (a dead kernel's claim; the caller waits for the drain).
   */
  private async deliverQueuedNow(live: Live, { id: messageId }: OutgoingMessage): Promise<DeliveryReceipt | undefined> {
    const id = live.record.id;
    let outcome: DeliveryOutcome;
    try {
      // Its history mark is not waited for, as for a message typed in at once (see recordDelivery).
      outcome = await deliverNext(this.deliveryDeps({ awaitRecord: false }), live);
    } catch (error) {
      if (!(error instanceof DeliveryAttemptError)) throw error;
      this.deps.logger.warn({ err: error.cause, instance: id }, "delivering a routed message failed; it stays queued and is tried again when the agent shows a sign of life");
      this.retries.onNextSign(id);
      throw deliveryFailedError(id, error.messageId, error.cause);
    }
    if (outcome.kind !== "delivered") return undefined;
    const receipt = this.queuedDelivered(id, outcome);
    if (outcome.message.id === messageId) return receipt;
    // Another message was first (a claim recovered from a dead kernel): ours is next, for the drain.
    this.drain(id);
    return undefined;
  }

  /** `delivered`: fired by the one process that typed the message in. */
  private announceDelivery(message: SentMessage & { instanceId: string }, receipt: DeliveryReceipt, queued: boolean): void {
    const event = { ...this.registry.eventMeta(message.instanceId), message: { id: message.id, instanceId: message.instanceId, text: message.text, from: message.from, ...threadFields(message) }, receipt, queued };
    void this.deps.hooks.delivered.promise(event).catch((error: unknown) => this.deps.logger.error({ err: error, instance: message.instanceId }, "a delivered tap failed"));
  }

  /** Wait until a queued message was delivered; fails at once when it no longer can be (see wait-delivered.ts). */
  waitDelivered(instanceId: string, messageId: string, timeoutMs: number): Promise<void> {
    return waitDelivered(
      {
        store: this.deps.store,
        events: this.registry.events,
        live: (id) => this.registry.get(id)?.record,
        deliver: async (id) => {
          await this.registry.attach(await requireRecord(this.deps.store, id));
          this.drain(id);
        },
        gone: (id) => this.registry.get(id)?.gone.signal,
      },
      instanceId,
      messageId,
      timeoutMs,
    );
  }

  /** Wait until every message queued for an instance now was delivered (e.g. those kept while it was exited); returns how many. */
  async deliverQueued(instanceId: string, timeoutMs: number): Promise<number> {
    const queue = await this.deps.store.queue(instanceId);
    const last = queue.at(-1);
    if (last) await this.waitDelivered(instanceId, last.id, timeoutMs);
    return queue.length;
  }

  /** Attachments already checked for a delivery a dead kernel left half done. */
  private readonly recoveryChecked = new WeakSet<Live>();

  /** Instances whose agent this process is launching (see launchingHere). */
  private readonly launching = new Set<string>();

  /**
   * The agent of `id` is being launched here (spawn, restart): a new process
   * has nothing half-typed on its input line, and a starting agent takes no
   * input, so a claim a dead kernel left is delivered by the ordinary drain
   * once the agent is idle; no look for one while it starts. Call the
   * returned function with the launch's attachment (none if it failed).
   */
  launchingHere(id: string): (live: Live | undefined) => void {
    this.launching.add(id);
    return (live) => {
      this.launching.delete(id);
      if (live) this.recoveryChecked.add(live);
    };
  }

  /**
   * Deliver the oldest queued message if the instance can take it now (see
   * delivery.ts). The first time for an attachment whose agent does not look
   * idle, finish a delivery that a dead kernel began, if there is one.
   */
  drain(id: string): void {
    const live = this.registry.get(id);
    if (!live || this.registry.closed) return;
    const deliverable = DELIVERABLE.has(live.record.status);
    if (!deliverable && (this.recoveryChecked.has(live) || this.launching.has(id))) return;
    this.recoveryChecked.add(live);
    const onlyRecovered = !deliverable;
    const { logger } = this.deps;
    const deps = this.deliveryDeps();
    // A turn that just ended may be holding it (its taps run here first; never longer than a send's timeout). Waited for
    // outside the instance's line: a tap that sends to the instance joins that line and must not wait behind this drain.
    void this.registry.turnEnds
      .settled(id, this.deps.config.limits.sendTimeout)
      .then(() => this.registry.closed ? undefined : this.lines.run(id, async () => {
        // An empty queue has nothing to deliver or finish (claims are of queued messages): no send lock for a send to wait for.
        // Only where the store is watched: a message queued after this look is a queue change that drains again (reconciler).
        if (this.registry.watchAll && (await this.deps.store.queue(id)).length === 0) return undefined;
        return this.sendLock(id, async () => {
          const current = this.registry.get(id);
          if (!current || (!onlyRecovered && !DELIVERABLE.has(current.record.status))) return undefined;
          // Held: nothing is typed in until the release drains again (a dead kernel's half-typed claim is still finished).
          if (!onlyRecovered && (await heldIn(this.deps.store, id))) return undefined;
          return deliverNext(deps, current, { onlyRecovered });
        });
      }))
      .then(
        (outcome) => {
          this.retries.succeeded(id);
          if (outcome?.kind === "delivered") this.queuedDelivered(id, outcome);
          else if (outcome?.kind === "held") {
            // Its claimer acks (a queue change wakes us) or dies; then its lease runs out at `until`.
            setTimeout(() => this.drain(id), Math.max(0, outcome.until - Date.now())).unref();
          }
        },
        (error: unknown) => {
          if (!(error instanceof DeliveryAttemptError)) return this.retries.afterStoreFailure(id, error);
          const attempted = error.messageId;
          const cause = error.cause;
          logger.warn({ err: cause, instance: id }, "delivering a queued message failed; it stays queued and is tried again when the agent shows a sign of life");
          // A sender waiting for this very message learns now, not at its timeout.
          if (attempted) this.registry.events.emit("deliveryFailed", attempted, cause);
          if (!this.registry.closed) this.retries.onNextSign(id);
        },
      );
  }

  /** A queued message got in: tell waiters and taps (also when a dead kernel typed it: it died before it could tell). */
  private queuedDelivered(id: string, outcome: Extract<DeliveryOutcome, { kind: "delivered" }>): DeliveryReceipt {
    const { message } = outcome;
    this.deps.logger.debug({ instance: id, message: message.id, typed: outcome.typed }, "delivered a queued message");
    const receipt: DeliveryReceipt = { messageId: message.id, instanceId: id, state: "delivered", acceptedAt: outcome.acceptedAt };
    this.registry.events.emit("delivered", message.id);
    this.announceDelivery(message, receipt, true);
    return receipt;
  }

  /** `awaitRecord` false: the history mark rides on the next write. */
  private deliveryDeps({ awaitRecord = true }: { awaitRecord?: boolean } = {}): DeliveryDeps {
    return {
      store: this.deps.store,
      logger: this.deps.logger,
      submit: (target, text, options) => this.submit(target, text, options),
      recordDelivered: async (target, message, acceptedAt) => {
        const recording = this.recordDelivery(target.record.id, message, message.enqueuedAt, acceptedAt);
        if (awaitRecord) await recording;
      },
    };
  }

  /** Send-lock releases still under way (see withSendLock). */
  private readonly releases = new Set<Promise<unknown>>();

  /** Settles once every message handled so far settled, its send lock released. */
  async settled(): Promise<void> {
    await this.lines.all();
    await Promise.allSettled([...this.releases]);
  }

  private submit(live: Live, text: string, options?: SubmitOptions, promptStored = false): Promise<void> {
    return submitText(this.deps, this.registry, live, text, options, promptStored);
  }

  /** Run `fn` holding the instance's send lock, as a send does (a reuse types its reset so); its release is tracked. */
  sendLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return withSendLock(this.deps, id, fn, this.releases);
  }
}
