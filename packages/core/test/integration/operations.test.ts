import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCodes } from "../../src/index.js";
import { expectError } from "../helpers/expect-error.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ limits: { maxInstances: 40, spawnTimeout: 10_000, sendTimeout: 5_000 } });
});
afterAll(async () => {
  await h?.close();
});

describe("send delivers text exactly and executes nothing", () => {
  const texts: [string, string][] = [
    ["command substitution", "$(touch PWNED_SUBST)"],
    ["backticks", "`touch PWNED_TICK`"],
    ["quotes", `it's "quoted" and 'single'`],
    ["semicolon", "a; touch PWNED_SEMI; b"],
    ["tmux format", "#{pane_id} #(touch PWNED_FORMAT) #[fg=red]"],
    ["percent", "100% %1 %% %output"],
    ["tilde", "~ ~/x ~root"],
    ["leading dash", "-t %0 --help"],
    ["key names", "Enter"],
    ["key names 2", "Escape C-c C-d Enter"],
    ["tabs", "a\tb\t\tc"],
    ["CR and LF", "line one\nline two\r\nline three\rfour"],
    ["UTF-8", "héllo wörld — 日本語 🚀 ❯ ✻"],
    ["braces and backslashes", "{ } \\ \\n \\\\ \\$HOME $HOME ${HOME}"],
    ["control-like text", "\\e[31m ^C ^[ \\x1b"],
  ];
  let id: string;
  beforeAll(async () => {
    ({ instance: { id } } = await h.kernel.spawn({ role: "executive", workDir: h.workDir }));
  });

  test.each(texts)("%s", async (_name, text) => {
    // The echo agent answers at once; wait for its prompt so the send is not queued behind the last turn.
    await h.kernel.read(id, { wait: true });
    const before = (await h.received()).length;
    const receipt = await h.kernel.send(id, text);
    expect(receipt.state).toBe("delivered");
    const received = await h.received();
    expect(received.length).toBe(before + 1);
    expect(received.at(-1)!.text).toBe(text);
    expect(await readdir(h.workDir)).toEqual([]);
  });

  test("200 KB of mixed text arrives byte-exact", async () => {
    const unit = "line $(x) `y` ; # { } ~ % 'q' \"d\" \\ é 🚀 \t end\n";
    let big = "";
    while (big.length < 200 * 1024) big += unit;
    await h.kernel.read(id, { wait: true });
    expect((await h.kernel.send(id, big)).state).toBe("delivered");
    expect((await h.received()).at(-1)!.text).toBe(big);
  });

  test("50 concurrent sends arrive whole, in order, none interleaved", async () => {
    const before = (await h.received()).length;
    const messages = Array.from({ length: 50 }, (_, i) => `message ${i} ${"x".repeat(i * 7)} end ${i}`);
    const receipts = await Promise.all(messages.map((m) => h.kernel.send(id, m)));
    for (const r of receipts.filter((r) => r.state === "queued")) await h.kernel.waitDelivered(r, 20_000);
    const received = (await h.received()).slice(before).map((m) => m.text);
    expect(received).toEqual(messages);
  });
});

