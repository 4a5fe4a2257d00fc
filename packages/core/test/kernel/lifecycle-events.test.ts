// The lifecycle events a plugin sees, through a plugin that uses only the
// public exports (../fixtures/recorder-plugin.ts): each exactly once, in
// order, also with several processes attached to the same instances.
import { spawn as spawnProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { defineErrorCodes, definePlugin, ErrorCodes, FileStore, type InstanceRecord, type Kernel, type Plugin, type PluginState, TmuxClaudeError } from "../../src/index.js";
import { readRecorded, recorder, type Recorded } from "../fixtures/recorder-plugin.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { watch: "on-demand" });
  dir = await mkdtemp(path.join(os.tmpdir(), "tc-events-"));
});
afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function recorded(file: string): Promise<Recorded[]> {
  return readRecorded(await readFile(file, "utf8").catch(() => ""));
}

async function kernelRecording(file: string, who: string, watch: "all" | "on-demand", sideEffects?: string): Promise<Kernel> {
  return h.startKernel({
    watch,
    config: {
      agents: {
        ...h.config.agents,
        // Exits during startup, after beforeSpawn made its side effect.
        dies: { adapter: "command", command: "bash", args: ["--norc", "-c", "echo 'fatal: no API key'; read -r -t 0.2 _; exit 4"] },
      },
      plugins: [recorder({ file, who, sideEffects })],
    },
  });
}

describe("one plugin, one kernel", () => {
  test("spawn, a failed spawn undone, a restart through beforeSpawn, a queued message's delivery, turns, output, state that outlives the kernel", async () => {
    const file = path.join(dir, "one.jsonl");
    const side = path.join(dir, "worktrees");
    await mkdir(side);
    const kernel = await kernelRecording(file, "serve", "all", side);

    // Spawn.
    const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
    const id = instance.id;
    expect(await readdir(side)).toEqual([id]);

    // A spawn that fails after beforeSpawn: spawnFailed undoes the side effect, nothing is left.
    const failure = await kernel.spawn({ role: "executive", workDir: h.workDir, agent: "dies" }).catch((e: unknown) => e as TmuxClaudeError);
    expect(failure).toMatchObject({ code: ErrorCodes.SPAWN_FAILED });
    const failedId = (failure as TmuxClaudeError).details.id as string;
    expect(await readdir(side)).toEqual([id]);
    expect((await kernel.list()).map((r) => r.id)).not.toContain(failedId);

    // Output: raw bytes as tmux streams them, after a snapshot of the screen.
    const chunks: Buffer[] = [];
    const output = await kernel.output(id, (data) => chunks.push(data));
    expect(output.screen).toContain("echo-agent ready");
    expect((await kernel.send(id, "hello bytes")).state).toBe("delivered");
    await eventually(() => Buffer.concat(chunks).toString("utf8").includes("echo: hello bytes"), 5_000, "the echo in the output");
    output.unsubscribe();

    // A message queued behind work, delivered later with its original id; the work's turn ends.
    expect((await kernel.send(id, "/work 600")).state).toBe("delivered");
    const queued = await kernel.send(id, "after the work");
    expect(queued.state).toBe("queued");
    await eventually(async () => (await recorded(file)).some((e) => e.hook === "delivered" && e.messageId === queued.messageId), 10_000, "the queued delivery");

    // Restart: through beforeSpawn (restart: true) and afterSpawn; the output subscription ended with the old launch.
    const again = await kernel.output(id, () => undefined);
    await kernel.restart(id);
    await again.ended;

    // State that survives the kernel: one spawn and one restart counted.
    await kernel.close();
    let state: PluginState<unknown> | undefined;
    const reader = await h.startKernel({ watch: "on-demand", config: { plugins: [{ name: "recorder", apply: (ctx) => void (state = ctx.state(id)) }] } });
    expect(await state!.get()).toEqual({ spawns: 2 });
    await reader.close();

    const events = await recorded(file);
    const of = (hook: string, instanceId = id) => events.filter((e) => e.hook === hook && e.id === instanceId);
    expect(of("beforeSpawn").map((e) => e.restart)).toEqual([false, true]);
    expect(of("afterSpawn")).toHaveLength(2);
    expect(of("beforeSpawn", failedId)).toHaveLength(1);
    expect(of("spawnFailed", failedId)).toMatchObject([{ restart: false, instanceId: failedId }]);
    expect(of("delivered").map((e) => [e.text, e.queued, e.messageId === e.receiptId])).toEqual([
      ["hello bytes", false, true],
      ["/work 600", false, true],
      ["after the work", true, true],
    ]);
    expect(of("delivered").at(-1)!.messageId).toBe(queued.messageId);
    // The echo agent's turns end with "stop" (busy -> idle): the greeting, the work, the queued message.
    expect(of("turnEnded").map((e) => e.reason)).toEqual(["stop", "stop", "stop"]);
    // Each status change once, in order, each with its own event id and the node.
    const changes = of("statusChange").map((e) => `${e.from}->${e.to}`);
    expect(changes.slice(0, 2)).toEqual(["starting->idle", "idle->busy"]);
    const ids = events.map((e) => e.eventId).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
    for (const event of events.filter((e) => e.eventId)) expect(event.node).toBe(h.kernel.node);
    // The spawn that failed never produced a status change of its own here... its exit is its spawn's failure.
    expect(events.every((e) => e.mode === "serve")).toBe(true);
    await h.kernel.terminate(id);
  });
});

