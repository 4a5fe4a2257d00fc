/**
 * A StateStore on Redis, shared by every process and machine that opens the
 * same URL and prefix: the store contract (runStoreContract) holds across
 * them. Key layout (all under `<prefix>:`, see README.md):
 *
 *   meta               hash: schema version, createdAt (the prefix is ours)
 *   records            set of instance ids with a record
 *   record:<id>        the record, JSON
 *   reserved           set of every id ever reserved or put (never reused)
 *   seq:<base>         counter behind reserveId(<parent>.<prefix>)
 *   queue:<id>         list of queued messages, JSON, oldest first
 *   claim:<id>         the queue's claim, JSON, with its lease's expiry (server clock)
 *   lock:<key>         a lock's token, with the lease as the key's TTL
 *   fence:<key>        counter: the fencing number in every token of the lock
 *   doc:, docs:, doc-version   documents (see redis-docs.ts)
 *   changes            pub/sub channel: "i:<id>", "q:<id>", "d:<collection>:<key>" (watch), "u:<key>" (unlocked); see change-feed.ts
 */
import { randomUUID } from "node:crypto";
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  ErrorCodes,
  TmuxClaudeError,
  guardListener,
  keepRenewed,
  leaseMsOf,
  parsePluginOptions,
  waitUntil,
  withReentrantLock,
  type ClaimOptions,
  type ClaimOutcome,
  type InstanceRecord,
  type Lease,
  type LockOptions,
  type QueueClaim,
  type QueuedMessage,
  type RecoveredClaim,
  type ReleaseLock,
  type StateStore,
  type StoreChange,
  type StoredDoc,
  type StoreWatch,
} from "@tmux-claude/core";
import type { Redis } from "ioredis";
import { checkServer, claimPrefix, connect, createClient } from "./connection.js";
import { RedisErrorCodes } from "./errors.js";
import { ChangeFeed } from "./change-feed.js";
import { RedisDocs } from "./redis-docs.js";
import { redactUrl, redisOptionsSchema, type RedisPluginOptions, type ResolvedRedisOptions } from "./options.js";
import { holderName, isDeadHere } from "./holder.js";
import * as scripts from "./scripts.js";
import type { LuaScript } from "./scripts.js";

export class RedisStore implements StateStore {
  readonly prefix: string;
  /** The URL without its password: what messages name. */
  readonly url: string;
  private readonly options: ResolvedRedisOptions;
  private readonly client: Redis;
  private readonly markConnected: () => void;
  private readonly feed: ChangeFeed;
  private readonly renewals = new Map<string, { stop: () => Promise<void> }>();
  private readonly watches = new Set<StoreWatch>();
  private readonly docs = new RedisDocs(this);
  private lastError: string | undefined;
  private closed = false;

  constructor(options: RedisPluginOptions) {
    this.options = parsePluginOptions("redis", redisOptionsSchema, options) as ResolvedRedisOptions;
    this.prefix = this.options.prefix;
    this.url = redactUrl(this.options.url);
    const { client, connected } = createClient(this.options);
    this.client = client;
    this.markConnected = connected;
    this.feed = new ChangeFeed(client, this.channel, (message) => {
      this.lastError = message;
    });
  }

  /** A key under the prefix: `<prefix>:<parts joined by ":">`. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(":");
  }

  /**
   * Run a Lua script of another part of the plugin (nodes, bus) on the
   * store's connection, its failures named like the store's own.
   */
  eval(operation: string, lua: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.run(operation, () => this.script(lua, keys, args));
  }

  /** Run commands of another part of the plugin on the store's connection, its failures named like the store's own. */
  command<T>(operation: string, fn: (client: Redis) => Promise<T>): Promise<T> {
    return this.run(operation, () => fn(this.client));
  }

  private get channel(): string {
    return this.key("changes");
  }

