// The kernel stores an instance's secrets (its MCP token) as digests only; the
// instance's process has the secret, and a restart on this machine gets it again.
// Checked on every store the kernel ships (FileStore, MemoryStore); plugin-redis
// checks its store's bytes in Redis the same way.
import { readFile } from "node:fs/promises";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { INSTANCE_ENV } from "../../src/kernel/instance-env.js";
import { secretDigest } from "../../src/kernel/secret-env.js";
import type { Plugin } from "../../src/kernel/plugin.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { StateStore } from "../../src/store/store-contract.js";

const TOKEN = INSTANCE_ENV.endpointToken;

/** Mints a secret per launch unless a restart brings one, as the mcp plugin does. */
function minting(minted: string[]): Plugin {
  return {
    name: "minting",
    apply: (ctx) => {
      ctx.hooks.beforeSpawn.tapPromise(async (plan) => {
        const token = (plan.restart && plan.env[TOKEN]) || `secret-${minted.length + 1}-${"x".repeat(32)}`;
        minted.push(token);
        return { ...plan, env: { ...plan.env, [TOKEN]: token } };
      });
    },
  };
}

async function processSecret(pid: number): Promise<string | undefined> {
  const environ = await readFile(`/proc/${pid}/environ`, "utf8");
  return environ.split("\0").find((entry) => entry.startsWith(`${TOKEN}=`))?.slice(TOKEN.length + 1);
}

const stores: Record<string, () => StateStore | undefined> = {
  FileStore: () => undefined,
  MemoryStore: () => new MemoryStore(),
};

describe.each(Object.keys(stores))("secrets in the launch environment (%s)", (name) => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
  });

  it("stores a digest, gives the process the secret, and restarts with the same secret", async () => {
    const minted: string[] = [];
    const store = stores[name]!();
    const plugins: Plugin[] = [minting(minted), ...(store ? [{ name: "store", apply: (ctx) => ctx.useStore(store) } satisfies Plugin] : [])];
    h = await createHarness({ plugins });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const secret = minted[0]!;
    const stored = await h.kernel.get(instance.id);
    expect(stored.launch.env[TOKEN]).toBe(secretDigest(secret));
    expect(JSON.stringify(await h.kernel.list())).not.toContain(secret);
    expect(await processSecret(stored.tmux.pid)).toBe(secret);

    const restarted = await h.kernel.restart(instance.id);
    expect(minted.at(-1)).toBe(secret);
    expect(restarted.launch.env[TOKEN]).toBe(secretDigest(secret));
    expect(await processSecret((await h.kernel.get(instance.id)).tmux.pid)).toBe(secret);
  });
});

describe("restoreSecrets", () => {
  it("gives back the kept secret for its digest, and drops a digest it cannot match (launched elsewhere)", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const { keepSecrets, restoreSecrets, storedEnv } = await import("../../src/kernel/secret-env.js");
    const dir = await mkdtemp(path.join(os.tmpdir(), "tc-secret-env-"));
    try {
      const env = { [TOKEN]: "the-secret", OTHER: "plain" };
      await keepSecrets(dir, env);
      expect(await restoreSecrets(dir, storedEnv(env))).toEqual(env);
      expect(await restoreSecrets(dir, storedEnv({ [TOKEN]: "another-secret", OTHER: "plain" }))).toEqual({ OTHER: "plain" });
      expect(await restoreSecrets(path.join(dir, "missing"), storedEnv(env))).toEqual({ OTHER: "plain" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
