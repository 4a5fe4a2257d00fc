// kernel.watch (the store's change feed, for dashboards) and kernel.health
// (tmux, the store and plugins' checks), against a real tmux server that the
// test kills and brings back.
import { afterEach, describe, expect, test } from "vitest";
import { definePlugin, HEALTH_CHECK_TIMEOUT_MS, type StoreChange } from "../../src/index.js";
import { createHarness, eventually, type Harness } from "@tmux-claude/testkit";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("watch", () => {
  test("reports changes made by another process's kernel, once ready, until stopped", async () => {
    h = await createHarness({}, { watch: "all" });
    const changes: StoreChange[] = [];
    const watch = h.kernel.watch((change) => changes.push(change));
    await watch.ready;
    // A second kernel on the same store and socket, as a one-shot CLI command would be.
    const other = await h.startKernel({ watch: "on-demand" });
    const { instance } = await other.spawn({ role: "executive", workDir: h.workDir });
    await eventually(() => changes.some((c) => c.kind === "instance" && c.id === instance.id), 5_000, "the spawn reported");
    await other.send(instance.id, "/work 1000");
    await other.send(instance.id, "queued behind the work");
    await eventually(() => changes.some((c) => c.kind === "queue" && c.instanceId === instance.id), 5_000, "the queued message reported");
    watch.stop();
    const seen = changes.length;
    await other.terminate(instance.id);
    // The terminate was seen by a watch that still runs; the stopped one got nothing more.
    const probe: StoreChange[] = [];
    const after = h.kernel.watch((change) => probe.push(change));
    await after.ready;
    await other.spawn({ role: "executive", workDir: h.workDir });
    await eventually(() => probe.length > 0, 5_000, "a change after the stop");
    expect(changes.length).toBe(seen);
    after.stop();
  });

  test("is refused before the kernel started, with the reason", async () => {
    h = await createHarness({}, { start: false });
    const { Kernel } = await import("../../src/index.js");
    const kernel = new Kernel({ config: h.config, closeOnSignal: false });
    expect(() => kernel.watch(() => undefined)).toThrow(/The kernel is new; watch it once it started/u);
  });
});

describe("health", () => {
  test("a fresh kernel with no instance is healthy: tmux and store", async () => {
    h = await createHarness();
    const report = await h.kernel.health();
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(["tmux", "store"]);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(report.checks[0]!.detail).toMatch(/answers/u);
  });

  test("tmux killed: not ok, and stays so until a spawn starts a new server; a server started by someone else counts too", async () => {
    h = await createHarness({}, { watch: "all" });
    const { instance } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    expect((await h.kernel.health()).ok).toBe(true);
    await h.tmux("kill-server");
    await eventually(async () => (await h!.kernel.get(instance.id)).status === "exited", 5_000, "exited after the server loss");
    const down = await h.kernel.health();
    expect(down.ok).toBe(false);
    const tmux = down.checks.find((c) => c.name === "tmux")!;
    expect(tmux).toMatchObject({ ok: false, detail: expect.stringMatching(/no tmux server runs on socket .* the next spawn starts one/u) });
    expect(down.checks.find((c) => c.name === "store")!.ok).toBe(true);
    // Losing the server did not start an empty one behind the report's back.
    await expect(h.tmux("list-sessions")).rejects.toThrow();
    expect((await h.kernel.health()).ok).toBe(false);

    await h.kernel.spawn({ role: "executive", workDir: h.workDir });
    expect((await h.kernel.health()).ok).toBe(true);

    await h.tmux("kill-server");
    await eventually(async () => !(await h!.kernel.health()).ok, 5_000, "unhealthy after the second kill");
    await h.tmux("new-session", "-d", "-s", "someone-else", "--", "cat");
    expect((await h.kernel.health()).ok).toBe(true);
  });

  test("plugins add checks; one that throws or hangs fails alone, within the timeout", async () => {
    const checks = definePlugin({
      name: "checks",
      setup(ctx) {
        ctx.hooks.health.tap((list) => [
          ...list,
          { name: "fine", check: async () => ({ ok: true, detail: "listening" }) },
          { name: "broken", check: async () => Promise.reject(new Error("connection refused")) },
          { name: "hung", check: () => new Promise(() => undefined) },
        ]);
      },
    });
    h = await createHarness({ plugins: [checks()] });
    const started = Date.now();
    const report = await h.kernel.health();
    expect(Date.now() - started).toBeLessThan(HEALTH_CHECK_TIMEOUT_MS + 1_000);
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      { name: "tmux", ok: true, detail: expect.any(String) },
      { name: "store", ok: true, detail: expect.any(String) },
      { name: "fine", ok: true, detail: "listening" },
      { name: "broken", ok: false, detail: "connection refused" },
      { name: "hung", ok: false, detail: `timed out after ${HEALTH_CHECK_TIMEOUT_MS} ms` },
    ]);
  });
});
