/**
 * What a send carries, checked before anything happens (its text, whenBusy,
 * and an id the sender chose), and the receipts of recent sends with such
 * ids, for a sender that repeats one whose answer it did not get.
 */
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { DeliveryReceipt, WhenBusy } from "../kernel/messages.js";

const RECENT_RECEIPTS = 1_000;

/** The last RECENT_RECEIPTS receipts by message id, oldest dropped first. */
export class RecentReceipts {
  private readonly receipts = new Map<string, DeliveryReceipt>();

  get(messageId: string): DeliveryReceipt | undefined {
    return this.receipts.get(messageId);
  }

  remember(messageId: string, receipt: DeliveryReceipt): void {
    this.receipts.delete(messageId);
    this.receipts.set(messageId, receipt);
    if (this.receipts.size > RECENT_RECEIPTS) this.receipts.delete(this.receipts.keys().next().value!);
  }
}

/** Ids a sender may choose: they show in records, logs and Redis keys. */
export const MESSAGE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/u;

export function checkMessageId(id: string, messageId: unknown): void {
  if (messageId === undefined || (typeof messageId === "string" && MESSAGE_ID.test(messageId))) return;
  throw new TmuxClaudeError(
    ErrorCodes.INVALID_ARGUMENT,
    `messageId for the message to "${id}" must be 1-128 letters, digits, '.', '_', ':' or '-' starting with a letter or digit, got ${JSON.stringify(messageId)}. Leave it out to get a new id, or give the same id to repeat a send whose answer you did not get.`,
    { id, messageId },
  );
}

export function checkMessage(id: string, text: unknown, whenBusy: WhenBusy): void {
  if (typeof text !== "string" || text.trim() === "") {
    throw new TmuxClaudeError(ErrorCodes.EMPTY_TEXT, `The message to "${id}" is empty. Give the text to send.`, { id });
  }
  if (!["queue", "now", "refuse"].includes(whenBusy)) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `whenBusy must be "queue", "now" or "refuse", got "${String(whenBusy)}".`);
  }
}