describe("queueing while busy", () => {
  test("queued messages wait for idle, never typed into a running turn", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const first = await h.kernel.send(instance.id, "/work 700");
    expect(first.state).toBe("delivered");
    const second = await h.kernel.send(instance.id, "after the work");
    expect(second).toMatchObject({ state: "queued", position: 1 });
    const third = await h.kernel.send(instance.id, "and one more");
    expect(third).toMatchObject({ state: "queued", position: 2 });
    await expectError(h.kernel.send(instance.id, "refuse me", { whenBusy: "refuse" }), ErrorCodes.INSTANCE_BUSY, instance.id);
    expect((await h.kernel.read(instance.id)).queued).toBe(2);
    await h.kernel.waitDelivered(third, 10_000);
    const received = (await h.received()).filter((m) => ["/work 700", "after the work", "and one more"].includes(m.text));
    expect(received.map((m) => m.text)).toEqual(["/work 700", "after the work", "and one more"]);
    // The agent logs whether it was busy when input arrived: queued messages came after the turn.
    expect(received.map((m) => m.busy)).toEqual([false, false, false]);
    await h.kernel.terminate(instance.id);
  });

  test("whenBusy now types into the running turn", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    await h.kernel.send(instance.id, "/work 600");
    const now = await h.kernel.send(instance.id, "interrupting", { whenBusy: "now" });
    expect(now.state).toBe("delivered");
    // The receipt of a plain command agent is its echo of the line break, which output of the
    // running turn can resemble; so wait for the agent's own log rather than assume the order.
    await eventually(async () => (await h.received()).some((m) => m.text === "interrupting" && m.busy), 5_000, "the interruption logged while busy");
    await h.kernel.terminate(instance.id);
  });

  test("read --wait returns when the turn ends", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    await h.kernel.send(instance.id, "/work 500");
    expect((await h.kernel.read(instance.id)).status).toBe("busy");
    const result = await h.kernel.read(instance.id, { wait: true, timeoutMs: 5_000 });
    expect(result.status).toBe("idle");
    expect(result.screen).toContain("done");
    await h.kernel.send(instance.id, "/work 2000");
    await expectError(h.kernel.read(instance.id, { wait: true, timeoutMs: 200 }), ErrorCodes.READ_TIMEOUT, "busy", "working...");
    await h.kernel.terminate(instance.id);
  });
});

