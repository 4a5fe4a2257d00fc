/**
 * The generic webhook's signature (README: "The signature"): HMAC-SHA256,
 * keyed with the configured secret, over `<timestamp>.<body>`, where the
 * timestamp is Unix seconds sent in its own header. Signing the timestamp
 * with the body lets a receiver refuse an old request replayed later; within
 * the window, a receiver drops a replay by the event id in the signed body
 * (the event-id header is not signed: a replay can carry a new one).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-tmux-claude-signature";
export const TIMESTAMP_HEADER = "x-tmux-claude-timestamp";
export const EVENT_ID_HEADER = "x-tmux-claude-event-id";
/** A receiver should refuse a request whose timestamp is further than this from its clock. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** `v1=<hex>`: the version prefix lets the scheme change without breaking receivers that check it. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** `eventId`: the signed body's, the one to drop repeats and replays by (undefined for a body that is not an event). */
export type VerifyResult = { ok: true; eventId: string | undefined } | { ok: false; reason: string };

/**
 * What a receiver written in Node does with a request (the raw body, as
 * received, before any JSON parsing): check the timestamp is recent, then the
 * signature, in constant time; then give the signed body's event id, which
 * the receiver drops repeats by.
 */
export function verifySignature(
  secret: string,
  request: { body: string; signature: string | undefined; timestamp: string | undefined },
  options: { toleranceSeconds?: number; now?: number } = {},
): VerifyResult {
  const timestamp = Number(request.timestamp);
  if (!request.timestamp || !Number.isInteger(timestamp)) return { ok: false, reason: `missing or malformed ${TIMESTAMP_HEADER}` };
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return { ok: false, reason: "timestamp too old or in the future (a replay?)" };
  const expected = Buffer.from(sign(secret, timestamp, request.body));
  const got = Buffer.from(request.signature ?? "");
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { ok: false, reason: "signature does not match" };
  return { ok: true, eventId: signedEventId(request.body) };
}

function signedEventId(body: string): string | undefined {
  try {
    const eventId = (JSON.parse(body) as { eventId?: unknown } | null)?.eventId;
    return typeof eventId === "string" ? eventId : undefined;
  } catch {
    return undefined;
  }
}
