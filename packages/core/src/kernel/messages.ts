// What `send` takes and answers, as plugins see it in beforeSend, afterSend, delivered and route.

export interface OutgoingMessage {
  readonly id: string;
  readonly instanceId: string;
  text: string;
  readonly from: string | null;
  whenBusy: WhenBusy;
  /** The conversation it belongs to: the id of the message that started it (see SendOptions.threadId). */
  readonly threadId?: string;
  /** The message it answers, when it answers one. */
  readonly replyTo?: string;
}

export type WhenBusy = "queue" | "now" | "refuse";

export interface DeliveryReceipt {
  messageId: string;
  instanceId: string;
  /** delivered: the agent accepted the input. queued: it waits for the agent to become idle. */
  state: "delivered" | "queued";
  /** When the agent accepted the input (delivered only). */
  acceptedAt?: string;
  /** Position in the queue, 1 = next (queued only). */
  position?: number;
  /** The thread the message belongs to (its own id when it started one); set by the sending kernel's `send`. */
  threadId?: string;
  /**
   * Queued only: set when the instance's delivery is held (a budget's pause,
   * the turn cap, kernel.hold), the hold's reason. Nothing is typed in until
   * it is resumed, so waiting for idle would not deliver it.
   */
  paused?: string;
}
