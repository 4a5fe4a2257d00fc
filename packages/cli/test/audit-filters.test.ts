// `tmux-claude audit` filters, over a log spread across rotated files:
// --since (a duration and an ISO time), --caller, --operation, together,
// the table, and bad input.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { OperationEvent } from "@tmux-claude/core";
import { audit, type AuditApi, type AuditEntry } from "@tmux-claude/plugin-audit";
import { createEnv, parseJson, type TestEnv } from "./helpers.js";

let env: TestEnv;
const now = Date.now();
const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();

beforeAll(async () => {
  env = await createEnv();
  // Small files, so the entries span the current file and rotated ones (the CLI reads with the default keep, 5).
  const log = audit({ maxBytes: 1024, keep: 5 }).api as AuditApi;
  const at = (m: number, caller: string | null, operation: string, target?: string): OperationEvent => ({
    caller,
    surface: caller === null ? "cli" : "mcp",
    operation,
    ...(target ? { target } : {}),
    args: target ? { instanceId: target } : {},
    result: { exitCode: 0 },
    node: "box-a/tc",
    at: minutesAgo(m),
    durationMs: 5,
  });
  for (const e of [
    at(180, null, "spawn"),
    at(120, "exec-1", "spawn"),
    at(90, "exec-1", "send", "exec-1.mgr-1"),
    at(45, null, "list"),
    at(30, "exec-1", "send", "exec-1.mgr-1"),
    at(20, "exec-1.mgr-1", "send", "exec-1.mgr-1.spec-1"),
    at(10, null, "terminate", "exec-1"),
  ]) {
    await log.record(e, env.stateDir);
  }
});
afterAll(async () => {
  await env?.close();
});

async function entries(args: string[]): Promise<string[]> {
  const result = await env.run(["audit", "--json", ...args]);
  expect(result.code, result.stderr).toBe(0);
  return parseJson<AuditEntry[]>(result).map((e) => `${e.caller} ${e.operation}`);
}

test("audit: every entry across the rotated files, oldest first; --since, --caller and --operation narrow it, also together", async () => {
  expect(await entries([])).toEqual(["root spawn", "exec-1 spawn", "exec-1 send", "root list", "exec-1 send", "exec-1.mgr-1 send", "root terminate"]);
  expect(await entries(["--since", "1h"])).toEqual(["root list", "exec-1 send", "exec-1.mgr-1 send", "root terminate"]);
  expect(await entries(["--since", minutesAgo(25)])).toEqual(["exec-1.mgr-1 send", "root terminate"]);
  expect(await entries(["--caller", "exec-1"])).toEqual(["exec-1 spawn", "exec-1 send", "exec-1 send"]);
  expect(await entries(["--caller", "root"])).toEqual(["root spawn", "root list", "root terminate"]);
  expect(await entries(["--operation", "send"])).toEqual(["exec-1 send", "exec-1 send", "exec-1.mgr-1 send"]);
  expect(await entries(["--caller", "exec-1", "--operation", "send", "--since", "100m"])).toEqual(["exec-1 send", "exec-1 send"]);
  expect(await entries(["--caller", "nobody"])).toEqual([]);
});

test("audit prints a table by default, says when nothing matches, and refuses a --since that is no time", async () => {
  const table = await env.run(["audit", "--operation", "terminate"]);
  expect(table.code, table.stderr).toBe(0);
  expect(table.stdout).toMatch(/^TIME\s+NODE\s+CALLER\s+VIA\s+OPERATION\s+TARGET\s+RESULT\s+TOOK\n\S+\s+box-a\/tc\s+root\s+cli\s+terminate\s+exec-1\s+ok exit 0\s+5ms\n$/u);
  const none = await env.run(["audit", "--caller", "nobody"]);
  expect(none.stdout).toBe("No audit entries match.\n");
  const bad = await env.run(["audit", "--since", "yesterday"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--since "yesterday" is neither a time nor a duration');
  expect(bad.stderr).toContain("30s, 10m, 2h, 7d");
  // Reading the log is not itself recorded: the log is as it was.
  expect(await entries([])).toHaveLength(7);
});
