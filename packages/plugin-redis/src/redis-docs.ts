/**
 * The Redis store's documents (StateStore.getDoc/updateDoc/listDocs), shared
 * by every process and node on the URL and prefix:
 *
 *   doc:<collection>:<key>   hash: `json` (the value) and `v` (its version)
 *   docs:<collection>        set of the collection's keys
 *   doc-version              counter behind every version
 *
 * An update is optimistic: read value and version, run the updater, write
 * with a compare-and-set on the version (scripts.UPDATE_DOC), and run the
 * updater again on the newer value when another writer came first. Neither
 * ':' nor '@' can be in a collection or key, so the names above and the
 * change message `d:<collection>:<key>` split unambiguously at the last ':'.
 */
import { assertCollection, assertDocKey, byKey, decodeDoc, encodeDoc, type StoreChange, type StoredDoc } from "@tmux-claude/core";
import type { RedisStore } from "./redis-store.js";
import * as scripts from "./scripts.js";

/** The change a message of the changes channel (without its `d:`) stands for. */
export function docChange(message: string): StoreChange {
  const at = message.lastIndexOf(":");
  return { kind: "doc", collection: message.slice(0, at), key: message.slice(at + 1) };
}

export class RedisDocs {
  constructor(private readonly store: RedisStore) {}

  async get(collection: string, key: string): Promise<unknown> {
    assertCollection(collection);
    assertDocKey(collection, key);
    const json = await this.store.command(`getDoc("${collection}/${key}")`, (client) => client.hget(this.docKey(collection, key), "json"));
    return json === null ? undefined : decodeDoc(collection, key, json, this.where);
  }

  async update<T>(collection: string, key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    assertCollection(collection);
    assertDocKey(collection, key);
    const operation = `updateDoc("${collection}/${key}")`;
    const docKey = this.docKey(collection, key);
    const keys = [docKey, this.store.key("docs", collection), this.store.key("doc-version"), this.store.key("changes")];
    for (;;) {
      const [version, json] = await this.store.command(operation, (client) => client.hmget(docKey, "v", "json"));
      const current = json === null || json === undefined ? undefined : (decodeDoc(collection, key, json, this.where) as T);
      const next = updater(current);
      if (next === undefined && current === undefined) return undefined;
      const text = next === undefined ? "" : encodeDoc(collection, key, next);
      // Unchanged: no write, and no change to report.
      if (text === json) return JSON.parse(text) as T;
      const args = [version ?? "", next === undefined ? "delete" : "set", text, key, `d:${collection}:${key}`];
      if ((await this.store.eval(operation, scripts.UPDATE_DOC, keys, args)) === 1) return next === undefined ? undefined : (JSON.parse(text) as T);
    }
  }

  /** updateDoc's script with no version to compare (and the same change message): one round trip. */
  async put(collection: string, key: string, value: unknown): Promise<void> {
    assertCollection(collection);
    assertDocKey(collection, key);
    const keys = [this.docKey(collection, key), this.store.key("docs", collection), this.store.key("doc-version"), this.store.key("changes")];
    await this.store.eval(`putDoc("${collection}/${key}")`, scripts.UPDATE_DOC, keys, ["*", "set", encodeDoc(collection, key, value), key, `d:${collection}:${key}`]);
  }

  async list(collection: string): Promise<StoredDoc[]> {
    assertCollection(collection);
    const values = await this.store.command(`listDocs("${collection}")`, async (client) => {
      const keys = await client.smembers(this.store.key("docs", collection));
      if (keys.length === 0) return [];
      const replies = (await client.pipeline(keys.map((key) => ["hget", this.docKey(collection, key), "json"])).exec()) ?? [];
      return keys.map((key, index) => {
        const [error, json] = replies[index] ?? [null, null];
        if (error) throw error;
        return { key, json: json as string | null };
      });
    });
    // A document deleted between SMEMBERS and HGET reads as null: it is gone, so it is not listed.
    return values.flatMap(({ key, json }) => (json === null ? [] : [{ key, value: decodeDoc(collection, key, json, this.where) }])).sort(byKey);
  }

  private docKey(collection: string, key: string): string {
    return this.store.key("doc", collection, key);
  }

  private get where(): string {
    return `the Redis store at ${this.store.url} (prefix "${this.store.prefix}")`;
  }
}
