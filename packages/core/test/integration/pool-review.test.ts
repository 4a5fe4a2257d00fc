// The review of warm pools and reuse: each test failed before its fix (the reviewer's probes, kept as regression tests).
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { afterEach, describe, expect, test } from "vitest";
import { acquireLock, commandAdapter, FileStore, type UserConfig } from "../../src/index.js";
import { createHarness, eventually, ECHO_AGENT, type Harness } from "@tmux-claude/testkit";
import { poolReady, pooledUnder } from "../helpers/pools.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The echo agent under an adapter whose driver can "reset" (it records the status it was reset in). */
function resettable(harness: Harness, seen: string[]): UserConfig {
  return {
    agents: {
      echo: harness.userConfig.agents!.echo!,
      resettable: { adapter: "resettable", command: process.execPath, args: [ECHO_AGENT], env: { ECHO_AGENT_LOG: harness.log }, inputLog: harness.log, clearKey: "C-u" } as never,
    },
    plugins: [
      {
        name: "resettable-adapter",
        apply(ctx) {
          ctx.registerAdapter({
            ...commandAdapter,
            name: "resettable",
            drive(dctx) {
              const d = commandAdapter.drive(dctx);
              d.resetConversation = async () => {
                seen.push(dctx.status());
              };
              return d;
            },
          });
        },
      },
    ],
  };
}

