// The sender records a try's outcome only while the try's claim is still its own; every transport stops when close() cuts it.
import { expect, test } from "vitest";
import { createLogger, type PluginData, type StoreWatch } from "@tmux-claude/core";
import type { NotifyEvent } from "../src/event.js";
import { FailureLog } from "../src/failure-log.js";
import { parseNotifyOptions } from "../src/options.js";
import { Sender, outboxKey, type OutboxEntry } from "../src/sender.js";
import { DeliveryError, createTransports, type Transport } from "../src/transports.js";
import { closedAfterEach } from "./helpers.js";
import { startReceiver } from "./receiver.js";

const started = closedAfterEach();

/** One process's view of a store: a map, updated atomically (single-threaded). */
function memoryData(): PluginData<OutboxEntry> & { docs: Map<string, OutboxEntry> } {
  const docs = new Map<string, OutboxEntry>();
  return {
    collection: "notify/outbox",
    docs,
    get: async (key) => docs.get(key),
    async update(key, updater) {
      const next = updater(docs.get(key));
      if (next === undefined) docs.delete(key);
      else docs.set(key, next);
      return next;
    },
    list: async () => [...docs].map(([key, value]) => ({ key, value })),
    delete: async (key) => docs.delete(key),
    watch: (): StoreWatch => ({ ready: Promise.resolve(), stop: () => undefined }) as unknown as StoreWatch,
  };
}

const EVENT: NotifyEvent = { eventId: "budget-1", kind: "budget", severity: "warning", title: "Budget crossed", source: "cost", node: "n1", at: new Date().toISOString() };

test("a try whose claim lapsed and was taken over leaves the new owner's claim alone when it fails", async () => {
  const outbox = memoryData();
  const key = outboxKey("webhook", EVENT.eventId);
  let fail!: (error: Error) => void;
  let sending!: () => void;
  const inRequest = new Promise<void>((resolve) => (sending = resolve));
  const transport: Transport = {
    destination: "webhook",
    host: "https://example.com",
    send: () => new Promise<void>((_resolve, reject) => ((fail = reject), sending())),
  };
  const logger = createLogger("silent");
  const options = parseNotifyOptions({ webhook: { url: "https://example.com/h", secret: "exactly-once-secret-0123" } });
  const sender = new Sender({ outbox, transports: [transport], logger, failures: new FailureLog(logger, 60_000), owner: "slow/1/a", options });
  sender.add(EVENT);
  await inRequest;
  // The slow request outlived its lease: another process claimed the entry and is sending it now.
  const theirs = { owner: "other/2/b#1", until: Date.now() + 60_000 };
  outbox.docs.set(key, { ...outbox.docs.get(key)!, claim: theirs });
  fail(new DeliveryError("HTTP 503 Service Unavailable", true));
  await sender.close();
  expect(outbox.docs.get(key)).toMatchObject({ state: "pending", attempts: 0, claim: theirs });
  expect(outbox.docs.get(key)!.lastError).toBeUndefined();
});

test("close() cuts an open Slack request, as it does the others, instead of returning while it may still succeed", { timeout: 20_000 }, async () => {
  const r = (started.receiver = await startReceiver());
  r.failNext(0); // never answers
  const [slack] = createTransports(parseNotifyOptions({ slack: { webhookUrl: `${r.url}/slack/services/T1/B2/tok` }, timeoutMs: 60_000 }));
  const controller = new AbortController();
  const sending = slack!.send(EVENT, controller.signal);
  await r.until((_accepted, all) => all.length >= 1, 10_000, "the Slack request");
  controller.abort();
  await expect(sending).rejects.toBeInstanceOf(DeliveryError);
});

test("an event id a header cannot carry is not retried and not blamed on the network", async () => {
  const r = (started.receiver = await startReceiver());
  const [webhook] = createTransports(parseNotifyOptions({ webhook: { url: `${r.url}/hook`, secret: "exactly-once-secret-0123" } }));
  const error = await webhook!.send({ ...EVENT, eventId: "budget-1\nx-injected: 1" }, AbortSignal.timeout(10_000)).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(DeliveryError);
  expect(error).toMatchObject({ retryable: false });
  expect((error as Error).message).toContain("could not be made");
  expect(r.requests).toHaveLength(0);
});
