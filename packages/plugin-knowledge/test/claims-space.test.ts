// Claims in one project space per hierarchy, leases and cancelled waits, deadlocks,
// and claims racing their instance's end (echo agents on a private socket).
import { cp, mkdir, mkdtemp } from "node:fs/promises";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { definePlugin, FileStore, type KernelApi, type PluginData } from "@tmux-claude/core";
import { mcp, type McpApi } from "@tmux-claude/mcp";
import { createHarness, freePort, type Harness } from "@tmux-claude/testkit";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Claims } from "../src/claims.js";
import { knowledge, type ClaimsDoc, type KnowledgeApi } from "../src/index.js";
import { httpClient, tokenOf } from "../../mcp/test/helpers.js";

let h: Harness;
let url: string;
let exec: string;
let mgr: string;
let api: KnowledgeApi;
let copies: string;
const clients: Client[] = [];

// What plugin-git's worktree isolation does, without git: a spawn asked for <workDir>/moved/... runs in a copy elsewhere (the kernel records workDirOrigin).
const movesWorkDir = definePlugin({
  name: "moves-workdir",
  setup(ctx) {
    ctx.hooks.beforeSpawn.tapPromise(async (plan) => {
      if (path.basename(plan.workDir) !== "moved") return plan;
      const workDir = path.join(copies, plan.id);
      await cp(plan.workDir, workDir, { recursive: true });
      return { ...plan, workDir };
    });
  },
});

// A claims collection of its own, for Claims over a kernel whose reads fail.
let docs!: PluginData<ClaimsDoc>;
const claimsDocs = definePlugin({
  name: "claims-docs",
  setup(ctx) {
    docs = ctx.data<ClaimsDoc>("claims");
  },
});

beforeAll(async () => {
  const port = await freePort();
  h = await createHarness(
    { limits: { maxInstances: 40, spawnTimeout: 10_000, sendTimeout: 5_000 }, plugins: [mcp({ port }), knowledge({ claimWaitMs: 20_000 }), movesWorkDir(), claimsDocs()] },
    { label: "kspace", watch: "all" },
  );
  copies = await mkdtemp(path.join(h.stateDir, "copies-"));
  url = (await h.kernel.plugin<McpApi>("mcp")!.listen()).url;
  exec = (await h.kernel.spawn({ role: "executive", workDir: h.workDir })).instance.id;
  mgr = (await h.kernel.spawn({ role: "manager", workDir: h.workDir, parentId: exec })).instance.id;
  api = h.kernel.plugin<KnowledgeApi>("knowledge")!;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.close();
});

const spec = async (workDir: string = h.workDir) => (await h.kernel.spawn({ role: "specialist", workDir, parentId: mgr })).instance.id;
const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: Error) => e);
/** Resolves once the hierarchy's claims document satisfies `pred` (watching store changes, checked once after the watch is ready). */
async function docUntil(pred: (doc: ClaimsDoc | undefined) => boolean): Promise<void> {
  let resolve!: () => void;
  const met = new Promise<void>((r) => (resolve = r));
  const check = () => void api.claims(exec).then(([doc]) => pred(doc) && resolve(), () => undefined);
  const watch = h.kernel.watch((change) => change.kind === "doc" && check());
  try {
    await watch.ready;
    check();
    await met;
  } finally {
    watch.stop();
  }
}
const holders = async () => (await api.claims(exec)).flatMap((d) => d.claims.map((c) => `${c.instanceId}:${c.paths.join(",")}`));

test("nested workdirs: one file claimed relative to two workdirs is one claim; the refusal names it as the claimant sees it", async () => {
  await mkdir(path.join(h.workDir, "pkg"), { recursive: true });
  const a = await spec();
  const b = await spec(path.join(h.workDir, "pkg"));
  await api.claim(a, { paths: ["pkg/x.ts"] });
  const refused = await failure(api.claim(b, { paths: ["x.ts"] }));
  expect(refused?.message).toContain(`"${a}" holds "x.ts"`);
  await api.release(a);
});

test("the same relative name in two different directories is two files: both granted", async () => {
  await mkdir(path.join(h.workDir, "frontend"), { recursive: true });
  await mkdir(path.join(h.workDir, "backend"), { recursive: true });
  const a = await spec(path.join(h.workDir, "frontend"));
  const b = await spec(path.join(h.workDir, "backend"));
  await api.claim(a, { paths: ["README.md"] });
  expect((await api.claim(b, { paths: ["README.md"] })).claimed).toEqual(["README.md"]);
  // A sibling above both sees the holder's path from its own workdir.
  const c = await spec();
  expect((await failure(api.claim(c, { paths: ["frontend"] })))?.message).toContain(`"${a}" holds "frontend/README.md"`);
  await Promise.all([api.release(a), api.release(b)]);
});

test("an instance moved elsewhere (a worktree) claims in the project space of the directory it was spawned for", async () => {
  await mkdir(path.join(h.workDir, "moved", "src"), { recursive: true });
  const a = await spec();
  const b = await spec(path.join(h.workDir, "moved"));
  const record = await h.kernel.get(b);
  expect(record.workDirOrigin).toBe(path.join(h.workDir, "moved"));
  expect(record.workDir.startsWith(copies)).toBe(true);
  await api.claim(b, { paths: ["src/app.ts"] });
  expect((await failure(api.claim(a, { paths: ["moved/src"] })))?.message).toContain(`"${b}" holds "moved/src/app.ts"`);
  // And the other way round: the moved instance sees a's claim in its own terms.
  await api.release(b);
  await api.claim(a, { paths: ["moved/src/app.ts"] });
  expect((await failure(api.claim(b, { paths: ["src/**"] })))?.message).toContain(`"${a}" holds "src/app.ts"`);
  await api.release(a);
});