describe("pools and reuse, as reviewed", () => {
  test("reuse never resets an agent that a send made busy meanwhile: it looks again under the send lock and spawns cold", async () => {
    h = await createHarness({}, { label: "rv-reuse", start: false });
    const seen: string[] = [];
    const kernel = await h.startKernel({ config: resettable(h, seen) });
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const child = (await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, agent: "resettable" })).instance;
    expect((await kernel.get(child.id)).status).toBe("idle");
    // Another process's send holds the instance's send lock (it reads idle, types, the agent turns busy); meanwhile a reuse claims it.
    const lock = await acquireLock(path.join(h.stateDir, "locks"), `send:${child.id}`);
    const reused = kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, agent: "resettable", reuse: "idle", prompt: "new task" });
    await eventually(async () => (await kernel.get(child.id)).reusing !== undefined, 10_000, "the reuse claim");
    // What that send typed (the lock is held, so typed directly, as its holder would): the agent is busy now.
    await h.tmux("send-keys", "-t", child.tmux.session, "-l", "/work 4000");
    await h.tmux("send-keys", "-t", child.tmux.session, "Enter");
    await eventually(async () => (await kernel.get(child.id)).status === "busy", 10_000, "busy");
    await lock.release();
    const spawned = await reused;
    // Its only candidate is busy with the send's message: no reset was typed into it, the spawn started a new instance.
    expect(seen).toEqual([]);
    expect(spawned.source).toBe("cold");
    expect(spawned.instance.id).not.toBe(child.id);
    expect((await kernel.get(child.id)).reusing).toBeUndefined();
  }, 60_000);

  test("reuse clears the last task's traces in one write (history, turns, reply, prompt; reusedAt), keeps the id; a workflow-like plugin's beforeTake keeps its instance", async () => {
    h = await createHarness({}, { label: "rv-reset", start: false });
    const seen: string[] = [];
    let owned: string | undefined;
    const config = resettable(h, seen);
    config.plugins = [...config.plugins!, { name: "owner", apply: (ctx) => void ctx.hooks.beforeTake.tapPromise(async ({ instance }) => (instance.id === owned ? "its task is not done" : undefined)) }];
    const kernel = await h.startKernel({ config });
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const child = (await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, agent: "resettable", prompt: "old task" })).instance;
    await eventually(async () => (await kernel.get(child.id)).status === "idle" && (await kernel.get(child.id)).messages?.length === 1, 10_000, "the old task delivered");
    owned = child.id;
    const passedOver = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, agent: "resettable", reuse: "idle" });
    expect(passedOver.source).toBe("cold");
    await kernel.terminate(passedOver.instance.id);
    owned = undefined;
    const reused = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, agent: "resettable", reuse: "idle", prompt: "new task" });
    expect(reused).toMatchObject({ source: "reuse", instance: { id: child.id } });
    expect(seen).toEqual(["idle"]);
    // The history entry of the new task is written after its delivery (not awaited by the sender).
    const record = await eventually(async () => {
      const now = await kernel.get(child.id);
      return now.messages?.length ? now : undefined;
    }, 5_000, "the new task in the history");
    expect(record.messages?.map((m) => m.text)).toEqual(["new task"]);
    expect(record.reusedAt).toBeDefined();
    expect(record.lastReply).toBeUndefined();
  }, 60_000);

  test("a plugin's beforeTake passes a pooled instance over: the spawn goes cold, where its beforeSpawn refuses", async () => {
    let refuse = false;
    h = await createHarness(
      {
        pool: { specialist: 1 },
        plugins: [
          {
            name: "refuser",
            apply(ctx) {
              ctx.hooks.beforeSpawn.tapPromise("refuser", async (plan) => {
                if (refuse && plan.role === "specialist") throw new Error("refused by a plugin (over budget)");
                return plan;
              });
              ctx.hooks.beforeTake.tapPromise("refuser", async (plan) => (refuse && plan.role === "specialist" ? "over budget" : undefined));
            },
          },
        ],
      },
      { label: "rv-refuse" },
    );
    const { kernel } = h;
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    await poolReady(kernel, manager.id, 1);
    refuse = true;
    const sub = path.join(h.workDir, "sub");
    await mkdir(sub);
    await expect(kernel.spawn({ role: "specialist", parentId: manager.id, workDir: sub })).rejects.toThrow(/refused by a plugin/u);
    await expect(kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "work" })).rejects.toThrow(/refused by a plugin/u);
    expect(pooledUnder(await kernel.list(), manager.id)).toHaveLength(1);
    refuse = false;
    const takes: { id: string; source: string; caller: string | null }[] = [];
    kernel.hooks.afterTake.tap("test", ({ instance, source, caller }) => void takes.push({ id: instance.id, source, caller }));
    const taken = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "work" }, manager.id);
    expect(taken.source).toBe("pool");
    // The take is announced (afterTake), as afterSpawn announces a cold spawn.
    expect(takes).toEqual([{ id: taken.instance.id, source: "pool", caller: manager.id }]);
  }, 60_000);

  test("a take whose first message fails ends the taken instance, as a failed cold spawn leaves nothing; the pool refills", async () => {
    h = await createHarness(
      {
        pool: { specialist: 1 },
        plugins: [
          {
            name: "boom",
            apply(ctx) {
              ctx.hooks.beforeSend.tapPromise("boom", async (message) => {
                if (message.text === "boom") throw new Error("beforeSend refused boom");
                return message;
              });
            },
          },
        ],
      },
      { label: "rv-boom" },
    );
    const { kernel } = h;
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const [pooled] = await poolReady(kernel, manager.id, 1);
    const sub = path.join(h.workDir, "sub");
    await mkdir(sub);
    await expect(kernel.spawn({ role: "specialist", parentId: manager.id, workDir: sub, prompt: "boom", name: "cold" })).rejects.toThrow(/boom/u);
    await expect(kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "boom", name: "warm" })).rejects.toThrow(/boom/u);
    const list = await kernel.list();
    const left = list.filter((r) => r.parentId === manager.id && !r.pooled && r.status !== "exited");
    expect(left).toEqual([]);
    expect(list.some((r) => r.id === pooled!.id)).toBe(false);
    await eventually(async () => pooledUnder(await kernel.list(), manager.id).some((r) => r.id !== pooled!.id), 20_000, "the pool refilled");
  }, 60_000);

  test("a parent whose agent exits (not terminated) has its pooled children ended; a restart of it refills its pool", async () => {
    h = await createHarness({ pool: { specialist: 2 } }, { label: "rv-exit" });
    const { kernel } = h;
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const pooled = await poolReady(kernel, manager.id, 2);
    await kernel.send(manager.id, "/exit");
    await eventually(async () => (await kernel.get(manager.id)).status === "exited", 10_000, "manager exited");
    await eventually(async () => !(await kernel.list()).some((r) => pooled.some((p) => p.id === r.id)), 15_000, "the pooled children ended");
    const sessions = (await h.tmux("list-sessions", "-F", "#{session_name}")).split("\n");
    expect(sessions.filter((name) => pooled.some((p) => p.tmux.session === name))).toEqual([]);
    await kernel.restart(manager.id);
    await poolReady(kernel, manager.id, 2);
  }, 60_000);

  test("a take goes through the usage-limit gate (limits.usage.spawn fail): refused like a cold spawn, the pooled instance stays", async () => {
    h = await createHarness({ pool: { specialist: 1 }, limits: { usage: { spawn: "fail" } } }, { label: "rv-limit", start: false });
    // serve fills the pool; then a one-shot kernel (no serve to look at the limited record below) takes.
    const serve = await h.startKernel({ watch: "all" });
    const manager = (await serve.spawn({ role: "manager", workDir: h.workDir })).instance;
    await poolReady(serve, manager.id, 1);
    await serve.close();
    const kernel = await h.startKernel({ watch: "on-demand" });
    // Another instance of the account hit its usage limit (as a driver reports it), until an hour from now.
    const store = new FileStore(h.stateDir);
    const record = (await store.get(manager.id))!;
    await store.put({ ...record, id: "mgr-99", tmux: { ...record.tmux, session: "mgr-99", paneId: "%999" }, status: "limited", limitedUntil: new Date(Date.now() + 3_600_000).toISOString() });
    const sub = path.join(h.workDir, "sub");
    await mkdir(sub);
    await expect(kernel.spawn({ role: "specialist", parentId: manager.id, workDir: sub })).rejects.toMatchObject({ code: "TC_USAGE_LIMITED" });
    await expect(kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "work" })).rejects.toMatchObject({ code: "TC_USAGE_LIMITED" });
    expect(pooledUnder(await kernel.list(), manager.id)).toHaveLength(1);
  }, 60_000);

  test("a message to a pooled instance that another beforeSend tap refuses leaves it in its pool (the pool's tap runs last)", async () => {
    h = await createHarness({ pool: { specialist: 1 } }, { label: "rv-leave" });
    const { kernel } = h;
    // Tapped after the kernel's own taps (as a plugin tapping late would be): registration order must not matter.
    kernel.hooks.beforeSend.tapPromise("refuser", async (message) => (message.text === "no" ? Promise.reject(new Error("refused no")) : message));
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const [pooled] = await poolReady(kernel, manager.id, 1);
    await expect(kernel.send(pooled!.id, "no")).rejects.toThrow(/refused no/u);
    expect((await kernel.get(pooled!.id)).pooled).toBeDefined();
    await kernel.send(pooled!.id, "yes");
    expect((await kernel.get(pooled!.id)).pooled).toBeUndefined();
  }, 60_000);
});
