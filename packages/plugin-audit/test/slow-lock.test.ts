// The audit tap waits for the rotation lock (up to 10 s) when the file is
// full and another process rotates it: that wait must not hold an MCP reply.
// The kernel waits for its `operation` taps only up to its budget; the line is
// still written, in order, once the lock is free.
import { createHarness, type Harness } from "@tmux-claude/testkit";
import { acquireLock, type OperationInput } from "@tmux-claude/core";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { audit, type AuditApi } from "../src/index.js";

let h: Harness;
beforeAll(async () => {
  h = await createHarness({}, { start: false, label: "auditlock" });
});
afterAll(async () => {
  await h?.close();
});

const operation = (target: string): OperationInput => ({ caller: "exec-1", surface: "mcp", operation: "send", target, args: {}, at: new Date().toISOString(), durationMs: 1 });

test("a reply waits for the audit line at most the kernel's budget while another process holds the rotation lock; the line follows", async () => {
  const plugin = audit({ maxBytes: 1024 });
  const kernel = await h.startKernel({ watch: "on-demand", config: { plugins: [plugin] } });
  try {
    const dir = path.join(h.stateDir, "audit");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // A full file: the next line rotates it, under the lock another process holds now.
    await writeFile(path.join(dir, "audit.jsonl"), `${JSON.stringify({ filler: "x".repeat(1000) })}\n`, { mode: 0o600 });
    const held = await acquireLock(dir, "audit-rotate");
    let took: number;
    try {
      const started = performance.now();
      await kernel.recordOperation(operation("exec-1.mgr-1"));
      // Measured while the lock is still held: the reply did not wait for it.
      took = performance.now() - started;
    } finally {
      await held.release();
    }
    expect(took).toBeLessThan(5_000);
    // The next line is appended after the held-up one (one chain per directory): both are there, in order.
    const api = plugin.api as AuditApi;
    await api.record({ ...operation("exec-1.mgr-2"), node: kernel.node }, h.stateDir);
    expect((await api.read(h.stateDir)).entries.map((e) => e.target)).toEqual(["exec-1.mgr-1", "exec-1.mgr-2"]);
  } finally {
    await kernel.close();
  }
}, 30_000);
