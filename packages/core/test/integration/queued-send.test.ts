// A send waiting on a queued message learns at once when the message cannot be
// delivered any more, with the reason; the message's fate is what read shows.
import { afterAll, beforeAll, expect, test } from "vitest";
import { ErrorCodes, FileStore, isTmuxClaudeError, type DeliveryReceipt, type Kernel, type TmuxClaudeError } from "../../src/index.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
beforeAll(async () => {
  // on-demand, as a one-shot CLI `send` runs: the waiting process delivers the queue itself.
  h = await createHarness({ limits: { spawnTimeout: 10_000, sendTimeout: 5_000 } }, { watch: "on-demand" });
});
afterAll(async () => {
  await h?.close();
});

/** An instance busy with a long turn and a message queued behind it. */
async function queuedBehindWork(kernel: Kernel, text: string): Promise<{ id: string; receipt: DeliveryReceipt }> {
  const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
  await kernel.send(instance.id, "/work 60000");
  const receipt = await kernel.send(instance.id, text);
  expect(receipt.state).toBe("queued");
  return { id: instance.id, receipt };
}

/** The rejection of `promise`, with the time it came. */
async function failure(promise: Promise<unknown>): Promise<{ error: TmuxClaudeError; at: number }> {
  const error = await promise.then(
    () => {
      throw new Error("expected the wait to fail, but the message was delivered");
    },
    (e: unknown) => e,
  );
  if (!isTmuxClaudeError(error)) throw error;
  return { error, at: Date.now() };
}

test("a queued send fails within 1 s of its instance's exit, with the reason; the message stays queued for a restart", async () => {
  const { id, receipt } = await queuedBehindWork(h.kernel, "after the crash");
  const waiting = failure(h.kernel.waitDelivered(receipt, 60_000));
  const { tmux } = await h.kernel.get(id);
  const killedAt = Date.now();
  process.kill(tmux.pid, "SIGKILL");
  const { error, at } = await waiting;

  expect(error.code, error.message).toBe(ErrorCodes.INSTANCE_EXITED);
  expect(error.message).toContain(`Message ${receipt.messageId} to "${id}" was not delivered: the instance exited`);
  expect(error.message).toMatch(/exited with status 137|the agent exited/u);
  expect(error.message).toContain(`tmux-claude restart ${id} delivers it`);
  expect(error.details).toMatchObject({ id, messageId: receipt.messageId, status: "exited", queued: true });
  // What the issue asks: the wait ends within a second of the exit (a 10-minute default before).
  expect(at - killedAt).toBeLessThan(1_000);

  const read = await h.kernel.read(id);
  expect(read).toMatchObject({ status: "exited", queued: 1 });
  // Kept for a restart: the relaunched agent gets it, once.
  await h.kernel.restart(id);
  await eventually(async () => (await h.received()).some((m) => m.text === "after the crash"), 10_000, "the kept message after restart");
  expect((await h.received()).filter((m) => m.text === "after the crash")).toHaveLength(1);
  // Acked once its receipt came, a moment after the agent logged it.
  await eventually(async () => (await h.kernel.read(id)).queued === 0, 10_000, "the queue empty after the delivery");
  await h.kernel.terminate(id);
});

test("a queued send fails when another process terminates the instance; its queue goes with it", async () => {
  const { id, receipt } = await queuedBehindWork(h.kernel, "never typed");
  const waiting = failure(h.kernel.waitDelivered(receipt, 60_000));
  const other = await h.startKernel({ watch: "on-demand" });
  await other.terminate(id);
  const { error } = await waiting;
  expect(error.code, error.message).toBe(ErrorCodes.INSTANCE_NOT_FOUND);
  expect(error.message).toContain("was terminated, and its queued messages with it");
  expect((await h.received()).some((m) => m.text === "never typed")).toBe(false);
  await other.close();
});

test("a queued send fails when its instance's tmux session is killed", async () => {
  const { id, receipt } = await queuedBehindWork(h.kernel, "session gone");
  const waiting = failure(h.kernel.waitDelivered(receipt, 60_000));
  const { tmux } = await h.kernel.get(id);
  await h.tmux("kill-session", "-t", `=${tmux.session}`);
  const { error } = await waiting;
  expect(error.code, error.message).toBe(ErrorCodes.INSTANCE_EXITED);
  expect(error.message).toContain(`its tmux session "${tmux.session}" was killed`);
  await h.kernel.terminate(id);
});

test("a message already delivered ends the wait at once; an exited instance refuses new sends", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  const delivered = await h.kernel.send(instance.id, "hello");
  expect(delivered.state).toBe("delivered");
  await h.kernel.waitDelivered(delivered, 1_000);
  process.kill((await h.kernel.get(instance.id)).tmux.pid, "SIGKILL");
  await eventually(async () => (await h.kernel.get(instance.id)).status === "exited", 10_000, "the exit");
  const refused = await failure(h.kernel.send(instance.id, "too late"));
  expect(refused.error.code).toBe(ErrorCodes.INSTANCE_EXITED);
  await h.kernel.terminate(instance.id);
});

test("a message left queued for an idle agent (its sender died, or queued for a node just after that node's drain) goes in with the next send, in order", async () => {
  const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  await h.kernel.read(instance.id, { wait: true });
  // What a sender that died between its enqueue and its drain leaves: a queued message nobody is delivering.
  const store = new FileStore(h.stateDir);
  await store.init();
  await store.enqueue({ id: "left-behind", instanceId: instance.id, text: "left behind", from: null, enqueuedAt: new Date().toISOString() });
  await store.close();
  const receipt = await h.kernel.send(instance.id, "next one");
  expect(receipt).toMatchObject({ state: "queued", position: 2 });
  // No waitDelivered (it would drain by itself): the send alone must get both in.
  const got = await eventually(async () => {
    const texts = (await h.received()).map((m) => m.text);
    return texts.includes("next one") ? texts : undefined;
  }, 10_000, "both messages typed in");
  expect(got.slice(-2)).toEqual(["left behind", "next one"]);
});
