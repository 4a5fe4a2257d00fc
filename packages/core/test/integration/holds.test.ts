// Holding delivery (kernel.hold / release: what a budget's pause and the
// turn cap do), the turn cap and the spawn-rate cap, on real tmux with the
// echo agent; a second kernel stands for another process.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { ErrorCodes, FileStore, TURN_PROMPTS, isTmuxClaudeError, loadConfig, parseConfig, type Kernel } from "../../src/index.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  if (!isTmuxClaudeError(error)) throw error;
  return { code: error.code, message: error.message, details: error.details };
}

describe("hold and release", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { label: "holds" });
  });
  afterAll(async () => h?.close());

  test("a held instance gets nothing typed in, across processes; sends queue, now/refuse are refused; release delivers the queue in order", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const id = instance.id;
    await h.kernel.hold(id, "budget of exec-1 crossed: 1200 of 1000 tokens", "budget");

    // Another process (a one-shot CLI kernel) sees the hold in the store.
    const other: Kernel = await h.startKernel({ watch: "on-demand" });
    const first = await other.send(id, "held one");
    const second = await h.kernel.send(id, "held two");
    expect(first).toMatchObject({ state: "queued", paused: "budget of exec-1 crossed: 1200 of 1000 tokens" });
    expect(second).toMatchObject({ state: "queued", paused: "budget of exec-1 crossed: 1200 of 1000 tokens" });
    for (const whenBusy of ["now", "refuse"] as const) {
      const refused = await rejection(other.send(id, `not ${whenBusy}`, { whenBusy }));
      expect(refused.code).toBe(ErrorCodes.INSTANCE_PAUSED);
      expect(refused.message).toContain(`Instance "${id}" is paused (budget of exec-1 crossed: 1200 of 1000 tokens)`);
      expect(refused.message).toContain(`tmux-claude resume ${id}`);
    }
    expect(await other.read(id)).toMatchObject({ status: "idle", queued: 2, paused: "budget of exec-1 crossed: 1200 of 1000 tokens" });
    expect((await other.list()).find((i) => i.id === id)?.hold).toMatchObject({ kind: "budget", reason: expect.stringContaining("crossed") });
    // A drain asked for (a queue change, a repeated send) still types nothing.
    await other.send(id, "held one", { messageId: first.messageId });
    expect((await h.received()).map((m) => m.text)).toEqual([]);

    // Releasing the wrong kind lifts nothing; the right one (from the other process) lets serve deliver, in order.
    expect(await other.release(id, "maxTurns")).toBe(false);
    expect(await other.release(id, "budget")).toBe(true);
    await h.kernel.waitDelivered(second, 10_000);
    expect((await h.received()).map((m) => m.text)).toEqual(["held one", "held two"]);
    expect((await h.kernel.read(id)).paused).toBeUndefined();
    expect(await other.release(id)).toBe(false);
    await other.close();
    await h.kernel.terminate(id);
  });

  test("a hold another process set since this one last looked stops its send (its followed record does not show it): nothing typed, no turn prompt stored", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const id = instance.id;
    // A one-shot kernel follows no store changes: once attached, its record of the instance never shows a later hold.
    const cli: Kernel = await h.startKernel({ watch: "on-demand" });
    // The echo agents of this file log to one file: this test's messages are those after this.
    const before = (await h.received()).length;
    const texts = async () => (await h.received()).slice(before).map((m) => m.text);
    expect((await cli.send(id, "first")).state).toBe("delivered");
    await cli.read(id, { wait: true });
    for (const whenBusy of ["now", "refuse"] as const) {
      await h.kernel.hold(id, `held before ${whenBusy}`);
      const refused = await rejection(cli.send(id, `not ${whenBusy}`, { whenBusy }));
      expect(refused.code).toBe(ErrorCodes.INSTANCE_PAUSED);
      expect(refused.message).toContain(`held before ${whenBusy}`);
      expect(await h.kernel.release(id)).toBe(true);
    }
    await h.kernel.hold(id, "held before queue");
    const queued = await cli.send(id, "after the release");
    expect(queued).toMatchObject({ state: "queued", position: 1, paused: "held before queue" });
    // The sends that found the hold in the write of their prompt wrote none.
    const store = new FileStore(h.stateDir);
    await store.init();
    expect(await store.getDoc(TURN_PROMPTS, id)).toEqual({ text: "first" });
    expect(await texts()).toEqual(["first"]);
    expect(await h.kernel.release(id)).toBe(true);
    await h.kernel.waitDelivered(queued, 10_000);
    expect(await store.getDoc(TURN_PROMPTS, id)).toEqual({ text: "after the release" });
    expect(await texts()).toEqual(["first", "after the release"]);
    await store.close();
    await cli.close();
    await h.kernel.terminate(id);
  });

  test("bad input: no reason, an unknown instance", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    expect((await rejection(h.kernel.hold(instance.id, "  "))).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect((await rejection(h.kernel.hold("nope-1", "why"))).code).toBe(ErrorCodes.INSTANCE_NOT_FOUND);
    expect((await rejection(h.kernel.release("nope-1"))).code).toBe(ErrorCodes.INSTANCE_NOT_FOUND);
    await h.kernel.terminate(instance.id);
  });
});