test("a waiting request whose lease expired (its waiter died) is never granted: dropped at the next update", async () => {
  const a = await spec();
  const b = await spec();
  const c = await spec();
  await api.claim(a, { paths: ["lib"] });
  // What a serve killed during b's claim_files {wait: true} leaves behind, after its deadline.
  const store = new FileStore(h.stateDir);
  await store.init();
  const past = new Date(Date.now() - 1000).toISOString();
  await store.updateDoc<ClaimsDoc>("knowledge/claims", exec, (doc) => ({ ...doc!, waiting: [...doc!.waiting, { instanceId: b, paths: ["lib/x.ts"], workDir: h.workDir, at: past, request: "dead-request", expiresAt: past }] }));
  await store.close();
  await api.release(a);
  expect((await api.claim(c, { paths: ["lib/x.ts"] })).claimed).toEqual(["lib/x.ts"]);
  const [doc] = await api.claims(exec);
  expect(doc!.waiting).toEqual([]);
  expect(doc!.claims.some((x) => x.instanceId === b)).toBe(false);
  await api.release(c);
});

test("a claim_files wait the agent cancels is withdrawn: a later release does not grant it", async () => {
  const mk = async () => {
    const id = await spec();
    const client = await httpClient(url, await tokenOf(h.kernel, id));
    clients.push(client);
    return { id, client };
  };
  const a = await mk();
  const b = await mk();
  await a.client.callTool({ name: "claim_files", arguments: { paths: ["cancel"] } });
  const abort = new AbortController();
  const waiting = b.client.callTool({ name: "claim_files", arguments: { paths: ["cancel/x.ts"], wait: true, timeoutMs: 60_000 } }, undefined, { signal: abort.signal }).catch((e: Error) => e);
  await docUntil((doc) => doc?.waiting.some((w) => w.instanceId === b.id) ?? false);
  const withdrawn = docUntil((doc) => !(doc?.waiting.some((w) => w.instanceId === b.id) ?? false));
  abort.abort();
  expect(await waiting).toBeInstanceOf(Error);
  await withdrawn;
  await a.client.callTool({ name: "release_files", arguments: {} });
  expect((await holders()).some((x) => x.startsWith(`${b.id}:`))).toBe(false);
});

test("a wait that would close a cycle (A waits for B, B for A) is refused at once naming the holder", async () => {
  const a = await spec();
  const b = await spec();
  await api.claim(a, { paths: ["dl/x.ts"] });
  await api.claim(b, { paths: ["dl/y.ts"] });
  const aWaits = api.claim(a, { paths: ["dl/y.ts"], wait: true, timeoutMs: 20_000 });
  await docUntil((doc) => doc?.waiting.some((w) => w.instanceId === a) ?? false);
  const started = Date.now();
  const refused = await failure(api.claim(b, { paths: ["dl/x.ts"], wait: true, timeoutMs: 20_000 }));
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(refused?.message).toMatch(new RegExp(`refused without waiting: "${a.replace(/\./gu, "\\.")}" holds "dl/x.ts" and is itself waiting`, "u"));
  await api.release(b);
  expect((await aWaits).claimed).toEqual(["dl/y.ts"]);
  await api.release(a);
});

test("a claim racing its instance's end is undone; release of an unknown id drops what it still holds", async () => {
  const a = await spec();
  // Terminated while its claim is being written: whichever comes first, the claim does not outlive it (not deterministic; the release below is).
  const claiming = failure(api.claim(a, { paths: ["race.ts"] }));
  await h.kernel.terminate(a);
  await claiming;
  expect((await holders()).some((x) => x.startsWith(`${a}:`))).toBe(false);
  // A leftover of an instance with no record (what a lost race left before the fix): release drops it.
  const store = new FileStore(h.stateDir);
  await store.init();
  await store.updateDoc<ClaimsDoc>("knowledge/claims", exec, (doc) => ({ ...doc!, claims: [...doc!.claims, { instanceId: a, paths: ["left.ts"], workDir: h.workDir, at: new Date().toISOString() }] }));
  await store.close();
  expect(await api.release(a)).toEqual({ hierarchy: exec, released: ["left.ts"] });
  expect((await holders()).some((x) => x.startsWith(`${a}:`))).toBe(false);
  await expect(api.release(`${mgr}.spec-998`)).rejects.toThrow(/does not exist and holds no claims/u);
});

test("only TC_INSTANCE_NOT_FOUND counts as gone: another store failure fails the claim, never drops a live holder or picks another hierarchy", async () => {
  const a = await spec();
  const b = await spec();
  const flaky = (failing: string): KernelApi =>
    new Proxy(h.kernel, {
      get: (target, key) =>
        key === "get"
          ? (id: string) => (id === failing ? Promise.reject(Object.assign(new Error("store reconnecting"), { code: "TC_STORE_UNAVAILABLE" })) : target.get(id))
          : Reflect.get(target, key, target),
    }) as KernelApi;
  const closing = new AbortController().signal;
  await new Claims(h.kernel, docs, 1_000, closing).claim(b, { paths: ["t6/x.ts"] });
  // The holder's record cannot be read just now: not a reason to take its files.
  await expect(new Claims(flaky(b), docs, 1_000, closing).claim(a, { paths: ["t6/x.ts"] })).rejects.toThrow(/store reconnecting/u);
  // The parent's record cannot be read: the claim fails rather than landing in a sub-hierarchy ("<exec>.<mgr>").
  await expect(new Claims(flaky(mgr), docs, 1_000, closing).claim(a, { paths: ["t6/y.ts"] })).rejects.toThrow(/store reconnecting/u);
  expect((await docs.list()).map((d) => d.key)).toEqual([exec]);
  expect((await docs.get(exec))!.claims.map((c) => c.instanceId)).toEqual([b]);
});
