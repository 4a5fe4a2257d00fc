import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { childProcessPeer, type StorePeer } from "@tmux-claude/testkit";
import type { RedisStore } from "../src/redis-store.js";

const PEER = fileURLToPath(new URL("./fixtures/redis-peer.mjs", import.meta.url));

/** A RedisStore in a child process on the same server and prefix as `store`, so kill() is a real kill -9. */
export function redisPeer(store: RedisStore, url: string): Promise<StorePeer> {
  return childProcessPeer(process.execPath, [PEER, url, store.prefix], { ...process.env, JITI_CACHE: path.join(os.tmpdir(), "tc-redis-peer-jiti") });
}

/** A prefix no other test of this file uses: fresh, empty data on a shared server. */
let count = 0;
export function freshPrefix(name: string): string {
  return `tc-${name}-${process.pid}-${++count}`;
}