describe("spawn", () => {
  test("20 concurrent spawns get distinct ids under one parent", async () => {
    const { instance: parent } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.kernel.spawn({ role: "manager", parentId: parent.id, workDir: h.workDir })),
    );
    const ids = results.map((r) => r.instance.id);
    expect(new Set(ids).size).toBe(20);
    for (const id of ids) expect(id).toMatch(new RegExp(`^${parent.id}\\.mgr-\\d+$`));
    const listed = await h.kernel.list({ parentId: parent.id });
    expect(listed.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect((await h.kernel.list()).find((r) => r.id === parent.id)!.children).toHaveLength(20);
    expect(await h.kernel.terminate(parent.id, { cascade: true })).toHaveLength(21);
    expect(await h.kernel.list({ parentId: parent.id })).toEqual([]);
  });

  test("a prompt is delivered with a receipt; context comes first", async () => {
    const { instance, receipt } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "do the thing", context: "background" });
    expect(receipt?.state).toBe("delivered");
    expect((await h.received()).at(-1)!.text).toBe("background\n\ndo the thing");
    await h.kernel.terminate(instance.id);
  });

  test("the agent gets the spawner's environment plus configured env, whoever started tmux", async () => {
    process.env.TC_TEST_FROM_SPAWNER = "spawner-value";
    const k = await h.startKernel({
      watch: "on-demand",
      config: {
        env: { TC_TEST_CONFIG: "config value with spaces $HOME" },
        agents: { sh: { adapter: "command", command: "bash", args: ["--norc", "--noprofile"], env: { PS1: "sh> " } } },
      },
    });
    const { instance } = await k.spawn({ role: "executive", workDir: h.workDir, agent: "sh" });
    await k.send(instance.id, 'echo "[$TC_TEST_FROM_SPAWNER|$TC_TEST_CONFIG|$TMUX_CLAUDE_INSTANCE_ID|$PWD]"');
    const read = await k.read(instance.id, { wait: true });
    expect(read.screen).toContain(`[spawner-value|config value with spaces $HOME|${instance.id}|${h.workDir}]`);
    await k.terminate(instance.id);
    delete process.env.TC_TEST_FROM_SPAWNER;
  });

  test("bad input: clear errors, nothing half-created", async () => {
    const count = async () => (await h.kernel.list()).length;
    const before = await count();
    await expectError(h.kernel.spawn({ role: "boss", workDir: h.workDir }), ErrorCodes.UNKNOWN_ROLE, '"boss"', "executive, manager, specialist");
    await expectError(h.kernel.spawn({ role: "executive", workDir: path.join(h.dir, "nope") }), ErrorCodes.WORKDIR_INVALID, "does not exist", "nope");
    await expectError(h.kernel.spawn({ role: "executive", workDir: h.log }), ErrorCodes.WORKDIR_INVALID);
    await expectError(h.kernel.spawn({ role: "executive", workDir: h.workDir, agent: "ghost" }), ErrorCodes.UNKNOWN_AGENT, '"ghost"', "echo");
    await expectError(h.kernel.spawn({ role: "manager", parentId: "exec-999", workDir: h.workDir }), ErrorCodes.INSTANCE_NOT_FOUND, "exec-999");
    await expectError(h.kernel.spawn({ role: "executive", workDir: h.workDir, prompt: "   " }), ErrorCodes.EMPTY_TEXT);
    const k = await h.startKernel({
      watch: "on-demand",
      config: { agents: { missing: { adapter: "command", command: "definitely-not-a-real-agent-binary" } } },
    });
    await expectError(k.spawn({ role: "executive", workDir: h.workDir, agent: "missing" }), ErrorCodes.AGENT_COMMAND_NOT_FOUND, "definitely-not-a-real-agent-binary", "agents.missing.command");
    const { instance: spec } = await h.kernel.spawn({ role: "specialist", workDir: h.workDir });
    await expectError(h.kernel.spawn({ role: "manager", parentId: spec.id, workDir: h.workDir }), ErrorCodes.ROLE_NOT_ALLOWED, "specialist", "roles.specialist.spawns");
    await expectError(h.kernel.send(spec.id, ""), ErrorCodes.EMPTY_TEXT);
    await expectError(h.kernel.send("nobody", "hi"), ErrorCodes.INSTANCE_NOT_FOUND, '"nobody"');
    await expectError(h.kernel.read("nobody"), ErrorCodes.INSTANCE_NOT_FOUND);
    await expectError(h.kernel.terminate("nobody"), ErrorCodes.INSTANCE_NOT_FOUND);
    await expectError(h.kernel.restart("nobody"), ErrorCodes.INSTANCE_NOT_FOUND);
    await h.kernel.terminate(spec.id);
    expect(await count()).toBe(before);
    const sessions = await h.tmux("list-sessions", "-F", "#{session_name}");
    expect(sessions.split("\n").filter((s) => s && !s.startsWith("_tc-monitor"))).toHaveLength(before);
  });

  test("depth and count limits", async () => {
    const own = await createHarness({ limits: { maxDepth: 2, maxInstances: 3 } });
    const k = own.kernel;
    const { instance: exec } = await k.spawn({ role: "executive", workDir: own.workDir });
    const { instance: mgr } = await k.spawn({ role: "manager", parentId: exec.id, workDir: own.workDir });
    await expectError(k.spawn({ role: "specialist", parentId: mgr.id, workDir: own.workDir }), ErrorCodes.MAX_DEPTH, "limits.maxDepth", "depth 3");
    await k.spawn({ role: "manager", parentId: exec.id, workDir: own.workDir });
    await expectError(k.spawn({ role: "executive", workDir: own.workDir }), ErrorCodes.MAX_INSTANCES, "limits.maxInstances", "3");
    await expectError(k.terminate(exec.id), ErrorCodes.HAS_CHILDREN, mgr.id, "cascade");
    await k.terminate(exec.id, { cascade: true });
    await own.close();
  });

  test("an agent that shows a question at start fails the spawn with the screen quoted", async () => {
    const k = await h.startKernel({
      watch: "on-demand",
      config: {
        agents: {
          asker: { adapter: "command", command: "bash", args: ["--norc", "--noprofile", "-c", "printf 'Trust this folder? (y/n) '; read -r answer; exec cat"], waitingPattern: "\\(y/n\\)" },
        },
      },
    });
    const before = (await k.list()).length;
    await expectError(k.spawn({ role: "executive", workDir: h.workDir, agent: "asker" }), ErrorCodes.SPAWN_FAILED, "waiting", "Trust this folder? (y/n)");
    expect((await k.list()).length).toBe(before);
  });

  test("an agent that exits during startup fails the spawn with its last output", async () => {
    const k = await h.startKernel({
      watch: "on-demand",
      config: {
        agents: {
          // Like a real CLI, it takes a moment to exit after printing its error.
          dies: { adapter: "command", command: "bash", args: ["--norc", "-c", "echo 'fatal: no API key configured'; read -r -t 0.2 _; exit 4"] },
          // Exits in the same instant it prints: tmux may drop those last words, but the spawn still fails at once.
          vanishes: { adapter: "command", command: "bash", args: ["--norc", "-c", "exit 5"] },
        },
      },
    });
    await expectError(k.spawn({ role: "executive", workDir: h.workDir, agent: "dies" }), ErrorCodes.SPAWN_FAILED, "exited", "fatal: no API key configured");
    const started = Date.now();
    await expectError(k.spawn({ role: "executive", workDir: h.workDir, agent: "vanishes" }), ErrorCodes.SPAWN_FAILED, "exited");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("an agent that never gets ready fails within spawnTimeout", async () => {
    const k = await h.startKernel({
      watch: "on-demand",
      config: {
        limits: { spawnTimeout: 700 },
        agents: { slow: { adapter: "command", command: process.execPath, args: [path.join(path.dirname(h.log), "..", "never")], env: {} } },
      },
    });
    const agents = k.config.agents;
    expect(agents.slow).toBeDefined();
    const started = Date.now();
    const k2 = await h.startKernel({
      watch: "on-demand",
      config: {
        limits: { spawnTimeout: 700 },
        agents: { never: { adapter: "command", command: process.execPath, args: [(await import("@tmux-claude/testkit")).ECHO_AGENT], env: { ECHO_AGENT_NEVER_READY: "1" } } },
      },
    });
    await expectError(k2.spawn({ role: "executive", workDir: h.workDir, agent: "never" }), ErrorCodes.SPAWN_TIMEOUT, "700 ms", "echo-agent starting");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await k2.list()).filter((r) => r.agent === "never")).toEqual([]);
  });
});

