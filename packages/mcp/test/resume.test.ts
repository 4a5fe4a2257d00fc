// The MCP side of holding delivery: read and list carry `paused`, a send to a
// paused instance says so (not "busy"), now/refuse are refused with the
// reason, and `resume` delivers what waited.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Kernel } from "@tmux-claude/core";
import { call, createSetup, rootClient, textOf, type Setup } from "./helpers.js";

let h: Setup;
let kernel: Kernel;
beforeAll(async () => {
  h = await createSetup();
  kernel = await h.startKernel();
});
afterAll(async () => {
  await kernel?.close();
  await h?.close();
});

test("paused in read and list, sends queue saying why, resume delivers them", async () => {
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  await kernel.hold(instance.id, "held by the test", "manual");
  const { client, close } = await rootClient(kernel);
  try {
    const sent = await call(client, "send", { instanceId: instance.id, text: "after the hold" });
    expect(sent.structuredContent).toMatchObject({ state: "queued", position: 1, paused: "held by the test" });
    const { messageId } = sent.structuredContent as { messageId: string };
    expect(textOf(sent)).toBe(`Queued for "${instance.id}" at position 1: it is paused (held by the test); the message is delivered once it is resumed. Message ${messageId}, thread ${messageId}.`);
    const now = await call(client, "send", { instanceId: instance.id, text: "now", whenBusy: "now" });
    expect(now.isError).toBe(true);
    expect(textOf(now)).toContain(`Instance "${instance.id}" is paused (held by the test)`);

    const read = await call(client, "read", { instanceId: instance.id });
    expect(read.structuredContent).toMatchObject({ paused: "held by the test", queued: 1 });
    expect(textOf(read)).toContain("Paused: held by the test.");
    const listed = await call(client, "list");
    expect((listed.structuredContent as { instances: { id: string; paused?: string }[] }).instances.find((i) => i.id === instance.id)?.paused).toBe("held by the test");

    const resumed = await call(client, "resume", { instanceId: instance.id });
    expect(resumed.structuredContent).toEqual({ instanceId: instance.id, resumed: true });
    await kernel.deliverQueued(instance.id, 10_000);
    expect((await h.received()).map((m) => m.text)).toEqual(["after the hold"]);
    expect(textOf(await call(client, "resume", { instanceId: instance.id }))).toBe(`"${instance.id}" was not paused.`);
  } finally {
    await close();
  }
});
