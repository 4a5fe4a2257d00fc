/**
 * `ctx.data(collection)`: a plugin's documents in the store, for what is not
 * about one instance (a workflow run, a budget). The stored collection is
 * `<plugin name>/<collection>`, so two plugins never see each other's data;
 * every process (and, with a shared store, every node) sees the same.
 */
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { assertCollection, MAX_COLLECTION_LENGTH } from "../store/docs.js";
import type { StateStore, StoreWatch } from "../store/store-contract.js";

/** One collection of a plugin's documents (see PluginContext.data). */
export interface PluginData<T = unknown> {
  /** The collection as stored: `<plugin name>/<collection>`. */
  readonly collection: string;
  get(key: string): Promise<T | undefined>;
  /**
   * Atomic read-modify-write across processes: `updater` gets the current
   * value (undefined: none) and returns the next, or undefined to delete it.
   * It may run more than once (keep it pure). Resolves to what is stored.
   * Returning the value unchanged writes nothing and reports no change.
   */
  update(key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined>;
  /** Every document of the collection, ordered by key. */
  list(): Promise<{ key: string; value: T }[]>;
  /** True when this call removed the document. */
  delete(key: string): Promise<boolean>;
  /**
   * Be told the key of each document written or deleted in this collection,
   * by any process. Await `ready` before reading, so nothing falls in between;
   * changes may coalesce or repeat. The listener must not throw.
   */
  watch(listener: (key: string) => void): StoreWatch;
}

/** A plugin's name is the first segment of its collections: letters, digits, '_' and '-'. */
const PLUGIN_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/u;

/** `store()` gives the opened store, or throws when the kernel is not (or no longer) running. */
export function pluginData<T>(plugin: string, collection: string, store: () => StateStore): PluginData<T> {
  if (!PLUGIN_SEGMENT.test(plugin)) {
    throw new TmuxClaudeError(
      ErrorCodes.PLUGIN_INVALID,
      `Plugin "${plugin}" cannot keep data (ctx.data): its name is the first part of its collections' names and must be letters, digits, '_' or '-' (not starting with '-'). Rename the plugin, e.g. "${plugin.replace(/[^A-Za-z0-9_-]+/gu, "-").replace(/^-+/u, "") || "my-plugin"}".`,
      { plugin },
    );
  }
  assertCollection(collection);
  const full = `${plugin}/${collection}`;
  if (full.length > MAX_COLLECTION_LENGTH) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Plugin "${plugin}" asked for collection "${collection}", stored as "${full}", which is longer than ${MAX_COLLECTION_LENGTH} characters. Use a shorter collection name.`,
      { plugin, collection },
    );
  }
  return {
    collection: full,
    get: async (key) => (await store().getDoc(full, key)) as T | undefined,
    update: (key, updater) => store().updateDoc<T>(full, key, updater),
    list: async () => (await store().listDocs(full)) as { key: string; value: T }[],
    delete: async (key) => {
      let removed = false;
      // The updater's last run is the one that counted.
      await store().updateDoc<T>(full, key, (current) => {
        removed = current !== undefined;
        return undefined;
      });
      return removed;
    },
    // Every store reports a listener's throw as a warning (guardListener), so none is caught here.
    watch: (listener) =>
      store().watch((change) => {
        if (change.kind === "doc" && change.collection === full) listener(change.key);
      }),
  };
}
