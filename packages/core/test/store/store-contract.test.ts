import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { childProcessPeer, inProcessPeer, runStoreContract } from "@tmux-claude/testkit";
import { afterAll } from "vitest";
import { FileStore } from "../../src/store/file-store.js";
import { MemoryStore } from "../../src/store/memory-store.js";

const PEER = fileURLToPath(new URL("./fixtures/store-peer.mjs", import.meta.url));
const root = await fs.mkdtemp(path.join(os.tmpdir(), "tc-store-contract-"));
let count = 0;

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

runStoreContract("FileStore", {
  open: async () => new FileStore(path.join(root, `store-${++count}`)),
  // A real process on the same directory, so kill() is a real kill -9.
  peer: (store) => childProcessPeer(process.execPath, [PEER, (store as FileStore).dir], { ...process.env, JITI_CACHE: path.join(os.tmpdir(), "tc-store-contract-jiti") }),
});

runStoreContract("MemoryStore", {
  open: async () => new MemoryStore(),
  peer: async (store) => {
    const handle = (store as MemoryStore).peer();
    return inProcessPeer(handle, () => handle.crash());
  },
});
