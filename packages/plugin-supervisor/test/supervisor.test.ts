import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, test, vi } from "vitest";
import { ErrorCodes, TmuxClaudeError, loadConfig, type InstanceRecord, type Kernel, type Notice } from "@tmux-claude/core";
import { ECHO_AGENT, createHarness, statusLog, type Harness } from "@tmux-claude/testkit";
import { supervisor, type BlockerState } from "../src/index.js";
import { blockerMessages, untilRecord, untilTold } from "./helpers.js";

const STALL_MS = 600;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness (no kernel yet) whose config has the supervisor, a short stall time, and an `asker` agent whose `/ask` is a question. */
function supervisedHarness(label: string): Promise<Harness> {
  return createHarness(
    {
      supervision: { stallAfterMs: STALL_MS },
      plugins: [supervisor()],
      agents: { asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\)$" } },
    },
    { label, start: false },
  );
}

/** A serve-like kernel (watches every instance) with the supervisor, a short stall time, and an `asker` agent whose `/ask` is a question. */
async function start(): Promise<{ h: Harness; kernel: Kernel; notices: Notice[] }> {
  h = await supervisedHarness("supervisor");
  const notices: Notice[] = [];
  const kernel = await h.startKernel({ beforeStart: (k) => k.hooks.notice.tap("test", (notice) => void notices.push(notice)) });
  return { h, kernel, notices };
}

/** A parent with one child (echo agents) on a supervised kernel. */
async function family(kernel: Kernel, workDir: string, agent?: string): Promise<{ parent: InstanceRecord; child: InstanceRecord }> {
  const { instance: parent } = await kernel.spawn({ role: "manager", workDir });
  const { instance: child } = await kernel.spawn({ role: "specialist", workDir, parentId: parent.id, ...(agent ? { agent } : {}) });
  return { parent, child };
}

test("a hung echo agent is flagged stalled after supervision.stallAfterMs, its parent gets exactly one blocker message, and no key is sent to it", async () => {
  const { h, kernel } = await start();
  const { instance: parent } = await kernel.spawn({ role: "manager", workDir: h.workDir });
  const { instance: child } = await kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: parent.id });
  const { instance: sibling } = await kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: parent.id });

  // Every key typed into any pane from now on, by pane (the kernel's only way to type).
  const typed = new Map<string, number>();
  const count = (pane: string) => typed.set(pane, (typed.get(pane) ?? 0) + 1);
  const sendText = kernel.runtime.sendText.bind(kernel.runtime);
  const sendKey = kernel.runtime.sendKey.bind(kernel.runtime);
  vi.spyOn(kernel.runtime, "sendText").mockImplementation((pane, ...rest) => (count(pane), sendText(pane, ...rest)));
  vi.spyOn(kernel.runtime, "sendKey").mockImplementation((pane, ...rest) => (count(pane), sendKey(pane, ...rest)));

  const hungAt = Date.now();
  await kernel.send(child.id, "/hang");
  const afterHang = typed.get(child.tmux.paneId) ?? 0;
  const stalled = await untilRecord(kernel, child.id, (r) => r.stalled !== undefined, 10_000);
  const stallMs = Date.now() - hungAt;
  console.log(`supervisor: flagged stalled ${stallMs} ms after the hang (stallAfterMs ${STALL_MS})`);
  expect(stallMs).toBeGreaterThanOrEqual(STALL_MS);
  // A flag, not a status: it stays busy, nothing interrupted it.
  expect(stalled.status).toBe("busy");
  expect(stalled.stalled!.why).toContain("no event from its agent and no output");
  expect(Date.parse(stalled.stalled!.since)).toBeGreaterThanOrEqual(hungAt - 50);

  // The parent (idle) gets the message typed in: one, naming the child, why, and what to do.
  const [message] = await untilRecord(kernel, parent.id, (r) => (r.messages ?? []).some((m) => m.text.startsWith(`[supervisor] ${child.id} `) && m.state === "delivered")).then(() =>
    blockerMessages(kernel, parent.id, child.id),
  );
  expect(message).toContain(`${child.id} (specialist) is blocked: stalled: busy with no event from its agent and no output`);
  expect(message).toContain(`tmux-claude read ${child.id}`);
  expect((await h.received()).filter((m) => m.text?.startsWith(`[supervisor] ${child.id} `))).toHaveLength(1);

  // list --blocked shows it with why; the sibling (idle) is not blocked.
  const blocked = await kernel.list({ blocked: true });
  expect(blocked.map((i) => i.id)).toEqual([child.id]);
  expect(blocked[0]!.blocked).toMatch(/^stalled: busy with no event/u);

  // Exactly one: hang the sibling now and wait for its own message; by then more than stallAfterMs passed since the child's.
  await kernel.send(sibling.id, "/hang");
  await untilRecord(kernel, parent.id, (r) => (r.messages ?? []).some((m) => m.text.startsWith(`[supervisor] ${sibling.id} `)));
  expect(await blockerMessages(kernel, parent.id, child.id)).toHaveLength(1);
  expect(await blockerMessages(kernel, parent.id, sibling.id)).toHaveLength(1);

  // Nothing was typed into the hung agent: no tmux send to its pane, and the agent logged no input byte.
  expect(typed.get(child.tmux.paneId) ?? 0).toBe(afterHang);
  expect((await h.received()).filter((m) => "hungInput" in m)).toEqual([]);
  expect((await kernel.get(child.id)).status).toBe("busy");
}, 60_000);

