// Two nodes on one machine: two kernels on two private tmux sockets with two
// node ids, sharing one state dir, and the given plugins (a router) on both.
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Kernel, Plugin, UserConfig } from "../../src/index.js";
import { createHarness, testSocket, tmuxSocketDir, type Harness } from "@tmux-claude/testkit";

const execFileAsync = promisify(execFile);
const limits = { spawnTimeout: 10_000, sendTimeout: 5_000 };

export interface TwoNodes {
  /** The harness of node A ("node-a"): its kernel is `a`. */
  h: Harness;
  a: Kernel;
  b: Kernel;
  /** Node B's config ("node-b" on its own socket), for starting B again. */
  nodeB: UserConfig;
  tmuxB(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function twoNodes(label: string, plugins: Plugin[], nodeA: UserConfig["node"] = {}): Promise<TwoNodes> {
  const socketB = testSocket(label);
  const nodeB: UserConfig = { tmux: { socket: socketB, configFile: "none", width: 120, height: 40 }, node: { id: "node-b" }, plugins, limits };
  const h = await createHarness({ node: { id: "node-a", ...nodeA }, plugins, limits });
  const b = await h.startKernel({ config: nodeB });
  return {
    h,
    a: h.kernel,
    b,
    nodeB,
    tmuxB: async (...args) => (await execFileAsync("tmux", ["-L", socketB, ...args])).stdout,
    async close() {
      await h.close();
      await execFileAsync("tmux", ["-L", socketB, "kill-server"]).catch(() => undefined);
      await rm(path.join(tmuxSocketDir(), socketB), { force: true });
    },
  };
}
