// Shared knowledge and file claims, through the MCP tools as the instances
// themselves call them (their own secret over HTTP), on a kernel that serves.
import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { definePlugin, FileStore, type Kernel } from "@tmux-claude/core";
import { mcp, type McpApi } from "@tmux-claude/mcp";
import { createHarness, freePort, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { knowledge, type KnowledgeApi, type ClaimsDoc } from "../src/index.js";
import { httpClient, rootClient, tokenOf } from "../../mcp/test/helpers.js";

let h: Harness;
let url: string;
const clients: Client[] = [];
let mgr: string;

beforeAll(async () => {
  const port = await freePort();
  h = await createHarness(
    { limits: { maxInstances: 40, spawnTimeout: 10_000, sendTimeout: 5_000 }, plugins: [mcp({ port }), knowledge({ claimWaitMs: 20_000 })] },
    { label: "knowledge", watch: "all" },
  );
  url = (await h.kernel.plugin<McpApi>("mcp")!.listen()).url;
  const { instance: exec } = await h.kernel.spawn({ role: "executive", workDir: h.workDir });
  mgr = (await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: exec.id })).instance.id;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

/** A specialist under the manager, and an MCP client that is that specialist. */
async function specialist(kernel: Kernel = h.kernel): Promise<{ id: string; client: Client }> {
  const { instance } = await kernel.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr });
  const client = await httpClient(url, await tokenOf(kernel, instance.id));
  clients.push(client);
  return { id: instance.id, client };
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
const text = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
async function ok<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const r = await call(client, name, args);
  if (r.isError) throw new Error(`${name} failed: ${text(r)}`);
  return r.structuredContent as T;
}
async function refused(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await call(client, name, args);
  if (!r.isError) throw new Error(`${name} succeeded, expected a refusal: ${text(r)}`);
  return text(r);
}

