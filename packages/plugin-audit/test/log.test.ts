// The audit log file: rotation by size (in one process and across several at
// once), permissions, reading back across rotated files, and what an entry
// keeps of an operation (never a secret or a text).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OperationEvent } from "@tmux-claude/core";
import { afterEach, expect, test } from "vitest";
import { audit, digest, toEntry, type AuditApi } from "../src/index.js";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

let dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  dirs = [];
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-audit-"));
  dirs.push(dir);
  return dir;
}

function event(n: number, extra: Partial<OperationEvent> = {}): OperationEvent {
  return {
    caller: "exec-1",
    role: "executive",
    surface: "mcp",
    operation: "send",
    target: `exec-1.mgr-${n}`,
    args: { instanceId: `exec-1.mgr-${n}`, text: `message number ${n} `.repeat(5) },
    result: { messageId: `m-${n}`, instanceId: `exec-1.mgr-${n}`, state: "delivered" },
    node: "box-a/tc",
    at: new Date(Date.UTC(2026, 11, 5, 10, 0, n)).toISOString(),
    durationMs: 3,
    ...extra,
  };
}

const api = (options: Parameters<typeof audit>[0]) => audit(options).api as AuditApi;

test("rotation: the current file never passes maxBytes, `keep` rotated files remain, the oldest go; reading spans them in order; 0600 files in a 0700 directory", async () => {
  const stateDir = await tempDir();
  const log = api({ maxBytes: 2048, keep: 2 });
  // In order, then 40 at once: one process's appends keep their order either way.
  for (let n = 0; n < 40; n++) await log.record(event(n), stateDir);
  await Promise.all(Array.from({ length: 40 }, (_, i) => log.record(event(40 + i), stateDir)));

  const dir = path.join(stateDir, "audit");
  expect((await readdir(dir)).filter((f) => f.startsWith("audit.jsonl")).sort()).toEqual(["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]);
  expect((await stat(dir)).mode & 0o777).toBe(0o700);
  for (const name of ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]) {
    const info = await stat(path.join(dir, name));
    expect(info.size).toBeLessThanOrEqual(2048);
    expect(info.mode & 0o777).toBe(0o600);
  }
  const { entries, unreadable } = await log.read(stateDir);
  expect(unreadable).toBe(0);
  const seqs = entries.map((e) => Number(e.target!.split("-").at(-1)));
  // What remains is the newest stretch, whole and in order, up to the last line written.
  expect(seqs.at(-1)).toBe(79);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 80 - seqs.length + i));
  expect(seqs.length).toBeGreaterThan(10);
  expect(seqs.length).toBeLessThan(80);
});

test("a file made wider by hand is narrowed to 0600 at the next append; a torn line is skipped and counted", async () => {
  const stateDir = await tempDir();
  const log = api({});
  await log.record(event(1), stateDir);
  const file = path.join(stateDir, "audit", "audit.jsonl");
  // A line cut short (a full disk, a hand edit), and permissions widened by hand.
  await writeFile(file, '{"at":"2026-12-05T10:0\n', { flag: "a" });
  await chmod(file, 0o644);
  await log.record(event(2), stateDir);
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  const { entries, unreadable } = await log.read(stateDir);
  expect(entries.map((e) => e.target)).toEqual(["exec-1.mgr-1", "exec-1.mgr-2"]);
  expect(unreadable).toBe(1);
});

