import { contractMessage, contractRecord, startRedis, type RedisServer } from "@tmux-claude/testkit";
import type { StoreChange } from "@tmux-claude/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisErrorCodes } from "../src/errors.js";
import { RedisStore } from "../src/redis-store.js";
import { freshPrefix } from "./helpers.js";

const COMMAND_TIMEOUT_MS = 800;

/** Call `fn` until it succeeds (each try bounded by the store's command timeout), or fail after `timeoutMs`. */
async function eventuallyOk<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

describe("RedisStore when Redis restarts or stops", () => {
  let server: RedisServer;
  const stores: RedisStore[] = [];

  async function open(prefix: string): Promise<RedisStore> {
    const store = new RedisStore({ url: server.url, prefix, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    stores.push(store);
    await store.init();
    return store;
  }

  beforeAll(async () => {
    server = await startRedis();
  });

  afterEach(async () => {
    // A test that failed while Redis was down leaves it down: the next one needs it.
    if (server.pid === -1) await server.start();
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  afterAll(async () => {
    await server.close();
  });

  it("keeps records, queues and ids across a restart (AOF), and its watch and scripts work after it", async () => {
    const prefix = freshPrefix("restart");
    const store = await open(prefix);
    const id = await store.reserveId(null, "exec");
    await store.put(contractRecord(id));
    await store.enqueue(contractMessage(id, "m-1"));
    await store.enqueue(contractMessage(id, "m-2"));
    const seen: StoreChange[] = [];
    const watch = store.watch((change) => seen.push(change));
    await watch.ready;

    await server.stop();
    await server.start();

    const again = await open(prefix);
    expect((await again.get(id))?.id).toBe(id);
    expect((await again.queue(id)).map((m) => m.id)).toEqual(["m-1", "m-2"]);
    expect(await again.reserveId(null, "exec")).not.toBe(id);
    // The restarted server forgot its scripts: the store loads them again (NOSCRIPT -> EVAL).
    const outcome = await again.claim(id);
    expect(outcome.state === "claimed" && outcome.claim.message.id).toBe("m-1");
    // The first store reconnected by itself and subscribed again.
    expect((await eventuallyOk(() => store.queue(id))).map((m) => m.id)).toEqual(["m-1", "m-2"]);
    // Resubscribing after the reconnect takes a moment: a put before it is not seen, so try again.
    await eventuallyOk(async () => {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no change seen")), 1_000);
        const check = store.watch((change) => {
          if (change.kind !== "instance" || change.id !== `${id}.after`) return;
          clearTimeout(timer);
          check.stop();
          resolve();
        });
        void check.ready.then(() => again.put(contractRecord(`${id}.after`)));
      });
    });
    watch.stop();
  });

  it("fails an operation within its timeout while Redis is down, naming the URL, and works again once it is back", async () => {
    const store = await open(freshPrefix("down"));
    await store.put(contractRecord("exec-1"));
    await server.stop();

    const started = Date.now();
    const error = await store.get("exec-1").then(
      () => undefined,
      (failure: unknown) => failure as { code?: string; message: string },
    );
    expect(error?.code).toBe(RedisErrorCodes.UNAVAILABLE);
    expect(error?.message).toContain(`127.0.0.1:${server.port}`);
    expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS + 1_000);
    const locked = await store.withLock("job", async () => "ran").catch((failure: unknown) => (failure as { code?: string }).code);
    expect(locked).toBe(RedisErrorCodes.UNAVAILABLE);

    await server.start();
    expect((await eventuallyOk(() => store.get("exec-1")))?.id).toBe("exec-1");
    expect(await store.withLock("job", async () => "ran")).toBe("ran");
  });
});