test("a stall flag clears when the instance does something again (its turn ends), and the next episode is told again", async () => {
  const { h, kernel } = await start();
  const { parent, child } = await family(kernel, h.workDir);
  // Silent for 3 stall times, then "done" and the prompt: stalled in between, cleared by the output and the turn's end.
  await kernel.send(child.id, `/work ${STALL_MS * 3}`);
  await untilRecord(kernel, child.id, (r) => r.stalled !== undefined);
  const idle = await untilRecord(kernel, child.id, (r) => r.status === "idle");
  expect(idle.stalled).toBeUndefined();
  expect(await kernel.list({ blocked: true })).toEqual([]);
  await kernel.send(child.id, `/work ${STALL_MS * 3}`);
  await untilRecord(kernel, child.id, (r) => r.stalled !== undefined);
  expect(await untilTold(kernel, parent.id, child.id, 2)).toHaveLength(2);
}, 60_000);

test("a stalled instance that prints again while still busy is unflagged at once; a trickle that goes quiet again is the same episode, told once", async () => {
  const { h, kernel } = await start();
  const { instance: parent } = await kernel.spawn({ role: "manager", workDir: h.workDir });
  const { instance: child } = await kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: parent.id });
  const { instance: sibling } = await kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: parent.id });
  // Quiet for 3 stall times, one line of output, then quiet for good: stalled, cleared by that line (still busy), stalled again.
  await kernel.send(child.id, `/hang ${STALL_MS * 3}`);
  const first = await untilRecord(kernel, child.id, (r) => r.stalled !== undefined);
  const cleared = await untilRecord(kernel, child.id, (r) => r.stalled === undefined);
  expect(cleared.status).toBe("busy");
  const second = await untilRecord(kernel, child.id, (r) => r.stalled !== undefined);
  expect(Date.parse(second.stalled!.since)).toBeGreaterThan(Date.parse(first.stalled!.since));
  // One line is no resumption: the parent is not told again. (The sibling's own message, told a stall time later, marks the wait's end.)
  await kernel.send(sibling.id, "/hang");
  await untilTold(kernel, parent.id, sibling.id, 1);
  expect(await blockerMessages(kernel, parent.id, child.id)).toHaveLength(1);
}, 60_000);

test("output sustained for stallAfterMs after a stall ends the episode: a later stall is told again", async () => {
  const { h, kernel } = await start();
  const { parent, child } = await family(kernel, h.workDir);
  // Quiet for 3 stall times (stalled), then a line every quarter stall time for 3 stall times (resumed for real), then quiet (stalled: a new episode).
  await kernel.send(child.id, `/drip ${STALL_MS * 3} ${STALL_MS / 4} ${STALL_MS * 3}`);
  await untilRecord(kernel, child.id, (r) => r.stalled !== undefined);
  await untilRecord(kernel, child.id, (r) => r.stalled === undefined);
  await untilRecord(kernel, child.id, (r) => r.stalled !== undefined, 15_000);
  expect(await untilTold(kernel, parent.id, child.id, 2)).toHaveLength(2);
}, 60_000);

