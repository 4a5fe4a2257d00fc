import { randomUUID } from "node:crypto";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError, quoteScreen } from "../errors.js";
import type { DeliveryReceipt, OutgoingMessage, WhenBusy } from "../kernel/messages.js";
import type { SubmitOptions } from "../agents/adapter.js";
import type { InstanceRecord } from "../store/types.js";
import { typeableText } from "../tmux/typeable.js";
import { DeliveryAttemptError, deliverNext, type DeliveryDeps } from "./delivery.js";
import { exitedError } from "./failures.js";
import { KeyedChain } from "./keyed-chain.js";
import { earlierReceipt, messageEntry, withDelivered, withQueued, type SentMessage } from "./message-history.js";
import type { Registry } from "./registry.js";
import { DELIVERABLE, type SendOptions } from "./types.js";
import type { Live, ManagerDeps } from "./deps.js";
import { waitDelivered } from "./wait-delivered.js";
import { requireRecord } from "./lookups.js";

/**
 * Where a message goes after `send`: `beforeSend` may rewrite it, `route` may
 * deliver it elsewhere, else it is typed into the local agent now or queued
 * until the agent is idle (`drain` delivers the queue, oldest first).
 */
export class Messaging {
  /** One line per instance: its messages are handled in the order of the calls. */
  private readonly lines = new KeyedChain();