describe("through the MCP tools, as the instances", () => {
  test("two specialists claiming overlapping paths: the second is refused naming the first; after the first terminates, it succeeds", async () => {
    const a = await specialist();
    const b = await specialist();
    expect(await ok(a.client, "claim_files", { paths: ["src/auth.ts", "docs"] })).toMatchObject({ claimed: ["src/auth.ts", "docs"], instanceId: a.id });
    const message = await refused(b.client, "claim_files", { paths: ["src/**"] });
    expect(message).toContain(`"${a.id}" holds "src/auth.ts"`);
    expect(message).toMatch(/TC_CLAIM_CONFLICT|refused/u);
    // Files nobody holds are free; the refused claim left nothing behind.
    expect(await ok(b.client, "claim_files", { paths: ["src/billing.ts"] })).toMatchObject({ claimed: ["src/billing.ts"] });
    await h.kernel.terminate(a.id);
    expect(await ok(b.client, "claim_files", { paths: ["src/**"] })).toMatchObject({ claimed: ["src/**"], holds: ["src/billing.ts", "src/**"] });
    const [doc] = await h.kernel.plugin<KnowledgeApi>("knowledge")!.claims(b.id.split(".")[0]);
    expect(doc!.claims.map((c) => c.instanceId)).toEqual([b.id]);
    await h.kernel.terminate(b.id);
  });

  test("knowledge recorded by one instance is returned to its sibling's query, with who and when", async () => {
    const a = await specialist();
    const b = await specialist();
    await ok(a.client, "knowledge_record", { key: "auth/session-store", value: "Sessions live in Redis, key sess:<id>.", tags: ["auth", "decision"] });
    await ok(a.client, "knowledge_record", { key: "build", value: "npm run build before the tests" });
    const byTag = await ok<{ entries: { key: string; value: string; by: string; at: string; tags: string[] }[] }>(b.client, "knowledge_query", { tag: "auth" });
    expect(byTag.entries).toEqual([expect.objectContaining({ key: "auth/session-store", value: "Sessions live in Redis, key sess:<id>.", by: a.id, tags: ["auth", "decision"], at: expect.any(String) })]);
    expect((await ok<{ entries: { key: string }[] }>(b.client, "knowledge_query", { text: "REDIS" })).entries.map((e) => e.key)).toEqual(["auth/session-store"]);
    expect((await ok<{ entries: { key: string }[] }>(b.client, "knowledge_query", { key: "build" })).entries.map((e) => e.key)).toEqual(["build"]);
    // Recording a key again replaces it (version 2), by whoever recorded it last.
    expect(await ok(b.client, "knowledge_record", { key: "build", value: "npm run build, then npm test" })).toMatchObject({ entry: { version: 2, by: b.id } });
    // Another hierarchy sees none of it.
    const other = await h.kernel.spawn({ role: "specialist", workDir: h.workDir });
    const outsider = await httpClient(url, await tokenOf(h.kernel, other.instance.id));
    clients.push(outsider);
    expect((await ok<{ entries: unknown[] }>(outsider, "knowledge_query", {})).entries).toEqual([]);
    expect(await refused(outsider, "knowledge_query", { hierarchy: a.id })).toContain(`hierarchy "${a.id}" is not yours`);
    await Promise.all([a.id, b.id, other.instance.id].map((id) => h.kernel.terminate(id)));
  });

  test("knowledge_query returns the newest `limit` (default 50) of its own hierarchy; knowledge_forget forgets; a root's terminate drops its hierarchy's knowledge and claims", async () => {
    const api = h.kernel.plugin<KnowledgeApi>("knowledge")!;
    const top = (await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id;
    const child = (await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: top })).instance.id;
    const client = await httpClient(url, await tokenOf(h.kernel, child));
    clients.push(client);
    for (let i = 0; i < 55; i++) await api.record(top, null, { key: `note-${String(i).padStart(2, "0")}`, value: `value ${i}`, tags: i % 2 ? ["odd"] : [] });
    await api.record(mgr.split(".")[0]!, null, { key: "elsewhere", value: "another hierarchy's" });
    const all = await ok<{ entries: { key: string; hierarchy: string }[]; truncated: boolean }>(client, "knowledge_query", {});
    expect(all.entries).toHaveLength(50);
    expect(all.truncated).toBe(true);
    expect(all.entries[0]!.key).toBe("note-54");
    expect(new Set(all.entries.map((e) => e.hierarchy))).toEqual(new Set([top]));
    expect(text(await call(client, "knowledge_query", { limit: 2 }))).toContain("(The 2 newest shown; more match");
    const odd = await ok<{ entries: { key: string }[]; truncated: boolean }>(client, "knowledge_query", { tag: "odd", limit: 3 });
    expect(odd.entries.map((e) => e.key)).toEqual(["note-53", "note-51", "note-49"]);
    expect(await ok(client, "knowledge_forget", { keys: ["note-54", "nope"] })).toMatchObject({ hierarchy: top, forgotten: ["note-54"] });
    expect((await ok<{ entries: { key: string }[] }>(client, "knowledge_query", { limit: 1 })).entries.map((e) => e.key)).toEqual(["note-53"]);
    expect(await refused(client, "knowledge_forget", {})).toContain("knowledge_forget takes either keys (the keys to forget) or all: true, got neither");
    await ok(client, "claim_files", { paths: ["kept.ts"] });
    // The hierarchy ends with its top-level instance: its entries and claims document go too.
    await h.kernel.terminate(top, { cascade: true });
    expect(await api.query(top)).toEqual([]);
    expect(await api.claims(top)).toEqual([]);
    expect((await api.query(mgr.split(".")[0]!, { key: "elsewhere" })).map((e) => e.key)).toEqual(["elsewhere"]);
  });

  test("claim_files with wait queues until the holder releases; release_files and exit end claims", async () => {
    const a = await specialist();
    const b = await specialist();
    await ok(a.client, "claim_files", { paths: ["lib/**"] });
    const waiting = ok<{ claimed: string[]; waitedMs: number }>(b.client, "claim_files", { paths: ["lib/x.ts"], wait: true });
    const api = h.kernel.plugin<KnowledgeApi>("knowledge")!;
    // Its request waits in the document, behind a's claim.
    await expect.poll(async () => (await api.claims()).flatMap((d) => d.waiting.map((w) => w.instanceId)), { timeout: 5_000 }).toContain(b.id);
    expect(await ok(a.client, "release_files", {})).toMatchObject({ released: ["lib/**"] });
    expect((await waiting).claimed).toEqual(["lib/x.ts"]);
    // b exits (its session ends): the serving kernel sees it and its claims end.
    await h.tmux("kill-session", "-t", (await h.kernel.get(b.id)).tmux.session);
    await expect.poll(async () => (await api.claims()).flatMap((d) => d.claims.map((c) => c.instanceId)), { timeout: 10_000 }).not.toContain(b.id);
    // wait with a timeout that passes: refused naming the holder, the request withdrawn.
    const c = await specialist();
    await ok(a.client, "claim_files", { paths: ["lib/y.ts"] });
    const timedOut = await refused(c.client, "claim_files", { paths: ["lib"], wait: true, timeoutMs: 300 });
    expect(timedOut).toMatch(new RegExp(`after waiting 300 ms: "${a.id.replace(/\./gu, "\\.")}" holds "lib/y.ts"`, "u"));
    expect((await api.claims()).flatMap((d) => d.waiting)).toEqual([]);
    await Promise.all([a.id, b.id, c.id].map((id) => h.kernel.terminate(id)));
  });

  test("bad input: a path outside the workdir, an unsupported glob, a value over the limit, a root claim; nothing half-written", async () => {
    const a = await specialist();
    const api = h.kernel.plugin<KnowledgeApi>("knowledge")!;
    expect(await refused(a.client, "claim_files", { paths: ["src/ok.ts", "../elsewhere/x.ts"] })).toMatch(/Claimed path "\.\.\/elsewhere\/x\.ts" is outside your workdir .*work/u);
    expect(await refused(a.client, "claim_files", { paths: ["/etc/passwd"] })).toContain(`Claimed path "/etc/passwd" is outside your workdir`);
    // A symlink inside the workdir that leads out is outside too.
    await mkdir(path.join(h.dir, "outside"), { recursive: true });
    await symlink(path.join(h.dir, "outside"), path.join(h.workDir, "link-out")).catch(() => undefined);
    expect(await refused(a.client, "claim_files", { paths: ["link-out/file.ts"] })).toContain(`Claimed path "link-out/file.ts" is outside your workdir`);
    expect(await refused(a.client, "claim_files", { paths: ["src/{a,b}.ts"] })).toContain("({} or [])");
    expect(await refused(a.client, "claim_files", { paths: [] })).toContain("claim_files takes 1 to 100 paths, got 0");
    // None of the refused claims left anything: the valid path before the bad one was not claimed.
    expect((await api.claims()).flatMap((d) => d.claims).filter((c) => c.instanceId === a.id)).toEqual([]);
    const big = "x".repeat(16 * 1024 + 1);
    expect(await refused(a.client, "knowledge_record", { key: "huge", value: big })).toContain(`Knowledge value of "huge" is 16385 bytes, over the limit of 16384 bytes`);
    expect(await refused(a.client, "knowledge_record", { key: "t", value: "v", tags: ["ok", "not ok"] })).toContain(`"not ok" is not one`);
    expect(await refused(a.client, "knowledge_record", { key: "", value: "v" })).toContain("must be 1 to 200 characters");
    expect((await api.query(undefined, { key: "huge" })).length).toBe(0);
    // The root belongs to no hierarchy: it names one to record, and may not claim.
    const root = await rootClient(h.kernel);
    try {
      expect(await refused(root.client, "knowledge_record", { key: "k", value: "v" })).toContain("The root caller belongs to no hierarchy");
      expect(await ok(root.client, "knowledge_record", { key: "from-root", value: "v", hierarchy: a.id })).toMatchObject({ entry: { by: null, hierarchy: a.id.split(".")[0] } });
      expect(await refused(root.client, "claim_files", { paths: ["x"] })).toContain("claim_files is for instances");
    } finally {
      await root.close();
    }
    await h.kernel.terminate(a.id);
  });
});

