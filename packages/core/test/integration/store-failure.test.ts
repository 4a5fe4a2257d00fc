// A store that refuses writes: an operation that needs the write fails with
// the store's error and leaves nothing behind; a status change it cannot
// write is logged, and the kernel keeps running.
import { afterAll, beforeAll, expect, test } from "vitest";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { MemoryStore, MONITOR_PREFIX, type InstanceRecord, type Kernel, type Plugin } from "../../src/index.js";

/** Refuses the updates `refuses` picks (as a full disk or a lost Redis would), until told otherwise. */
class RefusingStore extends MemoryStore {
  refuses: ((next: InstanceRecord) => boolean) | undefined;
  refused = 0;

  override async update(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<InstanceRecord | undefined> {
    const refuses = this.refuses;
    if (!refuses) return super.update(id, updater);
    const current = await this.get(id);
    if (current && refuses(updater(current))) {
      this.refused++;
      throw new Error("ENOSPC: no space left on device (scripted)");
    }
    return super.update(id, updater);
  }

  /** Refuse queue claims (a lost Redis at the moment a drain starts) while set. */
  refusesClaims = false;
  claimsRefused = 0;

  override async claim(...args: Parameters<MemoryStore["claim"]>): ReturnType<MemoryStore["claim"]> {
    if (this.refusesClaims) {
      this.claimsRefused++;
      throw new Error("ECONNREFUSED: the store is away (scripted)");
    }
    return super.claim(...args);
  }
}

let h: Harness;
let kernel: Kernel;
const store = new RefusingStore();
const errors: string[] = [];
beforeAll(async () => {
  h = await createHarness({ limits: { spawnTimeout: 10_000 } }, { start: false });
  const plugin: Plugin = { name: "refusing-store", apply: (ctx) => ctx.useStore(store) };
  kernel = await h.startKernel({ config: { plugins: [plugin] } });
  const error = kernel.logger.error.bind(kernel.logger);
  kernel.logger.error = ((...args: Parameters<typeof error>) => {
    errors.push(String(args.find((arg) => typeof arg === "string") ?? ""));
    return error(...args);
  }) as typeof error;
});
afterAll(async () => {
  await kernel?.close();
  await h?.close();
});

test.each([
  ["the write that records its tmux pane", (next: InstanceRecord) => next.tmux.paneId !== ""],
  ["the write that records the agent's pid", (next: InstanceRecord) => next.tmux.pid > 0],
])("a spawn whose launch the store cannot record (%s) fails with the store's error and leaves nothing", async (_what, refuses) => {
  store.refuses = refuses;
  await expect(kernel.spawn({ role: "executive", workDir: h.workDir })).rejects.toThrow(/ENOSPC/u);
  store.refuses = undefined;
  expect(store.refused).toBeGreaterThan(0);
  expect(await kernel.list()).toEqual([]);
  const sessions = (await h.tmux("list-sessions", "-F", "#{session_name}").catch(() => "")).split("\n").filter(Boolean);
  expect(sessions.filter((name) => !name.startsWith(MONITOR_PREFIX))).toEqual([]);
});

test("a status change the store cannot write is logged; the kernel goes on and later writes land", async () => {
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  store.refuses = (next) => next.status === "busy";
  const before = store.refused;
  await kernel.send(instance.id, "/work 300");
  expect((await kernel.read(instance.id, { wait: true, timeoutMs: 10_000 })).status).toBe("idle");
  store.refuses = undefined;
  expect(store.refused).toBeGreaterThan(before);
  expect(errors).toContain("could not persist a status change");
  // The next change is written (idle, after the refused busy).
  await expect.poll(async () => (await store.get(instance.id))?.status, { timeout: 5_000 }).toBe("idle");
  expect((await kernel.send(instance.id, "still here")).state).toBe("delivered");
  await kernel.terminate(instance.id);
});

test("a queued message whose drain met a store failure is delivered once the store works again, with no sign from the idle agent", async () => {
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  await kernel.read(instance.id, { wait: true });
  expect((await kernel.send(instance.id, "/work 1000")).state).toBe("delivered");
  const receipt = await kernel.send(instance.id, "after the outage");
  expect(receipt.state).toBe("queued");
  store.refusesClaims = true;
  // The work ends while the store is away: the drain that follows fails on it, and the agent then sits idle.
  await eventually(() => store.claimsRefused > 0, 10_000, "a drain refused by the store");
  await eventually(async () => (await kernel.get(instance.id)).status === "idle", 10_000, "the agent idle");
  store.refusesClaims = false;
  await eventually(async () => (await h.received()).some((m) => m.text === "after the outage"), 10_000, "the queued message typed in once the store is back");
  expect((await h.received()).filter((m) => m.text === "after the outage")).toHaveLength(1);
});
