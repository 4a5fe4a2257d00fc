// `list` prints one row per instance whatever an agent reported as its
// progress (review of t-progress, #5): the kernel's check made the texts
// plain lines, so no forged row and no escape sequence reaches the terminal.
import { checkProgress, type InstanceSummary } from "@tmux-claude/core";
import { expect, test } from "vitest";
import { formatTable } from "../src/commands/list.js";

test("a progress text with a line break and an escape sequence stays in its row", () => {
  const progress = { ...checkProgress({ done: 1, total: 2, current: "Step\nFAKE-ROW  manager  idle\u001b[31m red" }, "test"), at: new Date().toISOString() };
  const instance = { id: "exec-1", role: "executive", status: "idle", parentId: null, agent: "echo", createdAt: new Date().toISOString(), workDir: "/tmp", tmux: { node: "n" }, children: [], progress };
  const table = formatTable([instance as unknown as InstanceSummary]);
  expect(table.trimEnd().split("\n")).toHaveLength(2);
  expect(table).not.toContain("\u001b");
  expect(table).toContain("1/2: Step FAKE-ROW  manager  idle red");
});