describe("lifecycle", () => {
  test("killing an instance's tmux session marks it exited; restart relaunches it in place", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir, name: "phoenix" });
    await h.tmux("kill-session", "-t", instance.tmux.session);
    await eventually(async () => (await h.kernel.get(instance.id)).status === "exited", 3_000, "exited status");
    expect((await h.kernel.get(instance.id)).statusReason).toContain("killed");
    await expectError(h.kernel.send(instance.id, "hello?"), ErrorCodes.INSTANCE_EXITED, "restart");
    const restarted = await h.kernel.restart(instance.id);
    expect(restarted).toMatchObject({ id: instance.id, status: "idle", workDir: h.workDir, name: "phoenix", role: "executive" });
    expect((await h.kernel.send(instance.id, "back again")).state).toBe("delivered");
    await h.kernel.terminate(instance.id);
  });

  test("a restart by another process: serve follows the new launch, and the old one's exit never marks it exited", async () => {
    // h.kernel watches all (serve); the restarts run in a one-shot kernel. The old pane dies while serve
    // watches it: that exit belongs to the old launch, not to the record the restart just wrote.
    const oneShot = await h.startKernel({ watch: "on-demand" });
    const { instance } = await oneShot.spawn({ role: "executive", workDir: h.workDir });
    await eventually(async () => (await h.kernel.get(instance.id)).status === "idle", 5_000, "serve sees it idle");
    for (let round = 0; round < 12; round++) {
      const restarted = await oneShot.restart(instance.id);
      await eventually(async () => {
        const served = await h.kernel.get(instance.id);
        return served.tmux.paneId === restarted.tmux.paneId && served.status === "idle";
      }, 10_000, `serve follows restart ${round}`);
      // Settled: nothing late (the old pane's exit) overwrites the new launch's record.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await oneShot.get(instance.id)).status, `round ${round}`).toBe("idle");
      expect((await h.kernel.send(instance.id, `after restart ${round}`)).state).toBe("delivered");
    }
    expect((await h.received()).map((m) => m.text).filter((t) => t.startsWith("after restart"))).toEqual(Array.from({ length: 12 }, (_, n) => `after restart ${n}`));
    await oneShot.terminate(instance.id);
  });

  test("an agent that exits by itself is marked exited with its last words", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    await h.kernel.send(instance.id, "/exit").catch(() => undefined);
    await eventually(async () => (await h.kernel.get(instance.id)).status === "exited", 3_000, "exited status");
    expect((await h.kernel.get(instance.id)).statusReason).toContain("bye");
    await h.kernel.terminate(instance.id);
  });

  test("terminate kills the whole process tree", async () => {
    const k = await h.startKernel({
      watch: "on-demand",
      config: { agents: { sh: { adapter: "command", command: "bash", args: ["--norc", "--noprofile"], env: { PS1: "sh> " } } } },
    });
    const { instance } = await k.spawn({ role: "executive", workDir: h.workDir, agent: "sh" });
    // A child that ignores SIGHUP and SIGTERM, in its own process group.
    await k.send(instance.id, "setsid bash -c 'trap \"\" HUP TERM; echo $$ > child.pid; exec sleep 1000' & sleep 0.2; echo started");
    const pidText = await eventually(async () => (await import("node:fs/promises")).readFile(path.join(h.workDir, "child.pid"), "utf8"), 5_000, "child pid");
    const pid = Number(pidText.trim());
    expect(() => process.kill(pid, 0)).not.toThrow();
    await k.terminate(instance.id);
    await eventually(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 5_000, "child killed");
    await (await import("node:fs/promises")).rm(path.join(h.workDir, "child.pid"));
  });
});

