/**
 * Delivers the oldest queued message of one instance: claim -> deliver -> ack.
 *
 * The rule after a crash: a claim handed over from a kernel that died before
 * its ack (`claim.recovered`) is typed again only when the agent's evidence
 * (AgentDriver.evidence: its own record of accepted input, read from the
 * mark stored with the claim) shows the message never got in. Agents with
 * evidence (Claude Code, a command agent with an `inputLog`) therefore get
 * every queued message exactly once, across a `kill -9` at any moment;
 * agents without evidence get it at least once (typed again after a crash
 * that came between typing and ack).
 *
 * A recovered claim is finished even when the agent does not look idle: the
 * dead kernel only typed into an idle agent, so what makes it look busy now
 * is most likely that kernel's half-typed text on its input line (a screen-
 * read agent's prompt line no longer matches), which `retyping` clears.
 */
import type { Logger } from "pino";
import type { SubmitOptions } from "../agents/adapter.js";
import type { QueuedMessage } from "../store/types.js";
import type { QueueClaim, StateStore } from "../store/store-contract.js";
import { typeableText } from "../tmux/typeable.js";
import type { Live } from "./deps.js";

export type DeliveryOutcome =
  | { kind: "empty" }
  /** Another live process is delivering this instance's oldest message; try again at `until` or on the queue's next change. */
  | { kind: "held"; until: number }
  /** `typed` false: a recovered claim whose message the agent had already taken. `acceptedAt`: when this process saw it in. */
  | { kind: "delivered"; message: QueuedMessage; typed: boolean; acceptedAt: string };

export interface DeliveryDeps {
  store: StateStore;
  logger: Logger;
  /** Type text into the instance and wait for its receipt (Messaging.submit). */
  submit(live: Live, text: string, options?: SubmitOptions): Promise<void>;
  /**
   * Record that the message got in (the instance's history), before the ack:
   * a message that left the queue is then always marked delivered, which a
   * send repeated with its id relies on (earlierReceipt: out of the queue and
   * not in the history would mean never sent, and it would be typed again).
   * A kernel killed in between leaves it queued and marked: the next one's
   * recovered claim finds the agent's evidence and acks it without typing.
   * Must not throw.
   */
  recordDelivered(live: Live, message: QueuedMessage, acceptedAt: string): Promise<void>;
}

/** Thrown when delivering a claimed message failed: names the message, which stays queued. */
export class DeliveryAttemptError extends Error {
  constructor(
    readonly messageId: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * Claim and deliver the oldest queued message. With `onlyRecovered`, deliver
 * only a claim recovered from a dead kernel and give any other claim back.
 */
export async function deliverNext(deps: DeliveryDeps, live: Live, options: { onlyRecovered?: boolean } = {}): Promise<DeliveryOutcome> {
  const { store, logger } = deps;
  const id = live.record.id;
  const evidence = live.driver.evidence;
  // The mark is taken before the claim, so whatever this claim leads to typing comes after it.
  const mark = await evidence?.mark();
  const outcome = await store.claim(id, mark === undefined ? {} : { note: mark });
  if (outcome.state === "empty") return { kind: "empty" };
  if (outcome.state === "held") return { kind: "held", until: outcome.until };
  const { claim } = outcome;
  if (options.onlyRecovered && !claim.recovered) {
    await store.release(claim);
    return { kind: "empty" };
  }
  const { message } = claim;
  const typed = typeableText(message.text);
  try {
    if (claim.recovered) {
      const note = claim.recovered.note;
      if (evidence && note !== undefined && (await evidence.submittedSince(note, typed))) {
        logger.info({ instance: id, message: message.id }, "a kernel that died had delivered this queued message; not typing it again");
        const acceptedAt = new Date().toISOString();
        await deps.recordDelivered(live, message, acceptedAt);
        await ack(store, claim, logger);
        return { kind: "delivered", message, typed: false, acceptedAt };
      }
      logger.info({ instance: id, message: message.id, evidence: Boolean(evidence) }, "typing again a queued message whose delivery a dead kernel began");
    }
    await deps.submit(live, message.text, claim.recovered ? { retyping: true } : {});
  } catch (error) {
    // A failed attempt may still have got in (a receipt that came too late): the evidence decides.
    const gotIn = evidence && mark !== undefined ? await evidence.submittedSince(mark, typed).catch(() => false) : false;
    if (gotIn) {
      const acceptedAt = new Date().toISOString();
      await deps.recordDelivered(live, message, acceptedAt);
      await ack(store, claim, logger);
      return { kind: "delivered", message, typed: true, acceptedAt };
    }
    await store.release(claim).catch((releaseError: unknown) => logger.warn({ err: releaseError, instance: id }, "could not release a claim; it expires with its lease"));
    throw new DeliveryAttemptError(message.id, error);
  }
  const acceptedAt = new Date().toISOString();
  await deps.recordDelivered(live, message, acceptedAt);
  await ack(store, claim, logger);
  return { kind: "delivered", message, typed: true, acceptedAt };
}

async function ack(store: StateStore, claim: QueueClaim, logger: Logger): Promise<void> {
  // False: our lease ran out and another kernel took the claim over; it finds the evidence and does not type it again.
  if (!(await store.ack(claim))) logger.warn({ instance: claim.message.instanceId, message: claim.message.id }, "a claim was taken over before its ack");
}
