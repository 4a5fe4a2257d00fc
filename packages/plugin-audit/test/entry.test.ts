// What a caller can make the log hold: the digest is keyed (a short text
// cannot be looked up from a copy of the log), the key is made once per state
// dir even by processes racing for it, and no argument, however long, makes a
// line long.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OperationEvent } from "@tmux-claude/core";
import { afterEach, expect, test } from "vitest";
import { audit, auditKey, KEY_NAME, MAX_LOGGED_CHARS, type AuditApi } from "../src/index.js";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

let dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  dirs = [];
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tc-audit-entry-"));
  dirs.push(dir);
  return dir;
}

function event(extra: Partial<OperationEvent>): OperationEvent {
  return { caller: "exec-1", role: "executive", surface: "mcp", operation: "send", args: {}, node: "box-a/tc", at: "2026-12-05T10:00:00.000Z", durationMs: 1, ...extra };
}

const plainSha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

test("the argument digest is an HMAC under the state dir's key: a short answer cannot be looked up by hashing guesses, and another node's key gives another digest", async () => {
  const [nodeA, nodeB] = [await tempDir(), await tempDir()];
  const log = audit({}).api as AuditApi;
  const answer = { instanceId: "exec-1", text: "yes" };
  await log.record(event({ args: answer }), nodeA);
  await log.record(event({ args: { text: "yes", instanceId: "exec-1" } }), nodeA);
  await log.record(event({ args: answer }), nodeB);
  const [first, second] = (await log.read(nodeA)).entries;
  const [other] = (await log.read(nodeB)).entries;
  expect(first!.args.hmac).toMatch(/^hmac-sha256:[0-9a-f]{64}$/u);
  // Equal arguments give equal digests on one node (key order aside)...
  expect(second!.args.hmac).toBe(first!.args.hmac);
  // ...but not a dictionary's: neither the plain hash of the canonical JSON nor of the text.
  const text = JSON.stringify(first);
  for (const guess of ['{"instanceId":"exec-1","text":"yes"}', "yes"]) expect(text).not.toContain(plainSha256(guess));
  expect(other!.args.hmac).not.toBe(first!.args.hmac);

  const keyFile = path.join(nodeA, KEY_NAME);
  expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  // Beside the log's directory, not in it: a copied log does not carry its key.
  expect(await readdir(path.join(nodeA, "audit"))).not.toContain(KEY_NAME);
});

test("processes creating the key at once all end up with the one key on disk, and no draft is left", async () => {
  const stateDir = await tempDir();
  const script = `import { auditKey } from ${JSON.stringify(DIST)}; process.stdout.write((await auditKey(${JSON.stringify(stateDir)})).toString("hex"));`;
  const children = Array.from({ length: 6 }, () => spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] }));
  const outputs = children.map((child) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    return once(child, "exit").then(([code]) => ({ code: code as number, out }));
  });
  const results = await Promise.all(outputs);
  expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
  const onDisk = (await readFile(path.join(stateDir, KEY_NAME), "utf8")).trim();
  expect(new Set(results.map((r) => r.out))).toEqual(new Set([onDisk]));
  expect((await auditKey(stateDir)).toString("hex")).toBe(onDisk);
  expect(await readdir(stateDir)).toEqual([KEY_NAME]);
}, 30_000);

test("a damaged key is an error that says what to do, not a silent new key", async () => {
  const stateDir = await tempDir();
  const { writeFile } = await import("node:fs/promises");
  await writeFile(path.join(stateDir, KEY_NAME), "not a key\n", { mode: 0o600 });
  await expect(auditKey(stateDir)).rejects.toThrow(/audit\.key is not 64 hex digits\. Remove it to start a new key/u);
});

test("no argument makes a line long: ids, names, unknown tool names and error codes are cut, a target that is no id is left out", async () => {
  const stateDir = await tempDir();
  const log = audit({}).api as AuditApi;
  const huge = "x".repeat(100_000);
  await log.record(event({ operation: `tool_${huge}`, target: huge, args: { id: huge, name: huge, workDir: huge, instanceId: huge, text: huge, plugins: { [huge]: {} } }, error: { code: huge, message: huge } }), stateDir);
  await log.record(event({ operation: "terminate", target: "curl -H 'Authorization: Bearer sk-SECRET' x", args: {} }), stateDir);
  await log.record(event({ operation: "run_workflow", target: "flows/build.yaml", args: {} }), stateDir);
  const lines = (await readFile(path.join(stateDir, "audit", "audit.jsonl"), "utf8")).trim().split("\n");
  expect(lines[0]!.length).toBeLessThan(3_000);
  const [long, notAnId, file] = (await log.read(stateDir)).entries;
  expect(long!.operation).toBe(`tool_${"x".repeat(MAX_LOGGED_CHARS - 5)}…(100005 characters)`);
  expect(long!.target).toBeUndefined();
  expect(long!.args).toMatchObject({ textLength: 100_000, id: expect.stringMatching(/…\(100000 characters\)$/u) });
  expect(long!.error).toHaveLength(MAX_LOGGED_CHARS + "…(100000 characters)".length);
  expect(notAnId!.target).toBeUndefined();
  expect(lines[1]).not.toContain("sk-SECRET");
  expect(file!.target).toBe("flows/build.yaml");
});
