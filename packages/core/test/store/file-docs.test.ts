// What the store contract cannot see of FileStore's documents: where they are
// on disk, with which modes, what init cleans, and a file someone else broke.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { ErrorCodes } from "../../src/errors.js";
import { FileStore } from "../../src/store/file-store.js";

let root: string;
const stores: FileStore[] = [];

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "tc-file-docs-"));
});
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function open(name: string): Promise<FileStore> {
  const store = new FileStore(path.join(root, name));
  stores.push(store);
  await store.init();
  return store;
}

it("keeps one 0600 file per document, named by collection and key, in a 0700 docs/ directory", async () => {
  const store = await open("layout");
  await store.updateDoc("workflows/runs", "run-1.a", () => ({ state: "running" }));
  const docs = path.join(store.dir, "docs");
  expect(((await fs.stat(docs)).mode & 0o777).toString(8)).toBe("700");
  expect(await fs.readdir(docs)).toEqual(["workflows+runs@run-1.a.json"]);
  const file = path.join(docs, "workflows+runs@run-1.a.json");
  expect(((await fs.stat(file)).mode & 0o777).toString(8)).toBe("600");
  expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual({ state: "running" });
  await store.updateDoc("workflows/runs", "run-1.a", () => undefined);
  expect(await fs.readdir(docs)).toEqual([]);
});

it("removes a document's stale temporary file at init and ignores a fresh one", async () => {
  const store = await open("stale");
  const docs = path.join(store.dir, "docs");
  const stale = path.join(docs, "p+runs@run-1.json.123.abcdef.tmp");
  const fresh = path.join(docs, "p+runs@run-2.json.123.abcdef.tmp");
  await fs.writeFile(stale, "{");
  await fs.writeFile(fresh, "{");
  const old = new Date(Date.now() - 120_000);
  await fs.utimes(stale, old, old);
  await open("stale");
  expect((await fs.readdir(docs)).sort()).toEqual([path.basename(fresh)]);
  expect(await store.listDocs("p/runs")).toEqual([]);
});

it("names a document file that is not JSON, with the fix", async () => {
  const store = await open("broken");
  await store.updateDoc("p/runs", "run-1", () => 1);
  const file = path.join(store.dir, "docs", "p+runs@run-1.json");
  await fs.writeFile(file, "{ not json");
  for (const read of [() => store.getDoc("p/runs", "run-1"), () => store.listDocs("p/runs"), () => store.updateDoc("p/runs", "run-1", () => 2)]) {
    await expect(read()).rejects.toMatchObject({
      code: ErrorCodes.STORE_FAILED,
      message: expect.stringMatching(/document "p\/runs\/run-1" .*run-1\.json is not valid JSON.*fix or remove the file/u),
    });
  }
});
