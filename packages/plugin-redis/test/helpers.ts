import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { childProcessPeer, type Harness, type StorePeer } from "@tmux-claude/testkit";
import type { RedisPluginOptions } from "../src/options.js";
import type { RedisStore } from "../src/redis-store.js";

const execFileAsync = promisify(execFile);

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

const CLI = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));
const PLUGIN = new URL("../dist/index.js", import.meta.url).href;

/**
 * The tmux-claude CLI (built) of a harness's config as node `node`, with the
 * redis plugin (built) of `plugin`'s options: a config file for it, and the
 * argv that runs it with `args` (for execFile, or spawn to follow its output).
 */
export async function cliArgs(h: Harness, node: string, plugin: RedisPluginOptions, ...args: string[]): Promise<string[]> {
  const configFile = path.join(h.dir, `cli-${node}.config.mjs`);
  const config = JSON.stringify({ ...h.userConfig, plugins: undefined, node: { id: node } });
  await writeFile(configFile, `import { redis } from ${JSON.stringify(PLUGIN)};\nexport default { ...${config}, plugins: [redis(${JSON.stringify(plugin)})] };\n`);
  return [CLI, "--config", configFile, ...args];
}

/** Run the CLI (see cliArgs); resolves with its stdout. */
export async function cli(h: Harness, node: string, plugin: RedisPluginOptions, ...args: string[]): Promise<string> {
  return (await execFileAsync(process.execPath, await cliArgs(h, node, plugin, ...args))).stdout;
}