test("a child waiting on a question tells its parent once per episode; a top-level one raises a notice", async () => {
  const { h, kernel, notices } = await start();
  const log = statusLog(kernel);
  const { instance: parent } = await kernel.spawn({ role: "manager", workDir: h.workDir });
  const { instance: child } = await kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: parent.id, agent: "asker" });

  await kernel.send(child.id, "/ask");
  await log.waitFor(child.id, (s) => s === "waiting");
  const told = await untilRecord(kernel, parent.id, (r) => (r.messages ?? []).some((m) => m.text.startsWith(`[supervisor] ${child.id} `)));
  const [message] = told.messages!.filter((m) => m.text.startsWith(`[supervisor] ${child.id} `)).map((m) => m.text);
  expect(message).toContain(`${child.id} (specialist) is blocked: waiting on a question`);
  expect(message).toContain(`tmux-claude send ${child.id} "<answer>"`);
  expect((await kernel.list({ blocked: true })).map((i) => [i.id, i.blocked])).toEqual([[child.id, "waiting on a question"]]);

  // Answered: the episode ends. Asked again: a second episode, told again; never more than once each.
  const since = log.changes.length;
  await kernel.send(child.id, "y", { whenBusy: "now" });
  await log.waitFor(child.id, (s) => s === "idle", 10_000, since);
  await untilRecord(kernel, child.id, (r) => !(r.pluginState?.supervisor as { blocker?: unknown } | undefined)?.blocker);
  await kernel.send(child.id, "/ask");
  await untilRecord(kernel, parent.id, (r) => (r.messages ?? []).filter((m) => m.text.startsWith(`[supervisor] ${child.id} `)).length === 2);

  // The root has no inbox: a top-level instance that waits is a notice, once.
  const { instance: top } = await kernel.spawn({ role: "executive", workDir: h.workDir, agent: "asker" });
  await kernel.send(top.id, "/ask");
  await log.waitFor(top.id, (s) => s === "waiting");
  await untilRecord(kernel, top.id, (r) => Boolean((r.pluginState?.supervisor as { blocker?: unknown } | undefined)?.blocker));
  await vi.waitFor(() => expect(notices.filter((n) => n.kind === "blocked" && n.instanceId === top.id)).toHaveLength(1));
  expect(notices.find((n) => n.instanceId === top.id)!.title).toContain(`${top.id} (executive) is blocked: waiting on a question`);
  expect(await blockerMessages(kernel, parent.id, top.id)).toEqual([]);
}, 60_000);

test("without serve the one-shot process that records the question tells the parent; with serve running, serve does, and nobody twice", async () => {
  h = await supervisedHarness("supervisor-oneshot");
  const oneshot = await h.startKernel({ watch: "on-demand" });
  const { instance: parent } = await oneshot.spawn({ role: "manager", workDir: h.workDir });
  const { instance: child } = await oneshot.spawn({ role: "specialist", workDir: h.workDir, parentId: parent.id, agent: "asker" });
  const told = (n: number) => untilRecord(oneshot, parent.id, (r) => (r.messages ?? []).filter((m) => m.text.startsWith(`[supervisor] ${child.id} `)).length >= n);
  const episode = async (n: number) => {
    await oneshot.send(child.id, "/ask");
    const record = await told(n);
    await oneshot.send(child.id, "y", { whenBusy: "now" });
    await untilRecord(oneshot, child.id, (r) => r.status === "idle" && !(r.pluginState?.supervisor as { blocker?: unknown } | undefined)?.blocker);
    return record.messages!.filter((m) => m.text.startsWith(`[supervisor] ${child.id} `)).length;
  };
  // No serve: the one-shot kernel saw the question (it is attached to what it spawned) and fired the change.
  expect(await episode(1)).toBe(1);
  // Serve runs: it fires the change; the one-shot kernel, seeing a serve, does not.
  await h.startKernel({ watch: "all" });
  expect(await episode(2)).toBe(2);
  expect(await episode(3)).toBe(3);
}, 60_000);

