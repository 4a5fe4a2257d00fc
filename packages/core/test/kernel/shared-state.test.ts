// A reuse in one process (a one-shot CLI) must not leave another's view (serve's, which MCP `read` answers from) with the
// last task's reply: the stored `reusedAt` makes every view drop `lastReply` and `turnPrompt`.
import { expect, test } from "vitest";
import { withSharedState } from "../../src/instances/shared-state.js";
import type { InstanceRecord } from "../../src/index.js";

const base = { id: "mgr-1.spec-1", status: "idle", lastReply: "old answer", turnPrompt: "old task", turns: 3 } as unknown as InstanceRecord;

test("a view adopts a reuse made elsewhere: the last task's reply and prompt go, once; a later reply of this view stays", () => {
  const stored = { ...base, lastReply: undefined, turnPrompt: undefined, turns: 0, reusedAt: "2026-12-05T13:40:00.000Z" } as InstanceRecord;
  const view = withSharedState(base, stored);
  expect(view).toMatchObject({ reusedAt: stored.reusedAt, turns: 0 });
  expect(view.lastReply).toBeUndefined();
  expect(view.turnPrompt).toBeUndefined();
  // The new task's answer, seen by this view first, is not dropped by the same reuse again.
  expect(withSharedState({ ...view, lastReply: "new answer" }, stored).lastReply).toBe("new answer");
});
