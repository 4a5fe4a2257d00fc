// What `send` takes and answers, as plugins see it in beforeSend, afterSend, delivered and route.

export interface OutgoingMessage {
  readonly id: string;
  readonly instanceId: string;
  text: string;
  readonly from: string | null;
  whenBusy: WhenBusy;
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
}