  async init(): Promise<void> {
    await connect(this.client, this.options);
    // From here on errors surface through the operations that meet them; the listener only keeps the last for their messages.
    this.client.on("error", (error: Error) => {
      this.lastError = error.message;
    });
    try {
      await checkServer(this.client, this.url);
      await claimPrefix(this.client, this.prefix, this.url);
    } catch (error) {
      this.client.disconnect();
      throw error instanceof TmuxClaudeError ? error : this.failure("init", error);
    }
    this.markConnected();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const watch of [...this.watches]) watch.stop();
    await Promise.all([...this.renewals.values()].map((renewal) => renewal.stop()));
    this.renewals.clear();
    for (const client of [this.feed.connection, this.client]) {
      // QUIT lets replies under way arrive; a client that is not connected has nothing to wait for.
      if (client?.status === "ready") await client.quit().catch(() => client.disconnect());
      else client?.disconnect();
    }
  }

  reserveId(parentId: string | null, prefix: string): Promise<string> {
    const base = parentId === null ? prefix : `${parentId}.${prefix}`;
    return this.run("reserveId", () => this.script(scripts.RESERVE_ID, [this.key("seq", base), this.key("reserved")], [base])) as Promise<string>;
  }

  async get(id: string): Promise<InstanceRecord | undefined> {
    const raw = await this.run(`get("${id}")`, () => this.client.get(this.key("record", id)));
    return raw === null ? undefined : (JSON.parse(raw) as InstanceRecord);
  }

  async list(): Promise<InstanceRecord[]> {
    const records = await this.run("list", async () => {
      const ids = await this.client.smembers(this.key("records"));
      return ids.length === 0 ? [] : this.client.mget(ids.map((id) => this.key("record", id)));
    });
    // A record deleted between SMEMBERS and MGET reads as null: it is gone, so it is not listed.
    return records
      .flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as InstanceRecord]))
      .sort((a, b) => compare(a.createdAt, b.createdAt) || compare(a.id, b.id));
  }

  async put(record: InstanceRecord): Promise<void> {
    await this.run(`put("${record.id}")`, () => this.compareAndSet(record.id, "", JSON.stringify(record)));
  }

  /** Optimistic: read, run the updater, write only if nobody wrote in between (compare-and-set on the whole JSON), else again. */
  async update(id: string, updater: (record: InstanceRecord) => InstanceRecord): Promise<InstanceRecord | undefined> {
    for (;;) {
      const seen = await this.run(`update("${id}")`, () => this.client.get(this.key("record", id)));
      if (seen === null) return undefined;
      const current: string = seen;
      const next = updater(JSON.parse(seen) as InstanceRecord);
      if (next?.id !== id) {
        throw new TmuxClaudeError(
          ErrorCodes.INVALID_ARGUMENT,
          `The updater for instance "${id}" returned a record with id ${JSON.stringify(next?.id)}; an update cannot change the id. Return the record with its id unchanged.`,
        );
      }
      const json = JSON.stringify(next);
      if (await this.run(`update("${id}")`, () => this.compareAndSet(id, current, json))) return JSON.parse(json) as InstanceRecord;
    }
  }

  async delete(id: string): Promise<void> {
    await this.run(`delete("${id}")`, () =>
      this.client
        .multi()
        .del(this.key("record", id), this.key("queue", id), this.key("claim", id), this.key("left", id))
        .srem(this.key("records"), id)
        .publish(this.channel, `i:${id}`)
        .publish(this.channel, `q:${id}`)
        .exec(),
    );
  }

  async enqueue(message: QueuedMessage): Promise<void> {
    const { instanceId } = message;
    const keys = [this.key("queue", instanceId), this.key("left", instanceId), this.channel];
    await this.run(`enqueue("${instanceId}")`, () => this.script(scripts.ENQUEUE, keys, [instanceId, JSON.stringify(message), message.id]));
  }

  async queue(instanceId: string): Promise<QueuedMessage[]> {
    const items = await this.run(`queue("${instanceId}")`, () => this.client.lrange(this.key("queue", instanceId), 0, -1));
    return items.map((item) => JSON.parse(item) as QueuedMessage);
  }

  async dequeue(instanceId: string, messageId: string): Promise<boolean> {
    const removed = await this.run(`dequeue("${instanceId}")`, () => this.script(scripts.DEQUEUE, [this.key("queue", instanceId), this.channel, this.key("left", instanceId)], [instanceId, messageId]));
    return removed === 1;
  }

  async claim(instanceId: string, options: ClaimOptions = {}): Promise<ClaimOutcome> {
    const leaseMs = leaseMsOf(options.leaseMs);
    const token = randomUUID();
    const claimKey = this.key("claim", instanceId);
    const args = [token, leaseMs, new Date().toISOString(), options.note ?? "", options.note === undefined ? "0" : "1", await holderName()];
    const reply = (await this.run(`claim("${instanceId}")`, () => this.script(scripts.CLAIM, [this.key("queue", instanceId), claimKey], args))) as string[];
    if (reply[0] === "empty") return { state: "empty" };
    if (reply[0] === "held") {
      // A claimer of this machine killed with -9: its claim is recovered now, not when its lease runs out.
      if (reply[2] && (await isDeadHere(reply[2])) && (await this.run(`claim("${instanceId}")`, () => this.script(scripts.EXPIRE_CLAIM, [claimKey], [reply[3]!]))) === 1) {
        return this.claim(instanceId, options);
      }
      // The server says how long the lease has left; the caller's clock says when that is.
      return { state: "held", until: Date.now() + Number(reply[1]) + 1 };
    }
    const recovered = reply[2] ? (JSON.parse(reply[2]) as RecoveredClaim) : undefined;
    const renewal = this.renew(token, leaseMs, async () => (await this.script(scripts.RENEW_CLAIM, [claimKey], [token, leaseMs])) === 1);
    const claim: QueueClaim = { message: JSON.parse(reply[1]!) as QueuedMessage, token, lost: renewal.lost, ...(recovered ? { recovered } : {}) };
    return { state: "claimed", claim };
  }

  ack(claim: QueueClaim): Promise<boolean> {
    return this.endClaim(claim, "ack");
  }

  async release(claim: QueueClaim): Promise<void> {
    await this.endClaim(claim, "release");
  }

  getDoc(collection: string, key: string): Promise<unknown> {
    return this.docs.get(collection, key);
  }

  updateDoc<T = unknown>(collection: string, key: string, updater: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    return this.docs.update(collection, key, updater);
  }

  putDoc(collection: string, key: string, value: unknown): Promise<void> {
    return this.docs.put(collection, key, value);
  }

  listDocs(collection: string): Promise<StoredDoc[]> {
    return this.docs.list(collection);
  }

  withLock<T>(key: string, fn: (lease: Lease) => Promise<T>, options: LockOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const leaseMs = leaseMsOf(options.leaseMs);
    // The scope names the data (server and prefix), so every handle of this process on it shares re-entrancy.
    return withReentrantLock(`redis:${this.url}/${this.prefix}:${key}`, key, timeoutMs, () => this.acquire(key, timeoutMs, leaseMs), fn);
  }

  watch(listener: (change: StoreChange) => void): StoreWatch {
    const deliver = guardListener(listener);
    this.feed.onChange(deliver);
    const ready = this.run("watch (SUBSCRIBE)", () => this.feed.subscribed());
    // A caller that never awaits ready must not crash the process on an unhandled rejection; one that awaits it still sees it.
    ready.catch(() => undefined);
    const watch: StoreWatch = {
      ready,
      stop: () => {
        this.feed.offChange(deliver);
        this.watches.delete(watch);
      },
    };
    this.watches.add(watch);
    return watch;
  }

  /**
   * Tell this process's watchers that these instances changed although their
   * records did not: how they are listed did (their node was lost or came
   * back), so a watcher such as a dashboard reads them again.
   */
  announceChanged(ids: readonly string[]): void {
    for (const id of ids) this.feed.emitChange({ kind: "instance", id });
  }

  /** Wait until the lock is free or its holder's lease ran out: woken by the release message or the expiry, never by polling. */
  private async acquire(key: string, timeoutMs: number, leaseMs: number): Promise<{ lease: Lease; release: ReleaseLock }> {
    const deadline = Date.now() + timeoutMs;
    const lockKey = this.key("lock", key);
    const what = `withLock("${key}")`;
    await this.run(`${what} (SUBSCRIBE)`, () => this.feed.subscribed());
    let token: string | undefined;
    while (token === undefined) {
      // Listen before asking, so a release between the answer and the wait still wakes this waiter.
      let wake!: () => void;
      const unlocked = new Promise<void>((resolve) => (wake = resolve));
      this.feed.onceUnlocked(key, wake);
      try {
        const holder = await holderName();
        const reply = await this.run(what, () => this.script(scripts.ACQUIRE_LOCK, [lockKey, this.key("fence", key)], [holder ? `${randomUUID()}~${holder}` : randomUUID(), leaseMs]));
        if (typeof reply === "string") {
          token = reply;
          break;
        }
        const [msLeft, held] = reply as [number, string];
        // A holder of this machine killed with -9 lets go now, not when its lease runs out (compare-and-delete: only that holder's).
        if (held.includes("~") && (await isDeadHere(held.slice(held.indexOf("~") + 1)))) {
          await this.run(what, () => this.script(scripts.RELEASE_LOCK, [lockKey, this.channel], [held, key]));
          continue;
        }
        if (Date.now() >= deadline) {
          throw new TmuxClaudeError(
            ErrorCodes.LOCK_TIMEOUT,
            `Timed out after ${timeoutMs} ms waiting for lock "${key}" in the Redis store at ${this.url} (prefix "${this.prefix}"): another holder's lease has ${String(msLeft)} ms left and is being renewed. ` +
              `If that holder is stuck, stop it; its lease then expires.`,
            { key, timeoutMs },
          );
        }
        await waitUntil(unlocked, Math.min(deadline, Date.now() + Math.max(Number(msLeft), 0) + 1));
      } finally {
        this.feed.offUnlocked(key, wake);
      }
    }
    const held = token;
    const renewal = this.renew(held, leaseMs, async () => (await this.script(scripts.RENEW_LOCK, [lockKey], [held, leaseMs])) === 1);
    let released = false;
    return {
      lease: { key, token: held, lost: renewal.lost },
      release: async () => {
        if (released) return;
        released = true;
        await this.stopRenewal(held);
        // A closed store leaves its leases to expire, as a dead process would.
        if (this.closed) return;
        const ok = await this.run(`${what} release`, () => this.script(scripts.RELEASE_LOCK, [lockKey, this.channel], [held, key]));
        if (ok !== 1) {
          throw new TmuxClaudeError(
            ErrorCodes.STORE_FAILED,
            `The lock "${key}" was taken over while held: its lease (${leaseMs} ms) ran out. The work done under it may have overlapped; pass a longer leaseMs.`,
            { key },
          );
        }
      },
    };
  }

  private async endClaim(claim: QueueClaim, how: "ack" | "release"): Promise<boolean> {
    await this.stopRenewal(claim.token);
    const { instanceId } = claim.message;
    const keys = [this.key("claim", instanceId), this.key("queue", instanceId), this.channel, this.key("left", instanceId)];
    return (await this.run(`${how}("${instanceId}")`, () => this.script(scripts.END_CLAIM, keys, [claim.token, instanceId, how]))) === 1;
  }

  private renew(token: string, leaseMs: number, renew: () => Promise<boolean>): ReturnType<typeof keepRenewed> {
    const renewal = keepRenewed(leaseMs, async () => !this.closed && renew());
    this.renewals.set(token, renewal);
    return renewal;
  }

  private async stopRenewal(token: string): Promise<void> {
    await this.renewals.get(token)?.stop();
    this.renewals.delete(token);
  }

  private async compareAndSet(id: string, expected: string, json: string): Promise<boolean> {
    const keys = [this.key("record", id), this.key("records"), this.key("reserved"), this.channel];
    return (await this.script(scripts.COMPARE_AND_SET, keys, [id, expected, json])) === 1;
  }

  /** EVALSHA, and EVAL when the server lost its script cache (a restart): one round trip in the common case. */
  private async script(lua: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(lua.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!/NOSCRIPT/u.test((error as Error).message)) throw error;
      return this.client.eval(lua.source, keys.length, ...keys, ...args);
    }
  }

  /** Run an operation; Redis's failures become errors naming the server (never its password) and what to do. */
  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.failure(operation, error);
    }
  }

  private failure(operation: string, error: unknown): TmuxClaudeError {
    if (error instanceof TmuxClaudeError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === "ReplyError") {
      return new TmuxClaudeError(RedisErrorCodes.COMMAND_FAILED, `Redis at ${this.url} refused ${operation} (prefix "${this.prefix}"): ${message}.`, { url: this.url, operation });
    }
    const seen = this.lastError && this.lastError !== message ? `; last connection error: ${this.lastError}` : "";
    return new TmuxClaudeError(
      RedisErrorCodes.UNAVAILABLE,
      `Redis at ${this.url} did not answer ${operation} within ${this.options.commandTimeoutMs} ms (${message}${seen}). ` +
        `Check that redis-server runs and is reachable; the store reconnects by itself once it is.`,
      { url: this.url, operation, timeoutMs: this.options.commandTimeoutMs },
    );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
