// The kernel's check of a progress report makes its texts plain lines
// (review of t-progress, #5): whatever the source, `current`, item texts and
// `source` reach list rows, roll-up lines and the dashboard without line
// breaks, control characters or terminal escape sequences. And the one copy
// of a report every view shows (#7).
import { expect, test } from "vitest";
import { checkProgress, plainLine, progressCopy, rollupText, type Progress } from "../../src/index.js";

test("line breaks become spaces; escape sequences and control characters go", () => {
  expect(plainLine("Step\nFAKE-ROW  manager  idle\u001b[31m red\u001b[0m")).toBe("Step FAKE-ROW  manager  idle red");
  expect(plainLine("a\u001b]0;window title\u0007b\u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\")).toBe("ablink");
  expect(plainLine("tab\there\r\n\u2028z\u0000\u0007\u009b1m\u007f.")).toBe("tab here z1m.");
  expect(plainLine("Writing tests — ünïcode 😀")).toBe("Writing tests — ünïcode 😀");
});

test("checkProgress makes current, item texts and source plain before its length checks", () => {
  const checked = checkProgress(
    { done: 1, total: 2, current: "Step\nFAKE-ROW  manager  idle\u001b[31m", items: [{ text: "a\r\nb", state: "completed" }, { text: "\u001b[2J\u001b[Hc", state: "pending" }], source: "tool\n" },
    "test",
  );
  expect(checked).toEqual({ done: 1, total: 2, current: "Step FAKE-ROW  manager  idle", items: [{ text: "a b", state: "completed" }, { text: "c", state: "pending" }], source: "tool" });
  // A text of escapes only is no step; one over the limit only with them fits.
  expect(checkProgress({ done: 0, total: 1, current: "\u001b[0m" }, "test")).not.toHaveProperty("current");
  expect(checkProgress({ done: 0, total: 1, current: `${"x".repeat(200)}\u001b[0m` }, "test").current).toHaveLength(200);
  // The roll-up shows one line per instance.
  const progress: Progress = { ...checked, at: "2026-01-01T00:00:00.000Z" };
  const text = rollupText({ rootId: null, instances: [{ id: "exec-1", role: "executive", parentId: null, status: "idle", progress }], done: 1, total: 2, withProgress: 1, withoutProgress: 0 });
  expect(text.split("\n")).toHaveLength(2);
  expect(text).not.toContain("\u001b");
});

test("rollupText pads its columns as list does and marks a stalled instance busy (stalled)", () => {
  const at = "2026-01-01T00:00:00.000Z";
  const text = rollupText({
    rootId: "exec-1",
    instances: [
      { id: "exec-1", role: "executive", parentId: null, status: "idle", progress: { done: 2, total: 3, source: "tool", at } },
      { id: "exec-1.mgr-1.spec-1", role: "specialist", parentId: "exec-1.mgr-1", status: "busy", stalled: true, progress: { done: 1, total: 3, current: "Writing tests", source: "tool", at } },
      { id: "exec-1.mgr-1", role: "manager", parentId: "exec-1", status: "idle" },
    ],
    done: 3,
    total: 6,
    withProgress: 2,
    withoutProgress: 1,
  });
  expect(text.split("\n").slice(1)).toEqual([
    "exec-1               executive   idle            2/3",
    "exec-1.mgr-1.spec-1  specialist  busy (stalled)  1/3: Writing tests",
    "exec-1.mgr-1         manager     idle            -",
  ]);
});

test("progressCopy: every field, items copied (the record's objects stay the kernel's)", () => {
  const p: Progress = { done: 1, total: 2, current: "c", items: [{ text: "a", state: "completed" }], source: "tool", at: "t" };
  const copy = progressCopy(p);
  expect(copy).toEqual(p);
  expect(copy.items).not.toBe(p.items);
  expect(copy.items![0]).not.toBe(p.items![0]);
  expect(progressCopy({ done: 0, total: 0, source: "api", at: "t" })).toEqual({ done: 0, total: 0, source: "api", at: "t" });
});
