/**
 * The embedded state store: plain files under one directory, safe to share
 * between processes on one machine.
 *
 *   instances/<id>.json                  one record per file, replaced atomically
 *   ids/<id>                             reservation markers, never deleted
 *   queue/, claims/                      queued messages and their claims (see file-queue.ts)
 *   docs/                                documents (see file-docs.ts)
 *   locks/                               named locks under leases (see lock.ts)
 *
 * Every file is written under a temporary name ending in `.tmp` and renamed
 * into place, so a reader (or a process killed mid-write) never sees half a
 * file. Data is not fsync'ed: a killed process loses nothing the kernel has
 * accepted; only a power cut can lose the last writes.
 */
import { type FSWatcher, mkdirSync, promises as fs, watch as watchDir } from "node:fs";
import path from "node:path";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { fileStamp, listDir, readJson, removeStaleTmp, storeFailed, unlinkIfExists, writeAtomic } from "./file-io.js";
import { FileDocs, docFileChange } from "./file-docs.js";
import { CLAIM_SUFFIX, FileQueue, nextSeq } from "./file-queue.js";
import { jsonName, queueFileInstance, watchDirs } from "./file-watch.js";
import { cleanLockDir, withFileLock } from "./lock.js";
import { lockRemovalsSettled } from "./lock-dir.js";
import { assertId, assertIdPrefix } from "./ids.js";
import { errorCode } from "./safe-name.js";
import type { InstanceRecord, QueuedMessage } from "./types.js";
import type { ClaimOptions, ClaimOutcome, Lease, LockOptions, QueueClaim, StateStore, StoreChange, StoredDoc, StoreWatch } from "./store-contract.js";

/** Temporary files older than this belong to a process that died mid-write. */
const STALE_TMP_MS = 60_000;