describe("tmux server loss", () => {
  test("when the tmux server dies, instances are marked exited and the next operation reconnects", async () => {
    const own = await createHarness({}, { watch: "all" });
    const { instance } = await own.kernel.spawn({ role: "executive", workDir: own.workDir });
    await own.tmux("kill-server");
    await eventually(async () => (await own.kernel.get(instance.id)).status === "exited", 5_000, "exited after server loss");
    const { instance: again } = await own.kernel.spawn({ role: "executive", workDir: own.workDir });
    expect((await own.kernel.send(again.id, "after reconnect")).state).toBe("delivered");
    const restarted = await own.kernel.restart(instance.id);
    expect(restarted.status).toBe("idle");
    await own.close();
  });
});

describe("robustness", () => {
  test("a workdir whose name holds tmux formats or a #(command) is just a name", async () => {
    const fs = await import("node:fs/promises");
    const odd = path.join(h.dir, "w#(touch PWNED_CWD)#{pane_id}");
    await fs.mkdir(odd);
    const k = await h.startKernel({
      watch: "on-demand",
      config: { agents: { sh: { adapter: "command", command: "bash", args: ["--norc", "--noprofile"], env: { PS1: "sh> " } } } },
    });
    const { instance } = await k.spawn({ role: "executive", workDir: odd, agent: "sh" });
    await k.send(instance.id, 'echo "[$PWD]"');
    expect((await k.read(instance.id, { wait: true })).screen).toContain(`[${odd}]`);
    await k.restart(instance.id);
    await k.send(instance.id, 'echo "[again $PWD]"');
    expect((await k.read(instance.id, { wait: true })).screen).toContain(`[again ${odd}]`);
    expect(await fs.readdir(h.dir)).not.toContain("PWNED_CWD");
    expect(await fs.readdir(odd)).toEqual([]);
    await k.terminate(instance.id);
  });

  test("losing only our tmux client: serve reconnects, watches the survivors again and delivers their queue", async () => {
    const own = await createHarness({}, { watch: "all" });
    const { instance } = await own.kernel.spawn({ role: "executive", workDir: own.workDir });
    const monitors = async () => (await own.tmux("list-sessions", "-F", "#{session_name}")).split("\n").filter((s) => s.startsWith("_tc-monitor"));
    const [before] = await monitors();
    process.kill(await controlClientPid(own.socket), "SIGKILL");
    // The kernel reconnects on its own (a new monitor session; the old one is removed) and watches the instance again.
    await eventually(async () => {
      const now = await monitors();
      return now.length === 1 && now[0] !== before;
    }, 5_000, "a new monitor session");
    await eventually(async () => (await own.kernel.list()).find((r) => r.id === instance.id)?.status === "idle", 5_000, "idle after reconnect");
    await own.kernel.send(instance.id, "/work 300");
    const queued = await own.kernel.send(instance.id, "after the reconnect");
    expect(queued.state).toBe("queued");
    await eventually(async () => (await own.received()).some((m) => m.text === "after the reconnect"), 5_000, "queued message delivered");
    const sessions = (await own.tmux("list-sessions", "-F", "#{session_name}")).split("\n").filter((s) => s.startsWith("_tc-monitor"));
    expect(sessions).toHaveLength(1);
    await own.close();
  });

  test("a message queued by one process and delivered by another ends the first one's wait", async () => {
    const own = await createHarness({}, { watch: "on-demand" });
    const other = await own.startKernel({ watch: "on-demand" });
    const { instance } = await own.kernel.spawn({ role: "executive", workDir: own.workDir });
    await own.kernel.send(instance.id, "/work 400");
    const receipt = await own.kernel.send(instance.id, "deliver me anywhere");
    expect(receipt.state).toBe("queued");
    // The other kernel waits for the turn too, and it wins the delivery about half the time.
    const started = Date.now();
    await Promise.all([own.kernel.waitDelivered(receipt, 10_000), other.read(instance.id, { wait: true })]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await own.received()).filter((m) => m.text === "deliver me anywhere")).toHaveLength(1);
    await own.close();
  });

  test("a spawn cut short by closing the kernel leaves nothing behind", async () => {
    const own = await createHarness({
      agents: { never: { adapter: "command", command: process.execPath, args: [(await import("@tmux-claude/testkit")).ECHO_AGENT], env: { ECHO_AGENT_NEVER_READY: "1" } } },
    }, { watch: "on-demand" });
    const spawning = own.kernel.spawn({ role: "executive", workDir: own.workDir, agent: "never" });
    const failed = spawning.catch((e: unknown) => e);
    await eventually(async () => (await own.tmux("list-sessions", "-F", "#{session_name}")).includes("exec-1"), 5_000, "the session to exist");
    const closing = Date.now();
    await own.kernel.close();
    // It fails because of the close (spawnTimeout is 60 s), and close() waited for its clean-up.
    expect(await failed).toBeInstanceOf(Error);
    expect(Date.now() - closing).toBeLessThan(5_000);
    const after = await own.startKernel({ watch: "on-demand" });
    expect(await after.list()).toEqual([]);
    expect((await own.tmux("list-sessions", "-F", "#{session_name}")).split("\n").filter((s) => s && !s.startsWith("_tc-monitor"))).toEqual([]);
    await own.close();
  });
});

/** The pid of this process's tmux control client on `socket` (found in /proc). */
async function controlClientPid(socket: string): Promise<number> {
  const fs = await import("node:fs/promises");
  for (const entry of await fs.readdir("/proc")) {
    if (!/^\d+$/u.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const args = cmdline.split("\u0000");
    if (args.includes("-C") && args.includes(socket) && args.some((a) => a.replace(/^=/u, "").startsWith(`_tc-monitor-${process.pid}-`))) return Number(entry);
  }
  throw new Error(`no control client for ${socket}`);
}