test("supervision.stallAfterMs of zero or less is a config error naming the file and the key", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-supervision-config-"));
  try {
    for (const value of [0, -1000]) {
      await writeFile(path.join(dir, "package.json"), JSON.stringify({ "tmux-claude": { supervision: { stallAfterMs: value } } }));
      const error = (await loadConfig({ cwd: dir }).catch((e: unknown) => e)) as TmuxClaudeError;
      expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(error.message).toContain(`Invalid config in ${path.join(dir, "package.json")}`);
      expect(error.message).toContain(`supervision.stallAfterMs: `);
      expect(error.message).toContain(`got ${value}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("supervision.stallAfterMs above 2147483647 (the longest timer) is a config error naming the file, key, value and maximum", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-supervision-config-"));
  try {
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ "tmux-claude": { supervision: { stallAfterMs: 3_000_000_000 } } }));
    const error = (await loadConfig({ cwd: dir }).catch((e: unknown) => e)) as TmuxClaudeError;
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(error.message).toContain(`Invalid config in ${path.join(dir, "package.json")}`);
    expect(error.message).toMatch(/supervision.stallAfterMs: expected an? (integer|number) <= 2147483647, got 3000000000/u);
    // The largest timer and `false` (off) are accepted.
    for (const value of [2_147_483_647, false]) {
      await writeFile(path.join(dir, "package.json"), JSON.stringify({ "tmux-claude": { supervision: { stallAfterMs: value } } }));
      expect((await loadConfig({ cwd: dir })).config.supervision.stallAfterMs).toBe(value);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("supervision.stallAfterMs: false turns stall detection off: a busy instance silent for many stall times is never flagged", async () => {
  h = await createHarness({ supervision: { stallAfterMs: false }, plugins: [supervisor()] }, { label: "supervisor-off", start: false });
  const kernel = await h.startKernel();
  const { parent, child } = await family(kernel, h.workDir);
  const flagged: string[] = [];
  const watch = kernel.watch((change) => {
    if (change.kind === "instance" && change.id === child.id) void kernel.get(child.id).then((r) => r.stalled && flagged.push(r.stalled.since));
  });
  await watch.ready;
  // Silent for 5 of the stall times the other tests use, then done: with detection on this is flagged (see above).
  await kernel.send(child.id, `/work ${STALL_MS * 5}`);
  await untilRecord(kernel, child.id, (r) => r.status === "idle");
  watch.stop();
  expect(flagged).toEqual([]);
  expect(await blockerMessages(kernel, parent.id, child.id)).toEqual([]);
}, 60_000);

test("a tell cut short by serve closing (TC_KERNEL_STATE) is given back and told by the next serve, once", async () => {
  h = await supervisedHarness("supervisor-closing");
  // The first serve closes while it tells: its send of the supervisor's message fails as a closing kernel's does.
  let refused!: () => void;
  const refusedOnce = new Promise<void>((resolve) => (refused = resolve));
  const first = await h.startKernel({
    beforeStart: (k) => {
      const send = k.send.bind(k);
      vi.spyOn(k, "send").mockImplementation(async (to, text, ...rest) => {
        if (!text.startsWith("[supervisor]")) return send(to, text, ...rest);
        refused();
        throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, "The kernel is closing; it cannot send (scripted).");
      });
    },
  });
  const { parent, child } = await family(first, h.workDir, "asker");
  await first.send(child.id, "/ask");
  await refusedOnce;
  await untilRecord(first, child.id, (r) => r.status === "waiting" && !(r.pluginState?.supervisor as BlockerState | undefined)?.blocker);
  expect(await blockerMessages(first, parent.id, child.id)).toEqual([]);
  await first.close();

  // The next serve finds it blocked and untold: it tells, once; a serve after it does not tell again.
  const second = await h.startKernel();
  expect(await untilTold(second, parent.id, child.id, 1)).toHaveLength(1);
  await second.close();
  const third = await h.startKernel();
  expect(await blockerMessages(third, parent.id, child.id)).toHaveLength(1);
}, 60_000);