test("four processes appending at once rotate the shared file once per fill: every line kept, whole, and each process's lines in order", async () => {
  const stateDir = await tempDir();
  const perProcess = 60;
  const script = `
    import { audit } from ${JSON.stringify(DIST)};
    const log = audit({ maxBytes: 4096, keep: 60 }).api;
    const who = process.argv[1];
    for (let n = 0; n < ${perProcess}; n++) {
      await log.record({ caller: who, surface: "cli", operation: "send", target: who + "-" + n, args: { id: who, text: "x".repeat(200) },
        result: { exitCode: 0 }, node: "box-a/tc", at: new Date().toISOString(), durationMs: 1 }, ${JSON.stringify(stateDir)});
    }`;
  const children = ["p0", "p1", "p2", "p3"].map((who) => spawn(process.execPath, ["--input-type=module", "-e", script, who], { stdio: ["ignore", "ignore", "pipe"] }));
  const codes = await Promise.all(children.map(async (child) => (await once(child, "exit"))[0] as number));
  expect(codes).toEqual([0, 0, 0, 0]);

  const log = api({ maxBytes: 4096, keep: 60 });
  const { entries, unreadable } = await log.read(stateDir);
  expect(unreadable).toBe(0);
  expect(entries).toHaveLength(4 * perProcess);
  for (const who of ["p0", "p1", "p2", "p3"]) {
    expect(entries.filter((e) => e.caller === who).map((e) => e.target)).toEqual(Array.from({ length: perProcess }, (_, n) => `${who}-${n}`));
  }
  // A process that saw room appends after another rotated: a file may pass maxBytes by the lines of the others in flight, never more.
  const dir = path.join(stateDir, "audit");
  const line = Math.max(...(await readFile(path.join(dir, "audit.jsonl.1"), "utf8")).trim().split("\n").map((l) => l.length + 1));
  const files = (await readdir(dir)).filter((f) => f.startsWith("audit.jsonl"));
  expect(files.length).toBeGreaterThan(10);
  for (const name of files) expect((await stat(path.join(dir, name))).size).toBeLessThanOrEqual(4096 + 3 * line);
}, 60_000);

test("an entry keeps ids, roles, flags and text lengths, and a digest of the rest: never a text, a reply, a screen, a plugin option's value or an error message", () => {
  const secret = "whsec_SECRET-VALUE-9f2a";
  const key = Buffer.alloc(32, 7);
  const entry = toEntry({
    caller: null,
    surface: "mcp",
    operation: "spawn",
    args: { role: "manager", prompt: "build the TOP-SECRET-PLAN", context: "ctx TEXT-ctx", plugins: { notify: { secret } }, plugin: { git: { token: secret } } },
    result: { instance: { id: "exec-1", status: "idle", workDir: "/w" }, receipt: { state: "delivered", messageId: "m1" }, lastReply: "REPLY-TEXT", screen: "SCREEN-TEXT" },
    error: undefined,
    node: "box-a/tc",
    at: "2026-12-05T10:00:00.000Z",
    durationMs: 12,
  }, key);
  expect(entry).toMatchObject({
    caller: "root",
    args: { role: "manager", promptLength: 25, contextLength: 12, plugins: ["git"] },
    result: { "instance.id": "exec-1", "instance.status": "idle", "receipt.state": "delivered", "receipt.messageId": "m1" },
    ok: true,
  });
  const failed = toEntry({ ...event(1), result: undefined, error: { code: "TC_SEND_TIMEOUT", message: "the screen shows MESSAGE-ON-SCREEN" } }, key);
  expect(failed).toMatchObject({ ok: false, error: "TC_SEND_TIMEOUT" });
  const json = JSON.stringify([entry, failed]);
  for (const text of [secret, "TOP-SECRET", "TEXT-ctx", "REPLY-TEXT", "SCREEN-TEXT", "MESSAGE-ON-SCREEN", "message number"]) expect(json).not.toContain(text);
  // Canonical JSON: the same arguments in another key order have the same digest; other arguments another.
  expect(digest({ a: 1, b: { c: 2, d: [1, "x"] } }, key)).toBe(digest({ b: { d: [1, "x"], c: 2 }, a: 1 }, key));
  expect(digest({ a: 1 }, key)).not.toBe(digest({ a: 2 }, key));
});

test("bad options name the key, the value and what is allowed", () => {
  expect(() => audit({ maxBytes: 10 })).toThrow(/Invalid options for plugin "audit"[\s\S]*maxBytes[\s\S]*1024/u);
  expect(() => audit({ keep: 0 })).toThrow(/keep/u);
  expect(() => audit({ dir: "relative/dir" })).toThrow(/dir[\s\S]*absolute/u);
  expect(() => audit({ maxBytes: 4096, colour: "red" } as never)).toThrow(/colour/u);
});
