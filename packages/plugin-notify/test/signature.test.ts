// A receiver drops repeats by the event id it can trust: the signed body's, not the unsigned header's.
import { expect, test } from "vitest";
import { sign, verifySignature } from "../src/index.js";

const SECRET = "signature-secret-0123456789";

test("a request replayed within the window with a new event-id header still verifies, and the id to drop it by is the signed body's", () => {
  const body = JSON.stringify({ type: "tmux-claude.notification", version: 1, eventId: "run-finished-r-1", kind: "run-finished" });
  const timestamp = Math.floor(Date.now() / 1000);
  const captured = { body, signature: sign(SECRET, timestamp, body), timestamp: String(timestamp) };
  // The replay changes only the unsigned x-tmux-claude-event-id header, which verifySignature never reads.
  expect(verifySignature(SECRET, captured)).toEqual({ ok: true, eventId: "run-finished-r-1" });
  expect(verifySignature(SECRET, { ...captured, body: body.replace("r-1", "r-2") })).toEqual({ ok: false, reason: "signature does not match" });
  // A signed body that is not an event has no id to trust.
  const other = "not json";
  expect(verifySignature(SECRET, { body: other, signature: sign(SECRET, timestamp, other), timestamp: String(timestamp) })).toEqual({ ok: true, eventId: undefined });
});
