/**
 * The embedded state store: plain files under one directory, safe to share
 * between processes on one machine.
 *
 *   instances/<id>.json                  one record per file, replaced atomically
 *   ids/<id>                             reservation markers, never deleted
 *   queue/<instanceId>@<seq>@<msg>.json  one file per queued message (flat: one watch sees all)
 *   locks/                               named mutexes (see lock.ts)
 *
 * Every file is written under a temporary name ending in `.tmp` and renamed
 * into place, so a reader (or a process killed mid-write) never sees half a
 * file. Data is not fsync'ed: a killed process loses nothing the kernel has
 * accepted; only a power cut can lose the last writes.
 */
import { randomBytes } from "node:crypto";
import { type FSWatcher, promises as fs, mkdirSync, watch as watchDir } from "node:fs";
import path from "node:path";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { cleanLockDir, safeName, withFileLock, type LockOptions } from "./lock.js";
import type { InstanceRecord, QueuedMessage, StateStore, StoreChange } from "./types.js";

/** Temporary files older than this belong to a process that died mid-write. */
const STALE_TMP_MS = 60_000;

const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/u;
const PREFIX_PATTERN = /^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*$/u;
/**
 * Keeps every file name under NAME_MAX (255): the longest is a queue file's
 * temporary name, `<id>@<seq 39>@<message id, at most 48>.json.<pid>.<hex>.tmp`.
 */
const MAX_ID_LENGTH = 128;
const MAX_MESSAGE_ID_PART = 48;

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
}

function storeFailed(action: string, file: string, error: unknown): TmuxClaudeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new TmuxClaudeError(
    ErrorCodes.STORE_FAILED,
    `Could not ${action} ${file}: ${reason}. Check that the state directory exists, is writable by this user and the disk is not full.`,
    { path: file },
    { cause: error },
  );
}

function assertId(id: unknown, what: string): asserts id is string {
  if (typeof id !== "string" || !ID_PATTERN.test(id) || id.length > MAX_ID_LENGTH) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `${what} ${JSON.stringify(id)} cannot be stored: an id is 1-${MAX_ID_LENGTH} letters, digits, '.', '_' or '-' and does not start with '.' or '-'. ` +
        `Use an id returned by reserveId().`,
    );
  }
}

// Queue file sequence: sorts FIFO within this process even within one
// millisecond and if the clock steps back; across processes, by time.
let lastSeqMs = 0;
let seqCounter = 0;
function nextSeq(): string {
  lastSeqMs = Math.max(lastSeqMs, Date.now());
  seqCounter += 1;
  return `${String(lastSeqMs).padStart(15, "0")}-${String(seqCounter).padStart(12, "0")}-${String(process.pid).padStart(10, "0")}`;
}

/** A file's identity and version: a write by rename gives a new inode. */
async function fileStamp(file: string): Promise<string | undefined> {
  try {
    const info = await fs.stat(file, { bigint: true });
    return `${info.ino}:${info.mtimeNs}:${info.size}`;
  } catch {
    return undefined;
  }
}

