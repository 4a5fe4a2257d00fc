import { ErrorCodes } from "@tmux-claude/core";
import { freePort, startRedis, type RedisServer } from "@tmux-claude/testkit";
import { createServer, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisErrorCodes } from "../src/errors.js";
import { compareVersions, SCHEMA_VERSION } from "../src/connection.js";
import { redis } from "../src/index.js";
import { RedisStore } from "../src/redis-store.js";
import { freshPrefix } from "./helpers.js";

const PASSWORD = "s3cret-pw";

/** init()'s error, and how long it took to come. */
async function initFailure(store: RedisStore): Promise<{ code: unknown; message: string; ms: number }> {
  const started = Date.now();
  try {
    await store.init();
  } catch (error) {
    return { code: (error as { code?: unknown }).code, message: (error as Error).message, ms: Date.now() - started };
  } finally {
    await store.close();
  }
  throw new Error("init() succeeded");
}

describe("redis plugin: bad input is a clear error at init", () => {
  let open: RedisServer;
  let locked: RedisServer;
  let raw: Redis;

  beforeAll(async () => {
    [open, locked] = await Promise.all([startRedis(), startRedis({ password: PASSWORD })]);
    raw = new Redis(open.url);
  });

  afterAll(async () => {
    raw.disconnect();
    await Promise.all([open.close(), locked.close()]);
  });

  it("fails on an unreachable URL within the connect timeout, naming the URL without its password", async () => {
    const port = await freePort();
    const failure = await initFailure(new RedisStore({ url: `redis://:hunter2@127.0.0.1:${port}`, connectTimeoutMs: 1_000 }));
    expect(failure.code).toBe(RedisErrorCodes.UNREACHABLE);
    expect(failure.message).toContain(`127.0.0.1:${port}`);
    expect(failure.message).not.toContain("hunter2");
    expect(failure.ms).toBeLessThan(3_000);
  });

  it("fails within the connect timeout on a port that accepts but never answers (not Redis, or a hung one)", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      const failure = await initFailure(new RedisStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 }));
      expect(failure.code).toBe(RedisErrorCodes.UNREACHABLE);
      expect(failure.message).toContain("within 500 ms");
      expect(failure.ms).toBeLessThan(2_500);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("compares server versions numerically (6.10 is newer than 6.2)", () => {
    expect(compareVersions("6.10.0", "6.2.0")).toBeGreaterThan(0);
    expect(compareVersions("5.0.14", "6.0.0")).toBeLessThan(0);
    expect(compareVersions("7.0.15", "7.0.15")).toBe(0);
  });

  it("fails on a wrong password, and on none where Redis wants one", async () => {
    const url = locked.url.replace(PASSWORD, "wrong-pw");
    const wrong = await initFailure(new RedisStore({ url }));
    expect(wrong.code).toBe(RedisErrorCodes.AUTH_FAILED);
    expect(wrong.message).toMatch(/WRONGPASS/u);
    expect(wrong.message).not.toContain("wrong-pw");
    const none = await initFailure(new RedisStore({ url: `redis://127.0.0.1:${locked.port}` }));
    expect(none.code).toBe(RedisErrorCodes.AUTH_FAILED);
    expect(none.message).toMatch(/NOAUTH/u);
    const store = new RedisStore({ url: locked.url, prefix: freshPrefix("auth") });
    await store.init();
    expect(await store.reserveId(null, "exec")).toBe("exec-1");
    await store.close();
  });

  // EVALSHA: the store's scripts; XREADGROUP: the message bus between nodes (checked at start too).
  it.each(["EVALSHA", "XREADGROUP"])("fails on a Redis without a command the store needs (%s)", async (command) => {
    const crippled = await startRedis({ args: ["--rename-command", command, ""] });
    try {
      const failure = await initFailure(new RedisStore({ url: crippled.url }));
      expect(failure.code).toBe(RedisErrorCodes.UNSUPPORTED_SERVER);
      expect(failure.message).toContain(command.toLowerCase());
    } finally {
      await crippled.close();
    }
  });

  it("refuses a prefix that holds other data, touching nothing", async () => {
    await raw.set("shop:cart:7", "3 apples");
    const failure = await initFailure(new RedisStore({ url: open.url, prefix: "shop" }));
    expect(failure.code).toBe(RedisErrorCodes.PREFIX_IN_USE);
    expect(failure.message).toContain('"shop"');
    expect(failure.message).toContain("shop:cart:7");
    expect(await raw.keys("shop:*")).toEqual(["shop:cart:7"]);
    expect(await raw.get("shop:cart:7")).toBe("3 apples");
  });

  it("refuses a prefix whose store has another schema version", async () => {
    await raw.hset("old-store:meta", "schema", "0");
    const failure = await initFailure(new RedisStore({ url: open.url, prefix: "old-store" }));
    expect(failure.code).toBe(RedisErrorCodes.PREFIX_IN_USE);
    expect(failure.message).toContain("schema version 0");
  });

  it("doctor's redis line only reads: an empty prefix stays empty, a foreign one is named, a wrong password fails without it", async () => {
    const prefix = freshPrefix("doctor");
    expect(await redis({ url: open.url, prefix }).doctor!()).toEqual([{ name: "redis", ok: true, detail: expect.stringContaining(`prefix "${prefix}" empty`) }]);
    expect(await raw.keys(`${prefix}:*`)).toEqual([]);
    await raw.set("shop2:cart:7", "3 apples");
    const [foreign] = await redis({ url: open.url, prefix: "shop2" }).doctor!();
    expect(foreign).toMatchObject({ ok: false, detail: expect.stringContaining("shop2:cart:7") });
    expect(await raw.keys("shop2:*")).toEqual(["shop2:cart:7"]);
    const [wrong] = await redis({ url: locked.url.replace(PASSWORD, "wrong-pw") }).doctor!();
    expect(wrong).toMatchObject({ ok: false, detail: expect.stringMatching(/WRONGPASS/u) });
    expect(wrong!.detail).not.toContain("wrong-pw");
  });

  it("marks an empty prefix as its own and opens it again", async () => {
    const prefix = freshPrefix("mark");
    for (let i = 0; i < 2; i++) {
      const store = new RedisStore({ url: open.url, prefix });
      await store.init();
      await store.close();
    }
    expect(await raw.hget(`${prefix}:meta`, "schema")).toBe(SCHEMA_VERSION);
    // Keys of a prefix that merely starts the same are not this prefix's.
    await raw.set(`${prefix}x:other`, "1");
    expect(await raw.keys(`${prefix}:*`)).toEqual([`${prefix}:meta`]);
  });

  it("checks the factory's options, naming the option", () => {
    expect(() => redis({ url: "http://127.0.0.1:6379" })).toThrow(/url/u);
    expect(() => redis({ url: open.url, prefix: "a*b" })).toThrow(/prefix/u);
    try {
      redis({ url: open.url, prefix: "a:b" });
      throw new Error("accepted");
    } catch (error) {
      expect((error as { code?: unknown }).code).toBe(ErrorCodes.PLUGIN_OPTIONS_INVALID);
    }
  });
});
