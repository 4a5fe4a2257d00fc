// Real Claude Code watched by a serve-like kernel while one-shot kernels (the
// CLI) send to it. A one-shot kernel records "busy" at its receipt; with the
// stand-in model's instant replies, serve may have applied the turn's Stop
// before that write lands, adopts the newer "busy", and no further Stop comes.
// Serve's driver must then look at the screen and find the turn over (a
// dashboard showed such an instance busy for good, and serve queued every
// later message behind it).
import { FileStore } from "@tmux-claude/core";
import { eventually, match } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createClaudeHarness, type ClaudeHarness } from "./helpers.js";

let h: ClaudeHarness;

/** Resolves once the instance's pane printed nothing for `quietMs` (within 20 s). */
async function outputQuiet(id: string, quietMs: number): Promise<void> {
  let last = Date.now();
  const subscription = await h.kernel.output(id, () => (last = Date.now()));
  try {
    await eventually(() => Date.now() - last >= quietMs, 20_000, "the pane to go quiet");
  } finally {
    subscription.unsubscribe();
  }
}
beforeAll(async () => {
  h = await createClaudeHarness();
  h.model.rule({ name: "pong", when: match.lastUserTextIncludes("ping"), reply: { text: "pong" } });
}, 300_000);
afterAll(async () => {
  await h?.close();
});

test("serve sees the agent idle again after a one-shot send's late busy, with the turn's reply, and delivers its own send", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  const id = instance.id;
  await h.kernel.read(id, { wait: true, timeoutMs: 30_000 });
  const store = new FileStore(h.stateDir);

  for (let round = 0; round < 2; round++) {
    const cli = await h.startKernel({}, undefined, "on-demand");
    expect((await cli.send(id, `ping ${round}`)).state).toBe("delivered");
    await cli.close();
    await eventually(async () => ((await h.kernel.get(id)).status === "idle" ? true : undefined), 15_000, `serve sees the turn of ping ${round} end`);
    // Claude Code done drawing: output after the late busy would make serve look at the screen anyway, hiding the bug.
    await outputQuiet(id, 1_500);
    // The one-shot's "busy" landing after serve applied the Stop (the race, made certain): newer, so serve adopts it.
    await store.update(id, (record) => ({ ...record, status: "busy", statusReason: undefined, updatedAt: new Date().toISOString() }));
    await eventually(async () => ((await h.kernel.get(id)).status === "busy" ? true : undefined), 5_000, "serve adopts the late busy");
    const settled = await eventually(async () => {
      const record = await h.kernel.get(id);
      return record.status === "idle" ? record : undefined;
    }, 10_000, `serve sees the agent idle again after ping ${round}`);
    // The turn ended with the reply the Stop hook gave: not an interrupt, reply kept.
    expect(settled).toMatchObject({ lastReply: "pong" });
    expect(settled.statusReason).toBeUndefined();
  }

  const receipt = await h.kernel.send(id, "ping from serve");
  if (receipt.state === "queued") await h.kernel.waitDelivered(receipt, 15_000);
  await eventually(async () => (h.model.requests.some((r) => JSON.stringify(r.body).includes("ping from serve")) ? true : undefined), 15_000, "serve's message reached the model");
}, 180_000);
