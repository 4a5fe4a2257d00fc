// A command Redis ran whose reply the connection lost is resent by ioredis
// once it has reconnected, and Redis runs it again (a Redis restart or a
// network blip does this to the commands in flight). The proxy here loses the
// reply of one chosen command. Run twice, nothing may happen twice: a message
// is queued once, a bus request is performed once and never dropped.
import type { Kernel } from "@tmux-claude/core";
import { createHarness, eventually, removeTestSocket, startRedis, testSocket, type Harness, type RedisServer } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redis } from "../src/index.js";
import { RedisStore } from "../src/redis-store.js";
import { freshPrefix } from "./helpers.js";
import { startReplyDroppingProxy, type ReplyDroppingProxy } from "./reply-dropping-proxy.js";

let server: RedisServer;
let proxy: ReplyDroppingProxy;

beforeAll(async () => {
  server = await startRedis();
  proxy = await startReplyDroppingProxy(server.port);
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

const message = (id: string) => ({ id, instanceId: "exec-1", text: `text of ${id}`, from: null, enqueuedAt: new Date().toISOString() });

describe("commands resent after a lost reply", () => {
  it("an enqueue run twice queues the message once, and one resent after its delivery does not queue it again", async () => {
    const store = new RedisStore({ url: proxy.url, prefix: freshPrefix("resend") });
    await store.init();
    try {
      const cut = proxy.dropReplyTo("resent-1");
      await store.enqueue(message("resent-1"));
      await cut;
      expect((await store.queue("exec-1")).map((m) => m.id)).toEqual(["resent-1"]);
      const claimed = await store.claim("exec-1");
      if (claimed.state !== "claimed") throw new Error(`expected a claim, got ${claimed.state}`);
      expect(await store.ack(claimed.claim)).toBe(true);
      // The same enqueue arriving once more after the ack (a resend that came late) leaves the queue empty.
      await store.enqueue(message("resent-1"));
      expect(await store.queue("exec-1")).toEqual([]);
      // Another message is queued as ever.
      await store.enqueue(message("next"));
      expect((await store.queue("exec-1")).map((m) => m.id)).toEqual(["next"]);
    } finally {
      await store.close();
    }
  });

  describe("the bus", () => {
    let h: Harness;
    let a: Kernel;
    let b: Kernel;
    const socketB = testSocket("resend-b");
    const limits = { spawnTimeout: 10_000, sendTimeout: 5_000 };

    beforeAll(async () => {
      const prefix = freshPrefix("resend-bus");
      h = await createHarness({ node: { id: "node-a" }, plugins: [redis({ url: server.url, prefix, bus: { acceptTimeoutMs: 3_000 } })], limits }, { label: "resend-a" });
      a = h.kernel;
      // Node B reaches Redis through the proxy.
      b = await h.startKernel({
        config: { tmux: { socket: socketB, configFile: "none", width: 120, height: 40 }, node: { id: "node-b" }, plugins: [redis({ url: proxy.url, prefix })], limits },
      });
    });

    afterAll(async () => {
      await h?.close();
      await removeTestSocket(socketB);
    });

    it("a request whose accept (SET NX) ran twice is performed once, not dropped as taken by someone else", async () => {
      const { instance } = await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b" });
      expect((await b.get(instance.id)).tmux.node).toBe("node-b");
      const cut = proxy.dropReplyTo('"state":"accepted","by":"node-b"');
      const receipt = await a.send(instance.id, "accepted twice");
      await cut;
      expect(receipt.state).toMatch(/^(delivered|queued)$/u);
      const typed = async () => (await h.received()).filter((m) => m.text === "accepted twice").length;
      await eventually(async () => (await typed()) === 1, 10_000, "the message typed on node B");
      // Still once a moment later: no second performance.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await typed()).toBe(1);
    });

    it("a routed message whose enqueue ran twice is typed once", async () => {
      const { instance } = await a.spawn({ role: "executive", workDir: h.workDir, node: "node-b" });
      // A routed message to a free agent goes through the queue (see Messaging.sendHere): its enqueue script carries the text.
      const cut = proxy.dropReplyTo("enqueued twice");
      const receipt = await a.send(instance.id, "enqueued twice");
      await cut;
      expect(receipt.state).toMatch(/^(delivered|queued)$/u);
      const typed = async () => (await h.received()).filter((m) => m.text === "enqueued twice").length;
      await eventually(async () => (await typed()) === 1, 10_000, "the message typed on node B");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await typed()).toBe(1);
      expect(await b.list().then((all) => all.find((i) => i.id === instance.id)?.queuedIds)).toEqual([]);
    });
  });
});