  constructor(
    private readonly deps: ManagerDeps,
    private readonly registry: Registry,
  ) {
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
      return { messageId: message.id, instanceId: id, state: "queued", position };
    });
  }

  async send(id: string, text: string, options: SendOptions = {}, caller: string | null = null): Promise<DeliveryReceipt> {
    const whenBusy = options.whenBusy ?? "queue";
    checkMessage(id, text, whenBusy);
    checkMessageId(id, options.messageId);
    // Join this instance's line before the first await: messages keep the order of the calls.
    return this.lines.run(id, () => this.sendNow(id, text, whenBusy, caller, options.messageId));
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

  private async sendNow(id: string, text: string, whenBusy: WhenBusy, caller: string | null, messageId: string | undefined): Promise<DeliveryReceipt> {
    // A repeated send (the sender's own id) reads what the store knows of it, whichever process sent it first.
    const record = messageId === undefined ? (this.registry.get(id)?.record ?? (await requireRecord(this.deps.store, id))) : await requireRecord(this.deps.store, id);
    if (messageId !== undefined) {
      const earlier = this.recent.get(messageId) ?? earlierReceipt(record, await this.deps.store.queue(id), messageId);
      if (earlier?.state === "queued") return this.deliverRepeated(record, earlier);
      if (earlier) return earlier;
    }
    if (record.status === "exited") throw exitedError(record);
    const { hooks } = this.deps;
    let message: OutgoingMessage = { id: messageId ?? randomUUID(), instanceId: id, text, from: caller, whenBusy };
    message = await hooks.beforeSend.promise(message);
    const receipt = await this.deps.nodes.deliver(record, message, async () => (await this.deliverLocal(message, record, false)).receipt);
    if (messageId !== undefined) this.remember(messageId, receipt);
    await hooks.afterSend.promise(message, receipt);
    return receipt;
  }

  /**
   * A repeated send whose message is still queued: its first sender may have
   * died between the enqueue and the drain that would have typed it (an idle
   * agent has no other reason to drain), so start that drain here, or have the
   * instance's node do it.
   */
  private async deliverRepeated(record: InstanceRecord, receipt: DeliveryReceipt): Promise<DeliveryReceipt> {
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
  private readonly recent = new Map<string, DeliveryReceipt>();

  private remember(messageId: string, receipt: DeliveryReceipt): void {
    this.recent.delete(messageId);
    this.recent.set(messageId, receipt);
    if (this.recent.size > RECENT_RECEIPTS) this.recent.delete(this.recent.keys().next().value!);
  }

  /**
   * Deliver on this machine's tmux; runs inside the instance's line.
   * `viaQueue`: the message was queued although the agent is free (a routed
   * one, see sendHere); its caller waits for the drain.
   */
  private async deliverLocal(message: OutgoingMessage, record: InstanceRecord, routed: boolean): Promise<{ receipt: DeliveryReceipt; viaQueue: boolean }> {
    const { store } = this.deps;
    const id = message.instanceId;
    const sentAt = new Date().toISOString();
    const live = await this.registry.attach(record);
    return this.sendLock(id, async () => {
      const waiting = await store.queue(id);
      // An answer already on the screen may still be being looked at: queue only for an agent that is busy after that look.
      if (!DELIVERABLE.has(live.record.status) && waiting.length === 0) await live.driver.settled?.();
      const status = live.record.status;
      if (status === "exited") throw exitedError(live.record);
      const free = DELIVERABLE.has(status) && waiting.length === 0;
      if (!free && message.whenBusy === "refuse") {
        throw new TmuxClaudeError(
          ErrorCodes.INSTANCE_BUSY,
          `Instance "${id}" is ${status}${waiting.length ? ` with ${waiting.length} queued message(s)` : ""}; the message was refused as asked. Send with whenBusy "queue" to deliver it when the agent is idle.`,
          { id, status, queued: waiting.length },
        );
      }
      const viaQueue = routed && free && message.whenBusy !== "now";
      if ((!free && message.whenBusy === "queue") || viaQueue) {
        await this.enqueue(message, sentAt);
        this.deps.logger.debug({ instance: id, message: message.id, status }, "queued");
        // Queued behind others for an idle agent: whoever queued those may have died or missed the drain (a node that came
        // back), so make sure one runs; a drain already under way makes this one find the queue empty or held.
        if (!viaQueue && DELIVERABLE.has(status)) this.drain(id);
        return { receipt: { messageId: message.id, instanceId: id, state: "queued", position: waiting.length + 1 }, viaQueue };
      }
      await this.submit(live, message.text);
      const receipt: DeliveryReceipt = { messageId: message.id, instanceId: id, state: "delivered", acceptedAt: new Date().toISOString() };
      void this.recordDelivery(id, message, sentAt, receipt.acceptedAt!);
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
  private async enqueue(message: OutgoingMessage, sentAt: string): Promise<void> {
    const id = message.instanceId;
    await this.deps.store.enqueue({ id: message.id, instanceId: id, text: message.text, from: message.from, enqueuedAt: sentAt });
    await this.registry
      .persistShared(id, withQueued(messageEntry(message, sentAt, "queued")))
      .catch((error: unknown) => this.deps.logger.warn({ err: error, instance: id, message: message.id }, "could not record a queued message in the instance's history"));
  }

  /**
   * Mark the message delivered in the instance's history. A message typed in
   * at once does not wait for it (the receipt does not): it rides on the
   * instance's next write (`registry.persistShared`, awaited by close). It is
   * an update of the stored record, so a later write by any process keeps it.
   */
  private recordDelivery(id: string, message: SentMessage, sentAt: string, acceptedAt: string): Promise<void> {
    return this.registry
      .persistShared(id, withDelivered({ ...messageEntry(message, sentAt, "delivered"), acceptedAt }))
      .catch((error: unknown) => this.deps.logger.warn({ err: error, instance: id, message: message.id }, "could not record a delivery in the instance's history"));
  }

  /** `delivered`: fired by the one process that typed the message in. */
  private announceDelivery(message: { id: string; instanceId: string; text: string; from: string | null }, receipt: DeliveryReceipt, queued: boolean): void {
    const event = { ...this.registry.eventMeta(message.instanceId), message: { id: message.id, instanceId: message.instanceId, text: message.text, from: message.from }, receipt, queued };
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
    const { store, logger } = this.deps;
    const deps: DeliveryDeps = {
      store,
      logger,
      submit: (target, text, options) => this.submit(target, text, options),
      recordDelivered: (target, message, acceptedAt) => this.recordDelivery(target.record.id, message, message.enqueuedAt, acceptedAt),
    };
    void this.lines
      .run(id, () =>
        this.sendLock(id, async () => {
          const current = this.registry.get(id);
          if (!current || (!onlyRecovered && !DELIVERABLE.has(current.record.status))) return undefined;
          return deliverNext(deps, current, { onlyRecovered });
        }),
      )
      .then(
        (outcome) => {
          this.storeFailures.delete(id);
          if (outcome?.kind === "delivered") {
            const { message } = outcome;
            logger.debug({ instance: id, message: message.id, typed: outcome.typed }, "delivered a queued message");
            this.registry.events.emit("delivered", message.id);
            // Also when a dead kernel typed it: it died before it could tell.
            this.announceDelivery(message, { messageId: message.id, instanceId: id, state: "delivered", acceptedAt: outcome.acceptedAt }, true);
          } else if (outcome?.kind === "held") {
            // Its claimer acks (a queue change wakes us) or dies; then its lease runs out at `until`.
            setTimeout(() => this.drain(id), Math.max(0, outcome.until - Date.now())).unref();
          }
        },
        (error: unknown) => {
          if (!(error instanceof DeliveryAttemptError)) return this.retryAfterStoreFailure(id, error);
          const attempted = error.messageId;
          const cause = error.cause;
          logger.warn({ err: cause, instance: id }, "delivering a queued message failed; it stays queued and is tried again when the agent shows a sign of life");
          // A sender waiting for this very message learns now, not at its timeout.
          if (attempted) this.registry.events.emit("deliveryFailed", attempted, cause);
          if (!this.registry.closed) this.retryOnNextSign(id);
        },
      );
  }

  /** Drains that failed on the store (not the agent) in a row, by instance id. */
  private readonly storeFailures = new Map<string, number>();

  /**
   * The store failed the drain (Redis away, say), not the agent, and an idle
   * agent gives no sign to retry on: try again after a while, backing off to
   * STORE_RETRY_MAX_MS, warning once per outage.
   */
  private retryAfterStoreFailure(id: string, error: unknown): void {
    const failures = this.storeFailures.get(id) ?? 0;
    this.storeFailures.set(id, failures + 1);
    this.deps.logger[failures === 0 ? "warn" : "debug"]({ err: error, instance: id }, "could not use the store to deliver a queued message; trying again");
    if (this.registry.closed) return;
    setTimeout(() => this.drain(id), Math.min(STORE_RETRY_MS * 2 ** failures, STORE_RETRY_MAX_MS)).unref();
  }

  /** Retries waiting for their instance's next output or status change, by instance id. */
  private readonly retries = new Map<string, () => void>();

  /**
   * Try a failed delivery again at the instance's next output or status change:
   * what failed (no receipt, a pane that did not answer) can only change then.
   */
  private retryOnNextSign(id: string): void {
    const live = this.registry.get(id);
    if (!live || this.retries.has(id)) return;
    const again = (): void => {
      stop();
      this.drain(id);
    };
    const onStatus = (changed: string): void => {
      if (changed === id) again();
    };
    const stop = (): void => {
      this.retries.delete(id);
      live.listeners.delete(again);
      this.registry.events.off("status", onStatus);
      live.gone.signal.removeEventListener("abort", stop);
    };
    live.listeners.add(again);
    this.registry.events.on("status", onStatus);
    live.gone.signal.addEventListener("abort", stop, { once: true });
    this.retries.set(id, stop);
  }

  /** Settles once every message handled so far settled. */
  settled(): Promise<void> {
    return this.lines.all();
  }

  /**
   * Hand text to the driver and wait for its receipt, within limits.sendTimeout.
   * The driver gets the text as the pane will show it (`typeableText`), so what
   * it looks for on the screen is what was typed.
   */
  private async submit(live: Live, text: string, options?: SubmitOptions): Promise<void> {
    const { sendTimeout } = this.deps.config.limits;
    // Recorded before typing: whichever process sees the turn end (serve, often before `delivered` fires here) finds its
    // prompt (TurnEnded.prompt). Not merely before Enter: a screen-read agent's serve sees the typed text leave the idle
    // prompt and starts the turn then (writing while typing, awaited before Enter, misnamed turns in the serve tests).
    live.record = { ...live.record, turnPrompt: text };
    await this.registry
      .persist(live.record.id, (r) => ({ ...r, turnPrompt: text }))
      .catch((error: unknown) => this.deps.logger.warn({ err: error, instance: live.record.id }, "could not record the turn's prompt; its turnEnded will not name it"));
    const timeout = AbortSignal.timeout(sendTimeout);
    try {
      await live.driver.submit(typeableText(text), AbortSignal.any([timeout, live.gone.signal]), options);
    } catch (error) {
      if (error instanceof TmuxClaudeError) throw error;
      const screen = await this.registry.screenOf(live);
      const why = live.gone.signal.aborted ? "the agent exited" : timeout.aborted ? `no receipt within limits.sendTimeout (${sendTimeout} ms)` : String(error);
      throw new TmuxClaudeError(
        timeout.aborted ? ErrorCodes.SEND_TIMEOUT : ErrorCodes.SEND_FAILED,
        `The message to "${live.record.id}" was not accepted: ${why}. Its screen:\n${quoteScreen(screen)}`,
        { id: live.record.id, screen },
        { cause: error },
      );
    }
  }

  /**
   * Sends to one instance from any process happen one at a time, so text and
   * Enter of two messages never interleave. A holder may wait up to a whole
   * send timeout for its receipt, so waiters wait longer than that; the lock
   * itself is a lease the holder renews while it lives, so a holder killed
   * with -9 frees it when its lease runs out, not after a send timeout.
   */
  private sendLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.deps.store.withLock(`send:${id}`, fn, { timeoutMs: this.deps.config.limits.sendTimeout * 2 + 5_000 });
  }
}

const RECENT_RECEIPTS = 1_000;
/** A drain the store failed is tried again after this, doubling up to the max. */
const STORE_RETRY_MS = 500;
const STORE_RETRY_MAX_MS = 5_000;

/** Ids a sender may choose: they show in records, logs and Redis keys. */
const MESSAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/u;

function checkMessageId(id: string, messageId: unknown): void {
  if (messageId === undefined || (typeof messageId === "string" && MESSAGE_ID.test(messageId))) return;
  throw new TmuxClaudeError(
    ErrorCodes.INVALID_ARGUMENT,
    `messageId for the message to "${id}" must be 1-128 letters, digits, '.', '_', ':' or '-' starting with a letter or digit, got ${JSON.stringify(messageId)}. Leave it out to get a new id, or give the same id to repeat a send whose answer you did not get.`,
    { id, messageId },
  );
}

function checkMessage(id: string, text: unknown, whenBusy: WhenBusy): void {
  if (typeof text !== "string" || text.trim() === "") {
    throw new TmuxClaudeError(ErrorCodes.EMPTY_TEXT, `The message to "${id}" is empty. Give the text to send.`, { id });
  }
  if (!["queue", "now", "refuse"].includes(whenBusy)) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `whenBusy must be "queue", "now" or "refuse", got "${String(whenBusy)}".`);
  }
}
