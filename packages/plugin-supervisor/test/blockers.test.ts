import { expect, test } from "vitest";
import { ErrorCodes, TmuxClaudeError, type InstanceRecord, type Notice, type PluginContext } from "@tmux-claude/core";
import { Blockers, type BlockerState } from "../src/blockers.js";

/** A plugin context with only what Blockers uses: per-instance state in memory, a kernel whose send is scripted, notices kept. */
function context(send: (to: string, text: string) => Promise<unknown>) {
  const states = new Map<string, BlockerState>();
  const notices: Notice[] = [];
  const quiet = () => undefined;
  const ctx = {
    state: (id: string) => ({
      get: async () => states.get(id),
      update: async (updater: (state: BlockerState | undefined) => BlockerState) => {
        states.set(id, updater(states.get(id)));
        return states.get(id);
      },
    }),
    kernel: { send: (to: string, text: string) => send(to, text) },
    logger: { info: quiet, warn: quiet, debug: quiet, error: quiet },
    notice: async (notice: Notice) => void notices.push(notice),
  } as unknown as PluginContext;
  return { ctx, states, notices };
}

const child = (status: InstanceRecord["status"]) => ({ id: "mgr-1.spec-1", role: "specialist", parentId: "mgr-1", status }) as InstanceRecord;

test("a stalled episode that turns into a question tells the parent again, with the question's advice; once per episode and kind", async () => {
  const sent: string[] = [];
  const { ctx } = context(async (_to, text) => sent.push(text));
  const blockers = new Blockers(ctx);
  await blockers.blocked(child("busy"), "stalled: busy with no event from its agent for 5m 0s");
  expect(sent).toHaveLength(1);
  expect(sent[0]).toContain("Nothing was typed into it");
  await blockers.blocked(child("waiting"), "waiting on a question");
  expect(sent).toHaveLength(2);
  expect(sent[1]).toContain("is blocked: waiting on a question. Read its question");
  // The same kinds again within the episode: nothing more.
  await blockers.blocked(child("waiting"), "waiting on a question");
  await blockers.blocked(child("busy"), "stalled: busy with no event from its agent for 6m 0s");
  expect(sent).toHaveLength(2);
  // A new episode is told again.
  await blockers.unblocked(child("idle").id);
  await blockers.blocked(child("waiting"), "waiting on a question");
  expect(sent).toHaveLength(3);
});

test("a tell cut short by the kernel closing (TC_KERNEL_STATE) gives the claim back and raises no notice: the next process tells", async () => {
  let closing = true;
  const sent: string[] = [];
  const { ctx, states, notices } = context(async (_to, text) => {
    if (closing) throw new TmuxClaudeError(ErrorCodes.KERNEL_STATE, "The kernel is closing.");
    return sent.push(text);
  });
  await new Blockers(ctx).blocked(child("waiting"), "waiting on a question");
  expect(states.get(child("waiting").id)?.blocker).toBeUndefined();
  expect(notices).toEqual([]);
  // The next process (a new Blockers, the same store) sees the episode untold and tells it.
  closing = false;
  await new Blockers(ctx).blocked(child("waiting"), "waiting on a question");
  expect(sent).toHaveLength(1);
});