describe("atomic across processes", () => {
  test("two kernels claiming overlapping paths at once: exactly one wins, every time", async () => {
    const other = await h.startKernel({ watch: "on-demand", config: { plugins: [knowledge()] } });
    const a = await specialist();
    const b = await specialist();
    const mine = h.kernel.plugin<KnowledgeApi>("knowledge")!;
    const theirs = other.plugin<KnowledgeApi>("knowledge")!;
    for (let round = 0; round < 10; round++) {
      const results = await Promise.allSettled([mine.claim(a.id, { paths: [`race/${round}`] }), theirs.claim(b.id, { paths: [`race/${round}/file.ts`] })]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const loser = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(String(loser.reason)).toMatch(/refused: "[^"]+" holds "race\//u);
      await Promise.all([mine.release(a.id), mine.release(b.id)]);
    }
  });

  test("a claim whose holder is gone (no record, ended unseen) is dropped by the next claim that meets it", async () => {
    const a = await specialist();
    const hierarchy = a.id.split(".")[0]!;
    const store = new FileStore(h.stateDir);
    await store.init();
    await store.updateDoc<ClaimsDoc>("knowledge/claims", hierarchy, (doc) => ({
      hierarchy,
      claims: [...(doc?.claims ?? []), { instanceId: `${mgr}.spec-999`, paths: ["ghost.ts"], workDir: h.workDir, at: new Date().toISOString() }],
      waiting: doc?.waiting ?? [],
    }));
    await store.close();
    expect(await ok(a.client, "claim_files", { paths: ["ghost.ts"] })).toMatchObject({ claimed: ["ghost.ts"] });
    const [doc] = await h.kernel.plugin<KnowledgeApi>("knowledge")!.claims(hierarchy);
    expect(doc!.claims.map((c) => c.instanceId)).toEqual([a.id]);
    await h.kernel.terminate(a.id);
  });

  test("a claim made while an instance starts ends when its spawn fails (spawnFailed)", async () => {
    // Claims for the starting instance (as an agent might at startup), then fails its start.
    const failing = definePlugin({
      name: "fails-start",
      setup(ctx) {
        ctx.hooks.awaitReady.tapPromise(async ({ instance }) => {
          if (instance.name !== "doomed") return;
          await ctx.kernel.plugin<KnowledgeApi>("knowledge")!.claim(instance.id, { paths: ["boot.lock"] });
          throw new Error("refused on purpose");
        });
      },
    });
    const other = await h.startKernel({ watch: "on-demand", config: { plugins: [knowledge(), failing()] } });
    await expect(other.spawn({ role: "specialist", workDir: h.workDir, parentId: mgr, name: "doomed" })).rejects.toThrow(/refused on purpose/u);
    const claims = (await other.plugin<KnowledgeApi>("knowledge")!.claims()).flatMap((d) => d.claims);
    expect(claims.flatMap((c) => c.paths)).not.toContain("boot.lock");
  });
});
