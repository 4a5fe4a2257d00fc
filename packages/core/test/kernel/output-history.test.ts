// kernel.output for a viewer that opens late: the pane's size (its bytes move
// the cursor for that width and height) and, on request, its scrollback above
// the screen, so what scrolled off before the viewer came is still there.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Kernel } from "../../src/index.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness;
let kernel: Kernel;

beforeAll(async () => {
  h = await createHarness({}, { label: "output-history" });
  kernel = h.kernel;
});

afterAll(async () => {
  await h?.close();
});

describe("kernel.output", () => {
  test("reports the pane's real size and sends the requested scrollback before the screen", async () => {
    const { instance } = await kernel.spawn({ role: "executive", workDir: h.workDir });
    // Not the size the runtime created it with: a viewer must not assume that one.
    await h.tmux("resize-window", "-t", instance.tmux.windowId, "-x", "150", "-y", "12");
    for (let i = 0; i < 20; i++) await kernel.send(instance.id, `line ${i} of the history`);
    await eventually(async () => (await kernel.read(instance.id)).screen.includes("line 19 of the history"), 5_000, "the last echo");

    const glance = await kernel.output(instance.id, () => undefined);
    expect(glance.size).toEqual({ cols: 150, rows: 12 });
    expect(glance.screen).not.toContain("line 0 of the history");
    glance.unsubscribe();

    const late = await kernel.output(instance.id, () => undefined, { history: 1000 });
    expect(late.size).toEqual({ cols: 150, rows: 12 });
    expect(late.screen).toContain("line 0 of the history");
    expect(late.screen.trimEnd().split("\n").at(-1)).not.toContain("line 0");
    late.unsubscribe();
  });
});
