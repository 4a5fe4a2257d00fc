/**
 * The embedded store's documents (StateStore.getDoc/updateDoc/listDocs).
 *
 *   docs/<collection, '/' as '+'>@<key>.json   one file per document (flat: one watch sees all)
 *
 * Neither '+' nor '@' can be in a collection or a key (docs.ts), so a file
 * name says both. A document is written whole under a temporary name and
 * renamed into place, and an update reads and writes it holding the
 * document's lock, which every process of the machine shares.
 */
import path from "node:path";
import { listDir, readJson, unlinkIfExists, writeTextAtomic } from "./file-io.js";
import { assertCollection, assertDocKey, byKey, encodeDoc } from "./docs.js";
import type { StoreChange, StoredDoc } from "./store-contract.js";

const SUFFIX = ".json";

/** Runs `fn` holding the store's lock `key`. */
export type WithLock = <T>(key: string, fn: () => Promise<T>) => Promise<T>;

function fileStem(collection: string): string {
  return `${collection.replaceAll("/", "+")}@`;
}

/** The change a file name in docs/ stands for (temporary files stand for none). */
export function docFileChange(name: string): StoreChange | undefined {
  const at = name.indexOf("@");
  if (at <= 0 || !name.endsWith(SUFFIX)) return undefined;
  return { kind: "doc", collection: name.slice(0, at).replaceAll("+", "/"), key: name.slice(at + 1, -SUFFIX.length) };
}

export class FileDocs {
  constructor(
    private readonly dir: string,
    private readonly withLock: WithLock,
  ) {}

  async get(collection: string, key: string): Promise<unknown> {
    assertCollection(collection);
    assertDocKey(collection, key);
    return this.read(collection, key);
  }

  async update<T>(collection: string, key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    assertCollection(collection);
    assertDocKey(collection, key);
    const file = this.file(collection, key);
    return this.withLock(`doc:${collection}/${key}`, async () => {
      const current = (await this.read(collection, key)) as T | undefined;
      // Taken before the updater, which may change what it gets. Stored JSON is compact, so it stringifies back the same.
      const before = current === undefined ? undefined : JSON.stringify(current);
      const next = updater(current);
      if (next === undefined) {
        if (current !== undefined) await unlinkIfExists(file);
        return undefined;
      }
      const json = encodeDoc(collection, key, next);
      // Unchanged: no write, and no change to report.
      if (json === before) return JSON.parse(json) as T;
      await writeTextAtomic(file, `${json}\n`);
      // What was stored, not the updater's object: the caller may change that.
      return JSON.parse(json) as T;
    });
  }

  async put(collection: string, key: string, value: unknown): Promise<void> {
    assertCollection(collection);
    assertDocKey(collection, key);
    await writeTextAtomic(this.file(collection, key), `${encodeDoc(collection, key, value)}\n`);
  }

  async list(collection: string): Promise<StoredDoc[]> {
    assertCollection(collection);
    const stem = fileStem(collection);
    const names = (await listDir(this.dir, "documents")).filter((name) => name.startsWith(stem) && name.endsWith(SUFFIX));
    const docs = await Promise.all(
      names.map(async (name): Promise<StoredDoc | undefined> => {
        const key = name.slice(stem.length, -SUFFIX.length);
        // Deleted since the listing: not listed.
        const value = await this.read(collection, key);
        return value === undefined ? undefined : { key, value };
      }),
    );
    return docs.filter((doc): doc is StoredDoc => doc !== undefined).sort(byKey);
  }

  private read(collection: string, key: string): Promise<unknown> {
    return readJson(this.file(collection, key), `document "${collection}/${key}"`);
  }

  private file(collection: string, key: string): string {
    return path.join(this.dir, `${fileStem(collection)}${key}${SUFFIX}`);
  }
}