describe("several processes attached", () => {
  test("with serve (another process) and a one-shot kernel both attached, each status change reaches the plugin once", async () => {
    const file = path.join(dir, "two.jsonl");
    const configFile = path.join(dir, "serve-config.json");
    await writeFile(configFile, JSON.stringify({ ...h.config, plugins: [] }));
    const jitiCache = await mkdtemp(path.join(os.tmpdir(), "tc-jiti-"));
    const serve = spawnProcess(process.execPath, [fileURLToPath(new URL("../fixtures/serve-with-recorder.mjs", import.meta.url)), configFile, file], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, JITI_CACHE: jitiCache },
    });
    const exited = new Promise((resolve) => serve.once("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: serve.stdout! }).on("line", (line) => line === "ready" && resolve());
        serve.once("exit", (code) => reject(new Error(`serve exited early (${code})`)));
      });
      const oneShot = await kernelRecording(file, "oneshot", "on-demand");
      const { instance } = await oneShot.spawn({ role: "executive", workDir: h.workDir });
      for (const text of ["/work 300", "/work 250", "/work 200"]) {
        await oneShot.send(instance.id, text);
        await oneShot.read(instance.id, { wait: true, timeoutMs: 10_000 });
      }
      // Serve saw it all (it watches every instance); give it the time to write what it saw.
      await eventually(async () => (await recorded(file)).filter((e) => e.hook === "turnEnded" && e.id === instance.id).length >= 3, 10_000, "serve's turn events").catch(async (error: unknown) => {
        console.log(JSON.stringify(await recorded(file), null, 0));
        throw error;
      });
      await oneShot.terminate(instance.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const events = (await recorded(file)).filter((e) => e.id === instance.id);
      const changes = events.filter((e) => e.hook === "statusChange");
      // Once each: busy and idle alternate, never repeated, and all fired by serve.
      expect(changes.map((e) => e.who)).toEqual(changes.map(() => "serve"));
      const seq = changes.map((e) => `${e.from}->${e.to}`);
      for (let i = 1; i < seq.length; i++) expect(seq[i]).not.toBe(seq[i - 1]);
      expect(seq.filter((s) => s === "busy->idle")).toHaveLength(3);
      expect(events.filter((e) => e.hook === "turnEnded")).toHaveLength(3);
      // Serve names each turn's prompt although another process typed it (and fired its delivered).
      expect(events.filter((e) => e.hook === "turnEnded").map((e) => e.prompt)).toEqual(["/work 300", "/work 250", "/work 200"]);
      // The one-shot kernel ran the operations: their hooks fired there.
      expect(events.filter((e) => e.hook === "afterSpawn").map((e) => e.who)).toEqual(["oneshot"]);
      expect(events.filter((e) => e.hook === "delivered").map((e) => e.who)).toEqual(["oneshot", "oneshot", "oneshot"]);
    } finally {
      serve.kill("SIGTERM");
      await exited;
      await rm(jitiCache, { recursive: true, force: true });
    }
  });

  test("an agent that asks at once: serve announces waiting once although the sender handles its input's receipt after serve saw the question", async () => {
    // The question comes before the line break the sender takes as its receipt (written when the test
    // presses "!"), so the sender infers busy only after serve recorded waiting, as a loaded machine's
    // sender does. The answer ("y") replaces the question with a prompt.
    const agent = path.join(dir, "asks-at-once.mjs");
    await writeFile(
      agent,
      `process.stdin.setRawMode?.(true);
process.stdout.write("ready\\r\\n> ");
let line = "", asking = false;
process.stdin.on("data", (chunk) => {
  for (const byte of chunk) {
    const key = String.fromCharCode(byte);
    if (asking) {
      if (key === "!") process.stdout.write("\\r");
      if (key === "y") (asking = false), process.stdout.write("\\x1b[2K\\x1b[1Ganswered\\r\\n> ");
    } else if (byte === 0x0d) {
      asking = line === "/ask";
      line = "";
      process.stdout.write(asking ? "\\x1b[2K\\x1b[1GProceed? (y/n)" : "\\r\\n> ");
    } else (line += key), process.stdout.write(key);
  }
});
`,
    );
    const agents = { ...h.config.agents, asker: { adapter: "command", command: process.execPath, args: [agent], waitingPattern: "^Proceed\\? \\(y/n\\)$" } };
    const changes: string[] = [];
    const waiters = new Set<() => void>();
    const until = (what: string, accept: (seen: string[]) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within 10 s; serve announced: ${changes.join(", ")}`)), 10_000);
        const check = () => void (accept(changes) && (clearTimeout(timer), waiters.delete(check), resolve()));
        waiters.add(check);
        check();
      });
    const serve = await h.startKernel({
      watch: "all",
      config: { agents, plugins: [] },
      beforeStart: (kernel) => kernel.hooks.statusChange.tap("test", ({ instance, from, to }) => void (changes.push(`${instance.id}:${from}->${to}`), [...waiters].forEach((check) => check()))),
    });
    // What the sender writes over a stored waiting.
    const overwrites: string[] = [];
    class SpiedStore extends FileStore {
      override update(id: string, updater: (record: InstanceRecord) => InstanceRecord) {
        return super.update(id, (record) => {
          const next = updater(record);
          if (record.status === "waiting" && next.status !== "waiting") overwrites.push(`${record.status}->${next.status}`);
          return next;
        });
      }
    }
    const spied: Plugin = { name: "spied-store", apply: (ctx) => ctx.useStore(new SpiedStore(h.stateDir)) };
    const sender = await h.startKernel({ watch: "on-demand", config: { agents, plugins: [spied] } });
    try {
      const { instance } = await sender.spawn({ role: "executive", agent: "asker", workDir: h.workDir });
      const mine = (seen: string[]) => seen.filter((change) => change.startsWith(`${instance.id}:`)).map((change) => change.slice(instance.id.length + 1));
      const sending = sender.send(instance.id, "/ask");
      await until("waiting", (seen) => mine(seen).some((change) => change.endsWith("->waiting")));
      await h.tmux("send-keys", "-t", instance.tmux.paneId, "-l", "!");
      expect((await sending).state).toBe("delivered");
      // Its writes are all in the store once it closed.
      await sender.close();
      await h.tmux("send-keys", "-t", instance.tmux.paneId, "-l", "y");
      await until("idle after the answer", (seen) => mine(seen).at(-1) === "waiting->idle");
      expect(mine(changes).filter((change) => change.endsWith("->waiting"))).toHaveLength(1);
      // The sender's stale busy never replaced the waiting serve recorded.
      expect(overwrites).toEqual([]);
      await serve.terminate(instance.id);
    } finally {
      await sender.close();
      await serve.close();
    }
  });

  test("without serve, two one-shot kernels attached to one instance: each change once, by the one whose write recorded it", async () => {
    const file = path.join(dir, "three.jsonl");
    const a = await kernelRecording(file, "a", "on-demand");
    const b = await kernelRecording(file, "b", "on-demand");
    const { instance } = await a.spawn({ role: "executive", workDir: h.workDir });
    await b.read(instance.id); // b attaches too: it watches the same pane and events
    for (const text of ["/work 300", "/work 250"]) {
      await a.send(instance.id, text);
      await Promise.all([a.read(instance.id, { wait: true, timeoutMs: 10_000 }), b.read(instance.id, { wait: true, timeoutMs: 10_000 })]);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const changes = (await recorded(file)).filter((e) => e.id === instance.id && e.hook === "statusChange").map((e) => `${e.from}->${e.to}`);
    expect(changes).toEqual(["starting->idle", "idle->busy", "busy->idle", "idle->busy", "busy->idle"]);
    await a.terminate(instance.id);
  });
});

describe("plugin context and bad input", () => {
  test("ctx.mode tells serve from a one-shot kernel", async () => {
    const modes: string[] = [];
    const spy = { name: "spy", apply: (ctx: { mode: string }) => void modes.push(ctx.mode) };
    await (await h.startKernel({ watch: "all", config: { plugins: [spy] } })).close();
    await (await h.startKernel({ watch: "on-demand", config: { plugins: [spy] } })).close();
    expect(modes).toEqual(["serve", "oneshot"]);
  });

  test("a hook that does not exist, a kernel outside the plugin's range, a code defined twice: one clear error each", async () => {
    const typo = { name: "typo", apply: (ctx: { hooks: Record<string, unknown> }) => void ctx.hooks.afterSpwan };
    await expect(h.startKernel({ watch: "on-demand", config: { plugins: [typo as never] } })).rejects.toThrow(
      /Plugin "typo" taps hook "afterSpwan", which this kernel does not have\. Hooks: init, ready, .*afterSpawn.*\. Fix the name/u,
    );
    const old = { name: "old", kernel: ">=2.0.0", apply: () => undefined };
    await expect(h.startKernel({ watch: "on-demand", config: { plugins: [old] } })).rejects.toMatchObject({
      code: ErrorCodes.PLUGIN_INVALID,
      message: expect.stringMatching(/Plugin "old" works with kernel >=2\.0\.0, and this kernel is 0\.\d+\.\d+\. Install a version of the plugin made for/u),
    });
    const garbled = { name: "garbled", kernel: "latest please", apply: () => undefined };
    await expect(h.startKernel({ watch: "on-demand", config: { plugins: [garbled] } })).rejects.toThrow(/gives kernel "latest please", which is not a version range/u);

    const mine = defineErrorCodes("worktrees", { DIRTY: { code: "TC_WORKTREES_DIRTY", kind: "usage" } });
    expect(defineErrorCodes("worktrees", { DIRTY: { code: "TC_WORKTREES_DIRTY", kind: "usage" } })).toEqual(mine);
    expect(() => defineErrorCodes("other", { DIRTY: { code: "TC_WORKTREES_DIRTY" } })).toThrow(/Plugin "other" defines error code "TC_WORKTREES_DIRTY", which plugin "worktrees" already defines/u);
    expect(() => defineErrorCodes("other", { X: { code: ErrorCodes.SPAWN_FAILED } })).toThrow(/which the kernel already defines/u);
    expect(() => defineErrorCodes("other", { X: { code: "TC_lower" as "TC_X" } })).toThrow(/codes are TC_ followed by capitals/u);
    expect(new TmuxClaudeError(mine.DIRTY, "dirty").kind).toBe("usage");
  });

  test("a plugin's own error code survives its hook: the caller sees the code and its kind", async () => {
    const codes = defineErrorCodes("gatekeeper", { CLOSED: { code: "TC_GATEKEEPER_CLOSED", kind: "usage" } });
    const gatekeeper = {
      name: "gatekeeper",
      apply: (ctx: { hooks: { beforeSpawn: { tapPromise(fn: () => Promise<never>): void } } }) =>
        ctx.hooks.beforeSpawn.tapPromise(async () => {
          throw new TmuxClaudeError(codes.CLOSED, "the gate is closed for today", { until: "tomorrow" });
        }),
    };
    const kernel = await h.startKernel({ watch: "on-demand", config: { plugins: [gatekeeper as never] } });
    const error = (await kernel.spawn({ role: "executive", workDir: h.workDir }).catch((e: unknown) => e)) as TmuxClaudeError;
    expect(error).toMatchObject({ code: "TC_GATEKEEPER_CLOSED", kind: "usage", details: { plugin: "gatekeeper", hook: "beforeSpawn", until: "tomorrow" } });
    expect(error.message).toBe('Plugin "gatekeeper" failed in hook "beforeSpawn": the gate is closed for today');
    await kernel.close();
  });
});

describe("a spawn's options for plugins", () => {
  test("reach beforeSpawn as plan.plugins (empty on restart); options for a plugin that is not registered are refused before anything starts", async () => {
    const plans: { plugins: Readonly<Record<string, unknown>>; restart: boolean }[] = [];
    const shaper = definePlugin({
      name: "shaper",
      setup(ctx) {
        ctx.hooks.beforeSpawn.tap((plan) => {
          plans.push({ plugins: plan.plugins, restart: plan.restart });
          return plan;
        });
        ctx.hooks.listColumns.tap((list) => [...list, { header: "SHAPE", value: (instance) => instance.role }]);
      },
    });
    const kernel = await h.startKernel({ watch: "on-demand", config: { plugins: [shaper()] } });
    const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir, plugins: { shaper: { mode: "round", size: 3 } } });
    await kernel.restart(instance.id);
    expect(plans).toEqual([
      { plugins: { shaper: { mode: "round", size: 3 } }, restart: false },
      { plugins: {}, restart: true },
    ]);
    const [column] = await kernel.listColumns();
    expect([column!.header, column!.value(instance)]).toEqual(["SHAPE", "executive"]);

    const before = (await kernel.list()).length;
    await expect(kernel.spawn({ role: "executive", workDir: h.workDir, plugins: { shapr: { mode: "round" } } })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
      message: expect.stringMatching(/options for plugin "shapr", which is not registered \(plugins: shaper\)\. Fix the name, or add the plugin/u),
    });
    expect(plans).toHaveLength(2);
    expect((await kernel.list()).length).toBe(before);
    await kernel.terminate(instance.id);
    await kernel.close();
  });
});

describe("a terminate's options for plugins", () => {
  test("reach beforeTerminate and afterTerminate as event.plugins, also for the children a cascade ends; options for a plugin that is not registered are refused before anything ends", async () => {
    const seen: { id: string; hook: string; plugins: Readonly<Record<string, unknown>> }[] = [];
    const sweeper = definePlugin({
      name: "sweeper",
      setup(ctx) {
        ctx.hooks.beforeTerminate.tap((event) => void seen.push({ id: event.instance.id, hook: "before", plugins: event.plugins }));
        ctx.hooks.afterTerminate.tap((event) => void seen.push({ id: event.instance.id, hook: "after", plugins: event.plugins }));
      },
    });
    const kernel = await h.startKernel({ watch: "on-demand", config: { plugins: [sweeper()] } });
    const { instance: parent } = await kernel.spawn({ role: "executive", workDir: h.workDir });
    const { instance: child } = await kernel.spawn({ role: "manager", workDir: h.workDir, parentId: parent.id });
    await expect(kernel.terminate(parent.id, { cascade: true, plugins: { sweepr: { force: true } } })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
      message: expect.stringMatching(/The terminate has options for plugin "sweepr", which is not registered/u),
    });
    expect(seen).toEqual([]);
    await kernel.terminate(parent.id, { cascade: true, plugins: { sweeper: { force: true } } });
    expect(seen).toEqual([
      { id: child.id, hook: "before", plugins: { sweeper: { force: true } } },
      { id: child.id, hook: "after", plugins: { sweeper: { force: true } } },
      { id: parent.id, hook: "before", plugins: { sweeper: { force: true } } },
      { id: parent.id, hook: "after", plugins: { sweeper: { force: true } } },
    ]);
    const { instance: plain } = await kernel.spawn({ role: "executive", workDir: h.workDir });
    await kernel.terminate(plain.id);
    expect(seen.at(-1)).toEqual({ id: plain.id, hook: "after", plugins: {} });
    await kernel.close();
  });
});
