/** The MCP `list` with `blocked`: only blocked instances, each with why; a stalled one carries its flag. */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Kernel } from "@tmux-claude/core";
import { ECHO_AGENT, statusLog } from "@tmux-claude/testkit";
import { call, createSetup, rootClient, textOf, type Setup } from "./helpers.js";

let h: Setup;
let kernel: Kernel;
beforeAll(async () => {
  h = await createSetup({ agents: { asker: { adapter: "command", command: process.execPath, args: [ECHO_AGENT], waitingPattern: "Proceed\\? \\(y/n\\)$" } } });
  kernel = await h.startKernel();
});
afterAll(async () => {
  await h?.close();
});

test("list with blocked: true returns the waiting and the stalled instance with why, not the idle one", async () => {
  const log = statusLog(kernel);
  const { instance: idle } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  const { instance: asking } = await kernel.spawn({ role: "executive", workDir: h.workDir, agent: "asker" });
  const { instance: stuck } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  await kernel.send(asking.id, "/ask");
  await log.waitFor(asking.id, (s) => s === "waiting");
  await kernel.send(stuck.id, "/hang");
  await log.waitFor(stuck.id, (s) => s === "busy");
  // As the supervisor does after supervision.stallAfterMs of silence.
  expect(await kernel.setStalled(stuck.id, { since: "2026-01-01T00:00:00.000Z", why: "busy with no event from its agent and no output for 5m 0s" })).toBe(true);
  const { client, close } = await rootClient(kernel);
  try {
    const list = await call(client, "list", { blocked: true });
    expect(list.isError).toBeFalsy();
    const instances = (list.structuredContent as { instances: { id: string; blocked?: string; stalled?: unknown }[] }).instances;
    expect(instances.map((i) => [i.id, i.blocked])).toEqual([
      [asking.id, "waiting on a question"],
      [stuck.id, "stalled: busy with no event from its agent and no output for 5m 0s"],
    ]);
    expect(instances[1]!.stalled).toEqual({ since: "2026-01-01T00:00:00.000Z", why: "busy with no event from its agent and no output for 5m 0s" });
    expect(textOf(list)).toContain(`(blocked: waiting on a question)`);
    // read (what the parent's blocker message points to) carries the flag and why, in its text and fields.
    const read = await call(client, "read", { instanceId: stuck.id, lines: 5 });
    expect(read.isError).toBeFalsy();
    expect(read.structuredContent).toMatchObject({
      status: "busy",
      stalled: { since: "2026-01-01T00:00:00.000Z", why: "busy with no event from its agent and no output for 5m 0s" },
      blocked: "stalled: busy with no event from its agent and no output for 5m 0s",
    });
    expect(textOf(read)).toContain(`"${stuck.id}" is busy and stalled since 2026-01-01T00:00:00.000Z.`);
    expect(textOf(read)).toContain("Blocked: stalled: busy with no event from its agent and no output for 5m 0s.");
    expect((await call(client, "read", { instanceId: asking.id })).structuredContent).toMatchObject({ blocked: "waiting on a question" });
    const calm = (await call(client, "read", { instanceId: idle.id })).structuredContent as Record<string, unknown>;
    expect([calm["stalled"], calm["blocked"]]).toEqual([undefined, undefined]);
    // read with wait that times out on a stalled instance says so.
    const waited = (await kernel.read(stuck.id, { wait: true, timeoutMs: 300 }).then(() => new Error("read --wait returned"), (e: unknown) => e)) as Error;
    expect(waited.message).toContain(`is still busy after 300 ms and stalled since 2026-01-01T00:00:00.000Z (busy with no event`);
    const all = await call(client, "list");
    expect((all.structuredContent as { instances: { id: string }[] }).instances.map((i) => i.id)).toContain(idle.id);
  } finally {
    await close();
  }
}, 60_000);