export class FileStore implements StateStore {
  readonly dir: string;
  private readonly instancesDir: string;
  private readonly idsDir: string;
  private readonly queueDir: string;
  private readonly locksDir: string;
  private layout: Promise<void> | undefined;
  private layoutDone = false;
  private readonly stopFns = new Set<() => void>();
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
    this.locksDir = path.join(this.dir, "locks");
  }

  async init(): Promise<void> {
    await this.ready();
    await Promise.all([
      this.removeStaleTmp(this.instancesDir),
      this.removeStaleTmp(this.queueDir),
      cleanLockDir(this.locksDir, STALE_TMP_MS),
    ]);
  }

  async close(): Promise<void> {
    for (const stop of [...this.stopFns]) stop();
    this.cacheWatcher?.close();
    this.cacheWatcher = undefined;
    this.cache.clear();
  }

  // -------------------------------------------------------------------------
  // ids

  async reserveId(parentId: string | null, prefix: string): Promise<string> {
    if (parentId !== null) assertId(parentId, "Parent id");
    if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
      throw new TmuxClaudeError(
        ErrorCodes.INVALID_ARGUMENT,
        `Id prefix ${JSON.stringify(prefix)} is not valid: use letters, digits and '_', optionally joined by '-' (for example "mgr").`,
      );
    }
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
    let names: string[];
    try {
      names = await fs.readdir(this.idsDir);
    } catch (error) {
      throw storeFailed("list reserved ids in", this.idsDir, error);
    }
    const start = `${base}-`;
    let highest = 0;
    for (const name of names) {
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
    let names: string[];
    try {
      names = await fs.readdir(this.instancesDir);
    } catch (error) {
      throw storeFailed("list instance records in", this.instancesDir, error);
    }
    const records = await Promise.all(names.filter((name) => name.endsWith(".json")).map((name) => this.cachedRecord(name)));
    return records
      .filter((record): record is InstanceRecord => record !== undefined)
      .sort((a, b) => compare(a.createdAt, b.createdAt) || compare(a.id, b.id));
  }

  async put(record: InstanceRecord): Promise<void> {
    assertId(record?.id, "Instance id");
    await this.ready();
    await this.withLock(recordLockKey(record.id), async () => {
      await this.writeAtomic(this.recordPath(record.id), record);
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
      await this.writeAtomic(file, next);
      await this.remember(`${id}.json`, next);
      return next;
    });
  }

  async delete(id: string): Promise<void> {
    assertId(id, "Instance id");
    await this.ready();
    await this.withLock(recordLockKey(id), async () => {
      await this.unlinkIfExists(this.recordPath(id));
      this.forget(`${id}.json`);
      const files = await this.queueFiles(id);
      await Promise.all(files.map((name) => this.unlinkIfExists(path.join(this.queueDir, name))));
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
    const value = await this.readJson(file, "instance record");
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
    // Take the sequence number before any await, so calls made in a row keep their order.
    const seq = nextSeq();
    assertId(message?.instanceId, "Queue instance id");
    if (typeof message.id !== "string" || message.id.length === 0) {
      throw new TmuxClaudeError(
        ErrorCodes.INVALID_ARGUMENT,
        `A queued message for "${message.instanceId}" needs a non-empty string id, got ${JSON.stringify(message.id)}.`,
      );
    }
    await this.ready();
    await this.writeAtomic(path.join(this.queueDir, `${message.instanceId}@${seq}@${safeName(message.id, MAX_MESSAGE_ID_PART)}.json`), message);
  }

  async queue(instanceId: string): Promise<QueuedMessage[]> {
    assertId(instanceId, "Queue instance id");
    await this.ready();
    const files = await this.queueFiles(instanceId);
    const messages = await Promise.all(
      files.map((name) => this.readJson(path.join(this.queueDir, name), "queued message") as Promise<QueuedMessage | undefined>),
    );
    return messages.filter((message): message is QueuedMessage => message !== undefined);
  }

  async dequeue(instanceId: string, messageId: string): Promise<boolean> {
    assertId(instanceId, "Queue instance id");
    await this.ready();
    const suffix = `@${safeName(messageId, MAX_MESSAGE_ID_PART)}.json`;
    for (const name of await this.queueFiles(instanceId)) {
      if (!name.endsWith(suffix)) continue;
      // unlink succeeds for exactly one caller: that is the claim.
      if (await this.unlinkIfExists(path.join(this.queueDir, name))) return true;
    }
    return false;
  }

  /** Names of the queue files of one instance, oldest first. */
  private async queueFiles(instanceId: string): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.queueDir);
    } catch (error) {
      throw storeFailed("list the message queue in", this.queueDir, error);
    }
    const start = `${instanceId}@`;
    return names.filter((name) => name.startsWith(start) && name.endsWith(".json")).sort(compare);
  }

  // -------------------------------------------------------------------------
  // locks and changes

  async withLock<T>(key: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
    await this.ready();
    return withFileLock(this.locksDir, key, fn, options);
  }

  watch(listener: (change: StoreChange) => void): () => void {
    this.readySync();
    let stopped = false;
    const deliver = (change: StoreChange): void => {
      if (stopped) return;
      try {
        listener(change);
      } catch (error) {
        process.emitWarning(`A tmux-claude store watch listener threw on ${JSON.stringify(change)}: ${String(error)}`, {
          code: ErrorCodes.STORE_FAILED,
        });
      }
    };
    const watchers: FSWatcher[] = [];
    const open = (dir: string, toChange: (name: string) => StoreChange | undefined): void => {
      let watcher: FSWatcher;
      try {
        // Renames into place arrive as an event for the final name (inotify IN_MOVED_TO).
        watcher = watchDir(dir, { persistent: false }, (_event, filename) => {
          if (typeof filename !== "string" || filename.endsWith(".tmp")) return;
          const change = toChange(filename);
          if (change) deliver(change);
        });
      } catch (error) {
        for (const opened of watchers) opened.close();
        throw storeFailed("watch", dir, error);
      }
      watcher.on("error", (error) => {
        process.emitWarning(`Watching ${dir} for tmux-claude store changes stopped: ${String(error)}`, {
          code: ErrorCodes.STORE_FAILED,
        });
      });
      watchers.push(watcher);
    };
    open(this.instancesDir, (name) => (name.endsWith(".json") ? { kind: "instance", id: name.slice(0, -".json".length) } : undefined));
    open(this.queueDir, (name) => {
      const at = name.indexOf("@");
      return at > 0 && name.endsWith(".json") ? { kind: "queue", instanceId: name.slice(0, at) } : undefined;
    });
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      for (const watcher of watchers) watcher.close();
      this.stopFns.delete(stop);
    };
    this.stopFns.add(stop);
    return stop;
  }

  // -------------------------------------------------------------------------
  // files

  private ready(): Promise<void> {
    this.layout ??= Promise.all(
      [this.instancesDir, this.idsDir, this.queueDir, this.locksDir].map((dir) =>
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

  /** watch() must return synchronously, so it creates the directories it watches itself. */
  private readySync(): void {
    if (this.layoutDone) return;
    for (const dir of [this.instancesDir, this.idsDir, this.queueDir, this.locksDir]) {
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (error) {
        throw storeFailed("create state directory", dir, error);
      }
    }
  }

  private async writeAtomic(file: string, value: unknown): Promise<void> {
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await fs.writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: "wx" });
      await fs.rename(tmp, file);
    } catch (error) {
      await fs.unlink(tmp).catch(() => undefined);
      throw storeFailed("write", file, error);
    }
  }

  /** The parsed file, or undefined when it does not exist. */
  private async readJson(file: string, what: string): Promise<unknown> {
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw storeFailed(`read ${what}`, file, error);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new TmuxClaudeError(
        ErrorCodes.STORE_FAILED,
        `The ${what} ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}). ` +
          `The store writes files atomically, so something else changed it; fix or remove the file.`,
        { path: file },
        { cause: error },
      );
    }
  }

  /** True when this call removed the file. */
  private async unlinkIfExists(file: string): Promise<boolean> {
    try {
      await fs.unlink(file);
      return true;
    } catch (error) {
      if (errorCode(error) === "ENOENT") return false;
      throw storeFailed("remove", file, error);
    }
  }

  private async removeStaleTmp(dir: string): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (error) {
      throw storeFailed("list", dir, error);
    }
    const cutoff = Date.now() - STALE_TMP_MS;
    await Promise.all(
      names
        .filter((name) => name.endsWith(".tmp"))
        .map(async (name) => {
          const file = path.join(dir, name);
          try {
            const stat = await fs.lstat(file);
            if (stat.mtimeMs < cutoff) await fs.unlink(file);
          } catch (error) {
            if (errorCode(error) !== "ENOENT") throw storeFailed("remove stale temporary file", file, error);
          }
        }),
    );
  }
}

/** The lock that put, update and delete of one record take (withLock with this key nests inside them). */
export function recordLockKey(id: string): string {
  return `instance:${id}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