export class FileStore implements StateStore {
  readonly dir: string;
  private readonly instancesDir: string;
  private readonly idsDir: string;
  private readonly queueDir: string;
  private readonly claimsDir: string;
  private readonly locksDir: string;
  private readonly docsDir: string;
  private readonly queues: FileQueue;
  private readonly docs: FileDocs;
  private layout: Promise<void> | undefined;
  private layoutDone = false;
  private readonly watches = new Set<StoreWatch>();
  /**
   * Parsed records by file name. inotify tells us when a file changes, so
   * `list` and `get` need no reads while nothing changed; `update` always
   * reads the file itself, under the record's lock.
   */
  private readonly cache = new Map<string, { record: InstanceRecord; stamp: string }>();
  /** Bumped on every change of a file, so a read that raced a change is not cached. */
  private readonly generations = new Map<string, number>();
  private cacheWatcher: FSWatcher | undefined;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.instancesDir = path.join(this.dir, "instances");
    this.idsDir = path.join(this.dir, "ids");
    this.queueDir = path.join(this.dir, "queue");
    this.claimsDir = path.join(this.dir, "claims");
    this.locksDir = path.join(this.dir, "locks");
    this.docsDir = path.join(this.dir, "docs");
    this.queues = new FileQueue(this.queueDir, this.claimsDir);
    this.docs = new FileDocs(this.docsDir, (key, fn) => this.withLock(key, fn));
  }

  private get dirs(): string[] {
    return [this.instancesDir, this.idsDir, this.queueDir, this.claimsDir, this.locksDir, this.docsDir];
  }

  async init(): Promise<void> {
    await this.ready();
    await Promise.all([
      removeStaleTmp(this.instancesDir, STALE_TMP_MS),
      removeStaleTmp(this.queueDir, STALE_TMP_MS),
      removeStaleTmp(this.docsDir, STALE_TMP_MS),
      cleanLockDir(this.claimsDir, STALE_TMP_MS),
      cleanLockDir(this.locksDir, STALE_TMP_MS),
    ]);
  }

  async close(): Promise<void> {
    for (const watch of [...this.watches]) watch.stop();
    this.cacheWatcher?.close();
    this.cacheWatcher = undefined;
    this.cache.clear();
    await this.queues.close();
    await lockRemovalsSettled();
  }

  // -------------------------------------------------------------------------
  // ids

  async reserveId(parentId: string | null, prefix: string): Promise<string> {
    if (parentId !== null) assertId(parentId, "Parent id");
    assertIdPrefix(prefix);
    await this.ready();
    const base = parentId === null ? prefix : `${parentId}.${prefix}`;
    let n = (await this.highestReserved(base)) + 1;
    for (;;) {
      const id = `${base}-${n}`;
      assertId(id, "Reserved id");
      const marker = path.join(this.idsDir, id);
      try {
        const handle = await fs.open(marker, "wx", 0o600);
        await handle.close();
        return id;
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw storeFailed("reserve id at", marker, error);
        n += 1;
      }
    }
  }

  private async highestReserved(base: string): Promise<number> {
    const start = `${base}-`;
    let highest = 0;
    for (const name of await listDir(this.idsDir, "reserved ids")) {
      if (!name.startsWith(start)) continue;
      const rest = name.slice(start.length);
      if (!/^[1-9]\d*$/u.test(rest)) continue;
      highest = Math.max(highest, Number(rest));
    }
    return highest;
  }

  // -------------------------------------------------------------------------
  // records

  async get(id: string): Promise<InstanceRecord | undefined> {
    assertId(id, "Instance id");
    await this.ready();
    return this.cachedRecord(`${id}.json`, { verify: true });
  }

  async list(): Promise<InstanceRecord[]> {
    await this.ready();
    const names = await listDir(this.instancesDir, "instance records");
    const records = await Promise.all(names.filter((name) => name.endsWith(".json")).map((name) => this.cachedRecord(name)));
    return records
      .filter((record): record is InstanceRecord => record !== undefined)
      .sort((a, b) => compare(a.createdAt, b.createdAt) || compare(a.id, b.id));
  }

  async put(record: InstanceRecord): Promise<void> {
    assertId(record?.id, "Instance id");
    await this.ready();
    await this.withLock(recordLockKey(record.id), async () => {
      await writeAtomic(this.recordPath(record.id), record);
      await this.remember(`${record.id}.json`, record);
    });
  }

  async update(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<InstanceRecord | undefined> {
    assertId(id, "Instance id");
    await this.ready();
    const file = this.recordPath(id);
    return this.withLock(recordLockKey(id), async () => {
      const current = await this.readRecord(file);
      if (current === undefined) return undefined;
      const next = updater(current);
      if (next?.id !== id) {
        throw new TmuxClaudeError(
          ErrorCodes.INVALID_ARGUMENT,
          `The updater for instance "${id}" returned a record with id ${JSON.stringify(next?.id)}; an update cannot change the id. Return the record with its id unchanged.`,
        );
      }
      await writeAtomic(file, next);
      await this.remember(`${id}.json`, next);
      return next;
    });
  }

  async delete(id: string): Promise<void> {
    assertId(id, "Instance id");
    await this.ready();
    await this.withLock(recordLockKey(id), async () => {
      await unlinkIfExists(this.recordPath(id));
      this.forget(`${id}.json`);
      await this.queues.removeAll(id);
    });
  }

  /**
   * A record by file name, from the cache while its file has not changed.
   * `verify` also compares the file's identity (a write replaces the inode),
   * closing the moment before inotify reports another process's write: `get`
   * decides who an MCP caller is and whether it still exists.
   */
  private async cachedRecord(name: string, options: { verify?: boolean } = {}): Promise<InstanceRecord | undefined> {
    this.watchForCache();
    const file = path.join(this.instancesDir, name);
    let stamp: string | undefined;
    if (options.verify) {
      stamp = await fileStamp(file);
      if (stamp === undefined) {
        this.forget(name);
        return undefined;
      }
    }
    const hit = this.cache.get(name);
    if (hit && (stamp === undefined || hit.stamp === stamp)) return structuredClone(hit.record);
    const generation = this.generations.get(name) ?? 0;
    stamp ??= await fileStamp(file);
    const record = await this.readRecord(file);
    if (record && stamp && this.cacheWatcher && (this.generations.get(name) ?? 0) === generation) this.cache.set(name, { record, stamp });
    return record && structuredClone(record);
  }

  private async remember(name: string, record: InstanceRecord): Promise<void> {
    this.forget(name);
    const stamp = await fileStamp(path.join(this.instancesDir, name));
    if (this.cacheWatcher && stamp) this.cache.set(name, { record: structuredClone(record), stamp });
  }

  private forget(name: string): void {
    this.cache.delete(name);
    this.generations.set(name, (this.generations.get(name) ?? 0) + 1);
  }

  /** Without a working watcher nothing is cached: every read goes to the file. */
  private watchForCache(): void {
    if (this.cacheWatcher) return;
    try {
      this.cacheWatcher = watchDir(this.instancesDir, { persistent: false }, (_event, filename) => {
        if (typeof filename === "string") this.forget(filename);
        else this.dropCache();
      });
      this.cacheWatcher.on("error", () => this.dropCache());
    } catch {
      this.cacheWatcher = undefined;
    }
  }

  private dropCache(): void {
    this.cacheWatcher?.close();
    this.cacheWatcher = undefined;
    this.cache.clear();
    for (const name of this.generations.keys()) this.forget(name);
  }

  private recordPath(id: string): string {
    return path.join(this.instancesDir, `${id}.json`);
  }

  private async readRecord(file: string): Promise<InstanceRecord | undefined> {
    const value = await readJson(file, "instance record");
    if (value === undefined) return undefined;
    if (typeof value !== "object" || value === null || typeof (value as { id?: unknown }).id !== "string") {
      throw new TmuxClaudeError(
        ErrorCodes.STORE_FAILED,
        `Instance record ${file} is not an object with a string "id". The store never writes such a file; something else changed it. Fix or remove the file.`,
        { path: file },
      );
    }
    return value as InstanceRecord;
  }

  // -------------------------------------------------------------------------
  // queue

  async enqueue(message: QueuedMessage): Promise<void> {
    // Taken before any await, so calls made in a row keep their order.
    const seq = nextSeq();
    assertId(message?.instanceId, "Queue instance id");
    if (typeof message.id !== "string" || message.id.length === 0) {
      throw new TmuxClaudeError(
        ErrorCodes.INVALID_ARGUMENT,
        `A queued message for "${message.instanceId}" needs a non-empty string id, got ${JSON.stringify(message.id)}.`,
      );
    }
    await this.ready();
    await this.queues.enqueue(message, seq);
  }

  async queue(instanceId: string): Promise<QueuedMessage[]> {
    assertId(instanceId, "Queue instance id");
    await this.ready();
    return this.queues.queue(instanceId);
  }

  async dequeue(instanceId: string, messageId: string): Promise<boolean> {
    assertId(instanceId, "Queue instance id");
    await this.ready();
    return this.queues.dequeue(instanceId, messageId);
  }

  async claim(instanceId: string, options?: ClaimOptions): Promise<ClaimOutcome> {
    assertId(instanceId, "Queue instance id");
    await this.ready();
    return this.queues.claim(instanceId, options);
  }

  ack(claim: QueueClaim): Promise<boolean> {
    return this.queues.ack(claim);
  }

  release(claim: QueueClaim): Promise<void> {
    return this.queues.release(claim);
  }

  // -------------------------------------------------------------------------
  // documents

  async getDoc(collection: string, key: string): Promise<unknown> {
    await this.ready();
    return this.docs.get(collection, key);
  }

  async updateDoc<T = unknown>(collection: string, key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    await this.ready();
    return this.docs.update(collection, key, updater);
  }

  async putDoc(collection: string, key: string, value: unknown): Promise<void> {
    await this.ready();
    return this.docs.put(collection, key, value);
  }

  async listDocs(collection: string): Promise<StoredDoc[]> {
    await this.ready();
    return this.docs.list(collection);
  }

  // -------------------------------------------------------------------------
  // locks and changes

  async withLock<T>(key: string, fn: (lease: Lease) => Promise<T>, options?: LockOptions): Promise<T> {
    await this.ready();
    return withFileLock(this.locksDir, key, fn, options);
  }

  watch(listener: (change: StoreChange) => void): StoreWatch {
    try {
      this.readySync();
    } catch (error) {
      return { ready: Promise.reject(error), stop: () => undefined };
    }
    const instance = (name: string): StoreChange | undefined => {
      const id = jsonName(name);
      return id === undefined ? undefined : { kind: "instance", id };
    };
    const queue = (instanceId: string | undefined): StoreChange | undefined => (instanceId === undefined ? undefined : { kind: "queue", instanceId });
    const watch: StoreWatch = watchDirs(
      [
        [this.instancesDir, instance],
        [this.queueDir, (name) => queue(queueFileInstance(name))],
        // A claim that ends lets the next claimer in.
        [this.claimsDir, (name) => queue(name.endsWith(CLAIM_SUFFIX) ? name.slice(0, -CLAIM_SUFFIX.length) : undefined)],
        [this.docsDir, docFileChange],
      ],
      listener,
      () => this.watches.delete(watch),
    );
    this.watches.add(watch);
    return watch;
  }

  // -------------------------------------------------------------------------
  // directories

  private ready(): Promise<void> {
    this.layout ??= Promise.all(
      this.dirs.map((dir) =>
        fs.mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
          throw storeFailed("create state directory", dir, error);
        }),
      ),
    ).then(
      () => {
        this.layoutDone = true;
      },
      (error: unknown) => {
        this.layout = undefined; // let a later call try again
        throw error;
      },
    );
    return this.layout;
  }

  /** watch() sets its watches up before it returns, so it creates the directories it watches itself. */
  private readySync(): void {
    if (this.layoutDone) return;
    for (const dir of this.dirs) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (error) {
        throw storeFailed("create state directory", dir, error);
      }
    }
  }
}

/** The lock that put, update and delete of one record take (withLock with this key nests inside them). */
export function recordLockKey(id: string): string {
  return `instance:${id}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
