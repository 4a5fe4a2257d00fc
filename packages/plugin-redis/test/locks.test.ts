import { ErrorCodes, type Lease } from "@tmux-claude/core";
import { startRedis, type RedisServer } from "@tmux-claude/testkit";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisStore } from "../src/redis-store.js";
import { freshPrefix, redisPeer } from "./helpers.js";

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

  it("a lock and a claim whose holder on this machine was killed with -9 are taken over at once, not after the lease; a holder this machine cannot judge keeps its lease", async () => {
    const prefix = freshPrefix("dead-holder");
    const store = new RedisStore({ url: server.url, prefix });
    await store.init();
    try {
      const peer = await redisPeer(store, server.url);
      // Leases far longer than the waits below: only seeing the holder dead can hand them over in time.
      expect(await peer.run({ op: "hold", key: "job", leaseMs: 120_000 })).toBe("held");
      await store.enqueue({ id: "m1", instanceId: "exec-1", text: "one", from: null, enqueuedAt: new Date().toISOString() });
      expect(await peer.run({ op: "claim", instanceId: "exec-1", leaseMs: 120_000, note: "log@7" })).toEqual({ state: "claimed", messageId: "m1" });
      // While it lives, it keeps both.
      expect((await store.claim("exec-1")).state).toBe("held");
      await expect(store.withLock("job", async () => "stolen", { timeoutMs: 300 })).rejects.toMatchObject({ code: ErrorCodes.LOCK_TIMEOUT });
      await peer.kill();
      expect(await store.withLock("job", async (lease) => (lease.lost.aborted ? "lost" : "ran"), { timeoutMs: 5_000 })).toBe("ran");
      const outcome = await store.claim("exec-1");
      expect(outcome.state).toBe("claimed");
      if (outcome.state !== "claimed") return;
      expect(outcome.claim.message.id).toBe("m1");
      expect(outcome.claim.recovered).toMatchObject({ note: "log@7", abandoned: 1 });
      expect(await store.ack(outcome.claim)).toBe(true);

      // A holder of another machine (another boot), or of another pid namespace: only its lease can end it.
      for (const holder of ["another-boot|pid:[4026531836]|1|1", "x|y"]) {
        await raw.set(`${prefix}:lock:elsewhere`, `1:${holder.length}~${holder}`, "PX", 60_000);
        await expect(store.withLock("elsewhere", async () => "stolen", { timeoutMs: 300 })).rejects.toMatchObject({ code: ErrorCodes.LOCK_TIMEOUT });
      }
    } finally {
      await store.close();
    }
  });
});
