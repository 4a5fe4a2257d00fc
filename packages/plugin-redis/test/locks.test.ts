import { ErrorCodes, type Lease } from "@tmux-claude/core";
import { startRedis, type RedisServer } from "@tmux-claude/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "../src/redis-store.js";
import { freshPrefix } from "./helpers.js";

describe("RedisStore locks: fencing and compare-and-delete", () => {
  let server: RedisServer;
  let raw: Redis;

  beforeAll(async () => {
    server = await startRedis();
    raw = new Redis(server.url);
  });

  afterAll(async () => {
    raw.disconnect();
    await server.close();
  });

  it("a holder whose lease was taken over learns it (lost), cannot release the new holder's lock, and has the lower fencing number", async () => {
    const prefix = freshPrefix("fence");
    const [a, b] = [new RedisStore({ url: server.url, prefix }), new RedisStore({ url: server.url, prefix })];
    await a.init();
    await b.init();
    try {
      let keyGone!: () => void;
      const gone = new Promise<void>((resolve) => (keyGone = resolve));
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      let held: Lease | undefined;
      const first = a.withLock("job", async (lease) => {
        held = lease;
        // The lease ends under the holder (as after a stall longer than the lease): the key is gone, another may take the lock.
        await raw.del(`${prefix}:lock:job`);
        keyGone();
        await done;
      }, { leaseMs: 300 });
      const firstSettled = first.then(() => undefined, (error: unknown) => error as { code?: string; message: string });
      await gone;
      const seen = await b.withLock("job", async (lease) => {
        // The old holder's next renewal finds the lock taken: its lost signal fires.
        if (!held!.lost.aborted) await new Promise<void>((resolve) => held!.lost.addEventListener("abort", () => resolve(), { once: true }));
        finish();
        // Its release then finds another's token and deletes nothing.
        const failure = await firstSettled;
        return { failure, token: lease.token, holder: await raw.get(`${prefix}:lock:job`) };
      }, { leaseMs: 300 });
      expect(seen.failure?.code).toBe(ErrorCodes.STORE_FAILED);
      expect(seen.failure?.message).toMatch(/taken over/u);
      expect(seen.holder).toBe(seen.token);
      // Fencing: every acquisition's token starts with a larger number.
      const fence = (token: string) => Number(token.split(":")[0]);
      expect(fence(seen.token)).toBeGreaterThan(fence(held!.token));
      expect(await raw.exists(`${prefix}:lock:job`)).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