describe("budgets on records, bad input", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ limits: { spawnTimeout: 10_000 } }, { label: "budgetrec" });
  });
  afterAll(async () => h?.close());

  test("spawn's budget is stored on the record and setBudget changes it; bad budgets are refused naming the value", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, budget: { usd: 2.5, action: "notify" } });
    expect((await h.kernel.get(instance.id)).budget).toEqual({ usd: 2.5, action: "notify" });
    expect((await h.kernel.setBudget(instance.id, { tokens: 5000 })).budget).toEqual({ tokens: 5000 });
    expect((await h.kernel.setBudget(instance.id, null)).budget).toBeUndefined();

    const cases: [unknown, string][] = [
      [{ usd: -1 }, "usd must be a number of US dollars, 0 or more; got -1"],
      [{ usd: "ten" }, 'usd must be a number of US dollars, 0 or more; got "ten"'],
      [{ tokens: 1.5 }, "tokens must be a whole number, 0 or more; got 1.5"],
      [{ usd: 1, action: "explode" }, 'action must be one of pause, stop, notify; got "explode"'],
      [{}, "it has neither usd nor tokens"],
      [{ dollars: 3 }, 'unknown key "dollars"'],
      [5, "expected an object, got 5"],
    ];
    for (const [budget, says] of cases) {
      const spawned = await rejection(h.kernel.spawn({ role: "executive", workDir: h.workDir, budget: budget as never }));
      expect(spawned.code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect(spawned.message).toContain(`spawn option budget: ${says}`);
      const set = await rejection(h.kernel.setBudget(instance.id, budget as never));
      expect(set.message).toContain(`the budget of "${instance.id}": ${says}`);
    }
    // Nothing was spawned by the refused ones.
    expect((await h.kernel.list()).map((i) => i.id)).toEqual([instance.id]);
    await h.kernel.terminate(instance.id);
  });

  test("config: a negative or non-numeric limits.budget is refused naming the file, the key and the value", async () => {
    const bad = async (limits: unknown) => {
      const dir = await mkdtemp(path.join(h.dir, "cfg-"));
      await mkdir(path.join(dir, ".git"));
      await writeFile(path.join(dir, "tmuxclaude.config.mjs"), `export default ${JSON.stringify({ limits })};`);
      const error: unknown = await loadConfig({ cwd: dir }).then(() => new Error("expected the config to be refused"), (e: unknown) => e);
      expect(isTmuxClaudeError(error, ErrorCodes.CONFIG_INVALID), String(error)).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain(path.join(dir, "tmuxclaude.config.mjs"));
      return message;
    };
    expect(await bad({ budget: { default: { usd: -5 } } })).toMatch(/limits\.budget\.default\.usd[^\n]*-5/u);
    expect(await bad({ budget: { roles: { manager: { tokens: "lots" } } } })).toMatch(/limits\.budget\.roles\.manager\.tokens[^\n]*lots/u);
    expect(await bad({ budget: { action: "panic" } })).toMatch(/limits\.budget\.action[^\n]*panic/u);
    expect(await bad({ maxTurns: 0 })).toMatch(/limits\.maxTurns/u);
    expect(await bad({ spawnRate: { max: 0 } })).toMatch(/limits\.spawnRate\.max/u);
    // A role that does not exist is named when the kernel starts (roles may come from plugins, so not at parse time).
    const typo = await rejection(h.startKernel({ config: { limits: { budget: { roles: { managr: { usd: 1 } } } } } }));
    expect(typo.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(typo.message).toContain('limits.budget.roles.managr: "managr" is not a role (roles: executive, manager, specialist); fix the name or add the role under roles');
    expect(parseConfig({ limits: { budget: { default: { usd: 5 }, roles: { manager: { tokens: 1000, action: "stop" } } } } }).limits.budget).toEqual({
      default: { usd: 5 },
      roles: { manager: { tokens: 1000, action: "stop" } },
      action: "pause",
    });
  });
});

