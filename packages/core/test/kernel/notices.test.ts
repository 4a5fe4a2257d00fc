import { afterAll, beforeAll, expect, test } from "vitest";
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { ErrorCodes, type Notice, type PluginContext } from "../../src/index.js";
import { expectError } from "../helpers/expect-error.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({}, { start: false, label: "notice" });
});
afterAll(async () => {
  await h?.close();
});

test("ctx.notice reaches every notice tap with its source, node and an id; a bad notice is the raiser's error; a failing tap is not", async () => {
  let raiser!: PluginContext;
  const heard: Notice[] = [];
  const kernel = await h.startKernel({
    watch: "on-demand",
    config: {
      node: { id: "node-n" },
      plugins: [
        { name: "notifier", apply: (ctx) => ctx.hooks.notice.tapPromise(async (notice) => void heard.push(notice)) },
        { name: "broken", apply: (ctx) => ctx.hooks.notice.tapPromise(async () => Promise.reject(new Error("endpoint down"))) },
        { name: "budget", apply: (ctx) => void (raiser = ctx) },
      ],
    },
  });
  await raiser.notice({ kind: "budget", title: "Budget of exec-1's subtree crossed", instanceId: "exec-1", severity: "warning", data: { spentUsd: 5.12, budgetUsd: 5 } });
  await raiser.notice({ kind: "run-finished", title: "Run r-1 succeeded", eventId: "run-finished:r-1" });
  expect(heard).toHaveLength(2);
  expect(heard[0]).toMatchObject({ kind: "budget", source: "budget", node: "node-n", severity: "warning", instanceId: "exec-1", data: { spentUsd: 5.12, budgetUsd: 5 } });
  expect(heard[0]!.eventId).toMatch(/^[0-9a-f-]{36}$/u);
  expect(Date.parse(heard[0]!.at)).not.toBeNaN();
  expect(heard[1]).toMatchObject({ eventId: "run-finished:r-1", severity: "info" });

  const badKind = await expectError(raiser.notice({ kind: "Budget Crossed", title: "x" }), ErrorCodes.INVALID_ARGUMENT);
  expect(badKind.message).toContain('"Budget Crossed"');
  await expectError(raiser.notice({ kind: "budget", title: " " }), ErrorCodes.INVALID_ARGUMENT);
  await expectError(raiser.notice({ kind: "budget", title: "x", severity: "loud" as never }), ErrorCodes.INVALID_ARGUMENT);
  // An id a notifier's HTTP header cannot carry (a newline, a non-Latin-1 character) or of unbounded length is refused here, naming it.
  const newline = await expectError(raiser.notice({ kind: "budget", title: "x", eventId: "run-1\nx-injected: 1" }), ErrorCodes.INVALID_ARGUMENT);
  expect(newline.message).toContain('eventId "run-1\\nx-injected: 1"');
  expect(newline.message).toContain("visible ASCII");
  await expectError(raiser.notice({ kind: "budget", title: "x", eventId: "коммит-1" }), ErrorCodes.INVALID_ARGUMENT);
  await expectError(raiser.notice({ kind: "budget", title: "x", eventId: "" }), ErrorCodes.INVALID_ARGUMENT);
  await expectError(raiser.notice({ kind: "budget", title: "x", eventId: 7 as never }), ErrorCodes.INVALID_ARGUMENT);
  const long = await expectError(raiser.notice({ kind: "budget", title: "x", eventId: "a".repeat(201) }), ErrorCodes.INVALID_ARGUMENT);
  expect(long.message).toContain("(201 characters)");
  await raiser.notice({ kind: "budget", title: "x", eventId: "a".repeat(200) });
  expect(heard).toHaveLength(3);
  heard.pop();
  expect(heard).toHaveLength(2);
  await kernel.close();
});
