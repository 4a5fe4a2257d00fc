import { runStoreContract, startRedis, type RedisServer } from "@tmux-claude/testkit";
import { afterAll } from "vitest";
import { RedisStore } from "../src/redis-store.js";
import { freshPrefix, redisPeer } from "./helpers.js";

const server: RedisServer = await startRedis();

afterAll(async () => {
  await server.close();
});

runStoreContract("RedisStore", {
  // Each test gets a prefix of its own on one server: fresh data, and a check that prefixes keep data apart.
  open: async () => new RedisStore({ url: server.url, prefix: freshPrefix("contract") }),
  peer: (store) => redisPeer(store as RedisStore, server.url),
});
