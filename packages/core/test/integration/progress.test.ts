// kernel.setProgress on real tmux with the echo agent: stored on the record,
// shown by read and list, the `progress` hook fired once across two
// processes, bad input refused naming the values with nothing written.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ErrorCodes, progressRollup, type Kernel, type ProgressUpdate } from "../../src/index.js";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { expectError } from "../helpers/expect-error.js";

describe("progress", () => {
  let h: Harness;
  const events: { kernel: string; update: ProgressUpdate }[] = [];
  const record = (name: string) => (kernel: Kernel) => kernel.hooks.progress.tap("test", (update) => void events.push({ kernel: name, update }));
  let other: Kernel;
  beforeAll(async () => {
    h = await createHarness({ limits: { spawnTimeout: 10_000 } }, { label: "progress" });
    record("serve")(h.kernel);
    other = await h.startKernel({ watch: "on-demand", beforeStart: record("oneshot") });
  });
  afterAll(async () => {
    await other?.close();
    await h?.close();
  });

  test("setProgress stores it, read and list show it, the hook fires once across processes; the same report again writes nothing", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    const child = (await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: instance.id })).instance;
    const stored = await other.setProgress(child.id, { done: 3, total: 7, current: "Writing tests", source: "tool" });
    expect(stored.progress).toMatchObject({ done: 3, total: 7, current: "Writing tests", source: "tool", at: expect.any(String) });
    expect((await h.kernel.read(child.id)).progress).toMatchObject({ done: 3, total: 7, current: "Writing tests" });
    expect((await other.list()).find((i) => i.id === child.id)?.progress).toMatchObject({ done: 3, total: 7 });
    expect(events.map((e) => [e.kernel, e.update.instanceId, e.update.progress?.done])).toEqual([["oneshot", child.id, 3]]);

    // The same report from the other process: nothing changed, nothing fired.
    await h.kernel.setProgress(child.id, { done: 3, total: 7, current: "Writing tests", source: "tool" });
    expect(events).toHaveLength(1);

    const rollup = progressRollup(await h.kernel.list(), instance.id);
    expect(rollup).toMatchObject({ rootId: instance.id, done: 3, total: 7, withProgress: 1, withoutProgress: 1 });
    await h.kernel.setProgress(instance.id, { done: 1, total: 2 });
    expect(progressRollup(await h.kernel.list(), instance.id)).toMatchObject({ done: 4, total: 9, withProgress: 2, withoutProgress: 0 });
    expect(progressRollup(await h.kernel.list(), child.id)).toMatchObject({ done: 3, total: 7, withProgress: 1 });

    expect((await h.kernel.setProgress(child.id, null)).progress).toBeUndefined();
    expect(events.at(-1)?.update.progress).toBeNull();
    await h.kernel.terminate(instance.id, { cascade: true });
  });

  test("bad input: done > total and the rest are refused naming the values; nothing is written", async () => {
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    await h.kernel.setProgress(instance.id, { done: 1, total: 3, current: "first" });
    const before = events.length;
    const cases: [unknown, string][] = [
      [{ done: 5, total: 3 }, "done 5 is more than total 3"],
      [{ done: -1, total: 3 }, "done must be a whole number 0 or more (got -1)"],
      [{ done: 1.5, total: 3 }, "done must be a whole number 0 or more (got 1.5)"],
      [{ done: 1, total: "3" }, 'total must be a whole number 0 or more (got "3")'],
      [{ done: 1, total: 3, current: "x".repeat(201) }, "current is 201 characters, over the 200 allowed"],
      [{ done: 1, total: 3, items: [{ text: "a", state: "done" }] }, 'items[0].state must be pending, in_progress or completed (got "done")'],
      [{ done: 1, total: 3, percent: 33 }, "unknown field(s) percent"],
    ];
    for (const [input, says] of cases) {
      await expectError(h.kernel.setProgress(instance.id, input as never), ErrorCodes.INVALID_ARGUMENT, `setProgress("${instance.id}")`, says, "Nothing was written.");
    }
    expect((await h.kernel.get(instance.id)).progress).toMatchObject({ done: 1, total: 3, current: "first" });
    expect(events.length).toBe(before);
    await expectError(h.kernel.setProgress("nope-1", { done: 0, total: 1 }), ErrorCodes.INSTANCE_NOT_FOUND, 'No instance "nope-1"');
    await h.kernel.terminate(instance.id);
  });
});
