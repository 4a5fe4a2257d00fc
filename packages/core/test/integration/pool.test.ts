/**
 * Warm pools (config `pool`) and reuse with the echo agent on a private
 * socket: a spawn that fits takes a pooled instance (same id, its prompt
 * delivered) and serve refills the pool; two kernels taking at once never get
 * the same one; a one-shot kernel fills nothing; spawns that do not
 * fit are cold; the parent's terminate ends its pool; a pool over
 * limits.maxInstances fails at start naming the file, the key and the values.
 */
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { afterEach, describe, expect, test } from "vitest";
import { Kernel, parseConfig } from "../../src/index.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";
import { poolReady, pooledUnder } from "../helpers/pools.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("warm pools", () => {
  test("pool: { specialist: 2 }: a spawn is served from the pool (same id, prompt delivered), the pool refills to 2, terminate ends it all", async () => {
    h = await createHarness({ pool: { specialist: 2 } }, { label: "pool" });
    const { kernel } = h;
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const pooled = await poolReady(kernel, manager.id, 2);
    expect(pooled.map((r) => r.role)).toEqual(["specialist", "specialist"]);

    const started = performance.now();
    const { instance, receipt, source } = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "first task", name: "worker" });
    const tookMs = performance.now() - started;
    expect(source).toBe("pool");
    expect(pooled.map((r) => r.id)).toContain(instance.id);
    expect(instance).toMatchObject({ parentId: manager.id, name: "worker", status: expect.stringMatching(/idle|busy/u) });
    expect(instance.pooled).toBeUndefined();
    expect(receipt?.state).toBe("delivered");
    expect((await h.received()).filter((m) => m.text === "first task")).toHaveLength(1);
    // The delivery's mark in the history is written after the receipt.
    await eventually(async () => (await kernel.get(instance.id)).messages?.some((m) => m.text === "first task" && m.state === "delivered"), 5_000, "the history entry");
    // A take is a store update and a typed prompt, no launch: far under a cold spawn (the bench measures it with Claude Code).
    expect(tookMs).toBeLessThan(1_000);

    const refilled = await poolReady(kernel, manager.id, 2);
    expect(refilled.map((r) => r.id)).not.toContain(instance.id);
    // Pooled instances count toward maxInstances and show in list, marked.
    expect((await kernel.list()).filter((r) => r.status !== "exited")).toHaveLength(4);

    // The taken one is a child like any other: terminate refuses the manager while it lives; its pool is no such child.
    await expect(kernel.terminate(manager.id)).rejects.toMatchObject({ code: "TC_HAS_CHILDREN", details: { children: [instance.id] } });
    await kernel.terminate(instance.id);
    const ended = await kernel.terminate(manager.id);
    expect(ended.sort()).toEqual([manager.id, ...refilled.map((r) => r.id)].sort());
    expect(await kernel.list()).toEqual([]);
    // No session is left but the kernel's own monitor.
    const sessions = await h.tmux("list-sessions", "-F", "#{session_name}");
    expect(sessions.split("\n").filter((name) => name !== "" && !name.startsWith("_tc-monitor"))).toEqual([]);
  }, 60_000);

  test("a pooled instance that dies is removed and replaced; one sent a message leaves the pool", async () => {
    h = await createHarness({ pool: { specialist: 1 } }, { label: "pool-died" });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const [pooled] = await poolReady(h.kernel, manager.id, 1);
    await h.tmux("kill-session", "-t", pooled!.tmux.session);
    const [replacement] = await eventually(async () => {
      const now = pooledUnder(await h!.kernel.list(), manager.id);
      return now.length === 1 && now[0]!.id !== pooled!.id ? now : undefined;
    }, 20_000, "a replacement in the pool");
    expect(replacement!.role).toBe("specialist");
    // The dead one's record is gone: list does not show it for good.
    await expect(h.kernel.get(pooled!.id)).rejects.toMatchObject({ code: "TC_INSTANCE_NOT_FOUND" });

    // A message to a pooled instance (its parent saw it in list) gives it a task: it leaves the pool, which refills.
    await h.kernel.send(replacement!.id, "a task of its own");
    expect((await h.kernel.get(replacement!.id)).pooled).toBeUndefined();
    await eventually(async () => {
      const now = pooledUnder(await h!.kernel.list(), manager.id);
      return now.length === 1 && now[0]!.id !== replacement!.id;
    }, 20_000, "the pool refilled after the message");
  }, 60_000);

  test("serve's start ends pooled instances no pool wants: beyond a lowered count, of a pool removed, dead ones", async () => {
    h = await createHarness({ pool: { specialist: 3 } }, { label: "pool-trim" });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const pooled = await poolReady(h.kernel, manager.id, 3);
    await h.kernel.close();
    // An exit nobody watched.
    const dead = pooled.find((r) => r.id === pooled.map((p) => p.id).sort().at(-1))!;
    await h.tmux("kill-session", "-t", dead.tmux.session);
    const lowered = await h.startKernel({ watch: "all", config: { pool: { specialist: 1 } } });
    const left = await eventually(async () => {
      const now = (await lowered.list()).filter((r) => r.parentId === manager.id);
      return now.length === 1 ? now : undefined;
    }, 20_000, "one pooled instance left");
    expect(left[0]).toMatchObject({ status: "idle", pooled: expect.anything() });
    await lowered.close();
    const removed = await h.startKernel({ watch: "all", config: { pool: {} } });
    await eventually(async () => (await removed.list()).filter((r) => r.parentId === manager.id).length === 0, 20_000, "no pooled instance left");
  }, 60_000);

  test("two one-shot kernels taking at once get different instances; serve refills the pool to 2, not 4", async () => {
    h = await createHarness({ pool: { specialist: 2 } }, { label: "pool-race" });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    await poolReady(h.kernel, manager.id, 2);
    const [one, other] = await Promise.all([h.startKernel({ watch: "on-demand" }), h.startKernel({ watch: "on-demand" })]);
    const [a, b] = await Promise.all([
      one.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "task a" }),
      other.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "task b" }),
    ]);
    expect([a.source, b.source]).toEqual(["pool", "pool"]);
    expect(a.instance.id).not.toBe(b.instance.id);
    for (const [spawned, text] of [[a, "task a"], [b, "task b"]] as const) {
      await eventually(async () => (await h!.kernel.get(spawned.instance.id)).messages?.map((m) => m.text).join() === text, 5_000, `${text} in the history`);
    }
    await Promise.all([one.close(), other.close()]);
    // serve saw both takes (their turns) and refilled; its fills count under the spawn lock.
    const refilled = await poolReady(h.kernel, manager.id, 2);
    expect(refilled.map((r) => r.id)).not.toContain(a.instance.id);
    expect((await h.kernel.list()).filter((r) => r.parentId === manager.id && r.status !== "exited")).toHaveLength(4);
  }, 60_000);

  test("only serve fills pools: a one-shot spawn of a parent fills nothing and a one-shot take does not refill; serve does both", async () => {
    h = await createHarness({ pool: { specialist: 1 } }, { label: "pool-oneshot", watch: "on-demand" });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const under = async (kernel: Kernel) => (await kernel.list()).filter((r) => r.parentId === manager.id && r.status !== "exited");
    // Nothing launched, not even by the time it closed (it used to wait for its fills there).
    await h.kernel.close();
    const look = await h.startKernel({ watch: "on-demand" });
    expect(await under(look)).toEqual([]);
    await look.close();
    const serve = await h.startKernel({ watch: "all" });
    const [pooled] = await poolReady(serve, manager.id, 1);
    await serve.close();
    const oneShot = await h.startKernel({ watch: "on-demand" });
    expect((await oneShot.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, prompt: "task" })).source).toBe("pool");
    await oneShot.close();
    const after = await h.startKernel({ watch: "on-demand" });
    expect((await under(after)).map((r) => r.id)).toEqual([pooled!.id]);
    await after.close();
    const again = await h.startKernel({ watch: "all" });
    const [refilled] = await poolReady(again, manager.id, 1);
    expect(refilled!.id).not.toBe(pooled!.id);
  }, 60_000);

  test("spawns a pooled instance cannot honour are cold: another workDir, plugin options; reuse of an agent without a reset is cold", async () => {
    h = await createHarness({ pool: { specialist: 1 }, plugins: [{ name: "someone", apply() {} }] }, { label: "pool-cold" });
    const { kernel } = h;
    const manager = (await kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    const [pooled] = await poolReady(kernel, manager.id, 1);
    const sub = path.join(h.workDir, "sub");
    await mkdir(sub);
    const elsewhere = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: sub });
    expect(elsewhere.source).toBe("cold");
    const withOptions = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir, plugins: { someone: { x: 1 } } });
    expect(withOptions.source).toBe("cold");
    // The echo agent's driver has no resetConversation: an idle one of the role is there, but it is not reused.
    const reuse = await kernel.spawn({ role: "specialist", parentId: manager.id, workDir: sub, reuse: "idle" });
    expect(reuse.source).toBe("cold");
    expect(reuse.instance.id).not.toBe(elsewhere.instance.id);
    await expect(kernel.spawn({ role: "specialist", parentId: manager.id, workDir: sub, reuse: "busy" as "idle" })).rejects.toMatchObject({
      code: "TC_INVALID_ARGUMENT",
      message: expect.stringContaining('spawn option reuse "busy" is not known'),
    });
    // The pooled one is still there, untouched.
    expect(pooledUnder(await kernel.list(), manager.id).map((r) => r.id)).toEqual([pooled!.id]);
  }, 60_000);

  test('per: "node": serve fills top-level instances in the workDir at start; a top-level spawn there takes one and the pool refills', async () => {
    h = await createHarness({}, { label: "pool-node", start: false });
    const kernel = await h.startKernel({ config: { pool: { specialist: { count: 1, per: "node", workDir: h.workDir } } } });
    const top = async () => (await kernel.list()).filter((r) => r.parentId === null && r.pooled && r.status === "idle");
    const [pooled] = await eventually(async () => ((await top()).length === 1 ? top() : undefined), 20_000, "a pooled top-level specialist");
    const taken = await kernel.spawn({ role: "specialist", workDir: h.workDir, prompt: "top task" });
    expect(taken).toMatchObject({ source: "pool", instance: { id: pooled!.id, parentId: null } });
    const [refilled] = await eventually(async () => {
      const now = await top();
      return now.length === 1 && now[0]!.id !== pooled!.id ? now : undefined;
    }, 20_000, "the node pool refilled");
    expect(refilled!.workDir).toBe(h.workDir);
    // Elsewhere it is a cold spawn.
    const sub = path.join(h.workDir, "elsewhere");
    await mkdir(sub);
    expect((await kernel.spawn({ role: "specialist", workDir: sub })).source).toBe("cold");
  }, 60_000);

  test("a pool never makes the instances exceed limits.maxInstances; at the limit a spawn with work gets an idle spare's place, and with none left is refused", async () => {
    h = await createHarness({ pool: { specialist: 2 }, limits: { maxInstances: 3 } }, { label: "pool-max" });
    const manager = (await h.kernel.spawn({ role: "manager", workDir: h.workDir })).instance;
    await poolReady(h.kernel, manager.id, 2);
    const live = async () => (await h!.kernel.list()).filter((r) => r.status !== "exited");
    expect(await live()).toHaveLength(3);
    // A spawn the pool serves works at the limit: it starts nothing. The refill finds no place.
    expect((await h.kernel.spawn({ role: "specialist", parentId: manager.id, workDir: h.workDir })).source).toBe("pool");
    const [spare] = pooledUnder(await h.kernel.list(), manager.id);
    expect(spare).toBeDefined();
    // A cold spawn at the limit: the idle spare gives its place up and is ended; the limit holds.
    const second = await h.kernel.spawn({ role: "manager", workDir: h.workDir });
    expect(second.source).toBe("cold");
    await eventually(async () => expect((await live()).map((r) => r.id)).not.toContain(spare!.id));
    expect(await live()).toHaveLength(3);
    // No spare left: refused, saying so.
    await expect(h.kernel.spawn({ role: "manager", workDir: h.workDir })).rejects.toMatchObject({
      code: "TC_MAX_INSTANCES",
      message: expect.stringContaining("3 instances are running, the limit (limits.maxInstances) is 3"),
    });
  }, 60_000);

  test("pools that together keep more idle instances than limits.maxInstances are a config error naming the sum", async () => {
    h = await createHarness({}, { label: "pool-sum", start: false });
    const roles = { manager: { prefix: "mgr", spawns: ["specialist", "manager"] }, specialist: { prefix: "spec" } };
    const kernel = new Kernel({ config: parseConfig({ ...h.userConfig, roles, limits: { maxInstances: 4 }, pool: { specialist: 3, manager: 2 } }), configPath: path.join(h.dir, "tmuxclaude.config.ts") });
    const error = await kernel.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await kernel.close();
    expect(error).toMatchObject({ code: "TC_CONFIG_INVALID", details: { issues: [{ path: "pool" }] } });
    expect((error as Error).message).toMatch(/pool: the pools keep 5 idle instances together, more than limits\.maxInstances \(4\)/u);
  });

  test("a pool larger than limits.maxInstances is a config error naming the file, the key and the values", async () => {
    h = await createHarness({}, { label: "pool-config", start: false });
    const config = parseConfig({ ...h.userConfig, limits: { maxInstances: 3 }, pool: { specialist: 5 } });
    const configPath = path.join(h.dir, "tmuxclaude.config.ts");
    const kernel = new Kernel({ config, configPath });
    const error = await kernel.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await kernel.close();
    expect(error).toMatchObject({ code: "TC_CONFIG_INVALID", details: { filepath: configPath, issues: [{ path: "pool.specialist", value: "5" }] } });
    expect((error as Error).message).toContain(configPath);
    expect((error as Error).message).toMatch(/pool\.specialist: a pool of 5 idle instances is larger than limits\.maxInstances \(3\)/u);

    const others = new Kernel({ config: parseConfig({ ...h.userConfig, pool: { ghost: 1, specialist: { count: 1, agent: "nobody" } } }), configPath });
    const more = await others.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await others.close();
    expect(more).toMatchObject({ code: "TC_CONFIG_INVALID", details: { issues: [{ path: "pool.ghost" }, { path: "pool.specialist.agent", value: '"nobody"' }] } });

    const roles = { manager: { prefix: "mgr", spawns: ["specialist"] }, specialist: { prefix: "spec", topLevel: false } };
    const perNode = new Kernel({ config: parseConfig({ ...h.userConfig, roles, pool: { specialist: { count: 1, per: "node" } } }), configPath });
    const node = await perNode.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    await perNode.close();
    expect(node).toMatchObject({ code: "TC_CONFIG_INVALID", details: { issues: [{ path: "pool.specialist.workDir" }, { path: "pool.specialist.per" }] } });
    expect((node as Error).message).toContain("roles.specialist.topLevel is false");
  });
});