describe("runaway caps", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000, maxTurns: 2, spawnRate: { max: 2, perMs: 60_000, per: "parent" } } }, { label: "runaway" });
  });
  afterAll(async () => h?.close());

  test("limits.maxTurns: after the second turn the next message is held; resume delivers it and grants more turns", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const id = instance.id;
    for (const text of ["/work 200", "/work 150"]) {
      await h.kernel.send(id, text);
      await h.kernel.read(id, { wait: true, timeoutMs: 10_000 });
    }
    const read = await eventually(async () => {
      const r = await h.kernel.read(id);
      return r.paused ? r : undefined;
    }, 10_000, "the turn-cap hold");
    expect(read.paused).toBe("turn cap reached: 2 turns, limits.maxTurns is 2");
    const third = await h.kernel.send(id, "third");
    expect(third.state).toBe("queued");
    expect((await h.received()).map((m) => m.text)).toEqual(["/work 200", "/work 150"]);
    expect(await h.kernel.release(id)).toBe(true);
    await h.kernel.waitDelivered(third, 10_000);
    expect((await h.received()).map((m) => m.text)).toEqual(["/work 200", "/work 150", "third"]);
    expect((await h.kernel.get(id)).hold).toBeUndefined();
    await h.kernel.terminate(id);
  });

  test("limits.spawnRate: the third spawn in a minute under one parent is refused with the figures; another parent may still spawn", async () => {
    // Top-level spawns count under the root: the turn-cap test spawned one already.
    await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const refused = await rejection(h.kernel.spawn({ role: "executive", workDir: h.workDir }));
    expect(refused.code).toBe(ErrorCodes.SPAWN_RATE);
    expect(refused.message).toMatch(/^Spawn refused: 2 spawns at the top level within the last 60000 ms, limits\.spawnRate allows 2 \(per parent\)\. Try again in \d+ s/u);
    expect(refused.details).toMatchObject({ spawns: 2, max: 2, perMs: 60_000, per: "parent", parentId: null });
    const parent = (await h.kernel.list()).find((i) => i.status !== "exited")!;
    const child = await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: parent.id });
    expect(child.instance.parentId).toBe(parent.id);
    // The refused spawn left nothing behind.
    expect((await h.kernel.list()).filter((i) => i.parentId === null)).toHaveLength(1);
  });
});

describe("waiting for a turn end's taps", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 8_000 } }, { label: "turnends", start: false });
  });
  afterAll(async () => h?.close());

  test("a turnEnded tap that reads its instance with wait and sends it a message waits for neither itself nor the other (no deadlock)", async () => {
    let tapped: Promise<number> | undefined;
    const kernel = await h.startKernel({
      beforeStart: (k) =>
        k.hooks.turnEnded.tapPromise("test", async (turn) => {
          if (turn.prompt !== "/work 100") return;
          tapped = (async () => {
            const started = Date.now();
            await k.read(turn.instanceId, { wait: true, timeoutMs: 20_000 });
            const receipt = await k.send(turn.instanceId, "from the tap");
            if (receipt.state === "queued") await k.waitDelivered(receipt, 20_000);
            return Date.now() - started;
          })();
          await tapped;
        }),
    });
    const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
    await kernel.send(instance.id, "/work 100");
    const ms = await eventually(() => tapped, 10_000, "the tap");
    // Waiting for itself would have lasted limits.sendTimeout (8 s) at each step.
    expect(await ms).toBeLessThan(4_000);
    expect((await h.received()).map((m) => m.text)).toEqual(["/work 100", "from the tap"]);
    await kernel.terminate(instance.id);
  });
});
