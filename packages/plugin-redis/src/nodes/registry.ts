/**
 * Node registration: each `serve` holds `node:<id>` in Redis, a key with a
 * TTL that its heartbeat keeps renewing. A node whose key expired without a
 * goodbye is `lost` (killed, machine or network gone); one whose `serve`
 * closed is `stopped`. The `nodes` hash remembers every node that ever served,
 * so a lost one is still listed.
 */
import os from "node:os";
import { randomUUID } from "node:crypto";
import { currentProcess, TmuxClaudeError, type NodeReport, type PluginContext, type ProcessId } from "@tmux-claude/core";
import { RedisErrorCodes } from "../errors.js";
import { holderName, isDeadHere } from "../holder.js";
import type { RedisStore } from "../redis-store.js";
import { script } from "../scripts.js";

/** What a node's heartbeat key and its `nodes` entry hold. */
export interface NodeClaim {
  readonly id: string;
  /** Random per `serve`: whose heartbeat the key is. */
  readonly token: string;
  readonly host: string;
  readonly process: ProcessId;
  /** The process as ../holder.ts names it (boot, pid namespace, pid, start): only a process that can judge it takes a dead one's id over at once. */
  readonly holder?: string;
  readonly startedAt: string;
  readonly stoppedAt?: string;
}

export interface NodeInfo extends NodeReport {
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly stoppedAt?: string;
}

/**
 * KEYS: heartbeat, nodes hash; ARGV: claim, ttlMs, id, the claim it may
 * replace ("" for none). The holder's claim when the id is held by another,
 * else takes the key and returns "".
 */
const REGISTER = script(
  "registerNode",
  `local held = redis.call('get', KEYS[1])
if held and held ~= ARGV[4] then return held end
redis.call('set', KEYS[1], ARGV[1], 'px', tonumber(ARGV[2]))
redis.call('hset', KEYS[2], ARGV[3], ARGV[1])
return ''`,
);

/**
 * KEYS: heartbeat; ARGV: claim, ttlMs. 1 when renewed, also when the key had
 * expired meanwhile (Redis was away longer than the TTL: the node is back);
 * 0 when another `serve` holds the id now.
 */
const BEAT = script(
  "nodeHeartbeat",
  `local held = redis.call('get', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'px', tonumber(ARGV[2]))
return 1`,
);

/** KEYS: heartbeat, nodes hash; ARGV: claim, id, stopped claim. Compare-and-delete, and the node is remembered as stopped. */
const UNREGISTER = script(
  "unregisterNode",
  `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
return 1`,
);

/**
 * KEYS: nodes hash; ARGV: the heartbeat keys' prefix (`<prefix>:node:`).
 * Every node's last claim and its heartbeat (false when none) in one round
 * trip: [id, claim, heartbeat, id, claim, heartbeat, ...]. The heartbeat keys
 * are named from the hash's ids, so they cannot be passed as KEYS.
 */
const NODES = script(
  "listNodes",
  `local entries = redis.call('hgetall', KEYS[1])
local out = {}
for i = 1, #entries, 2 do
  out[#out + 1] = entries[i]
  out[#out + 1] = entries[i + 1]
  -- A missing key is false (nil would leave a hole in the list); false reaches the client as null.
  out[#out + 1] = redis.call('get', ARGV[1] .. entries[i]) or false
end
return out`,
);

export class NodeRegistry {
  private claim: NodeClaim | undefined;
  private json = "";
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  /** Set once a beat found the id taken: warn once, not every beat. */
  private displaced = false;
  /** Set while beats fail (Redis away): warn at the first, say when it is back. */
  private failing = false;

  constructor(
    private readonly store: RedisStore,
    private readonly ttlMs: number,
    private readonly logger: PluginContext["logger"],
  ) {}

  private heartbeatKey(id: string): string {
    return this.store.key("node", id);
  }

  private get hashKey(): string {
    return this.store.key("nodes");
  }

  /**
   * Claim the node id for this `serve` and start the heartbeat. The id held by
   * a live `serve` is refused; one left by a dead process of this machine (a
   * `kill -9` moments ago, its key not expired yet) is taken over.
   */
  async register(id: string): Promise<void> {
    const holder = await holderName();
    const claim: NodeClaim = { id, token: randomUUID(), host: os.hostname(), process: await currentProcess(), ...(holder ? { holder } : {}), startedAt: new Date().toISOString() };
    const json = JSON.stringify(claim);
    const keys = [this.heartbeatKey(id), this.hashKey];
    let held = String(await this.store.eval(`register node "${id}"`, REGISTER, keys, [json, this.ttlMs, id, ""]));
    if (held !== "" && (await this.deadHereOf(held))) held = String(await this.store.eval(`register node "${id}"`, REGISTER, keys, [json, this.ttlMs, id, held]));
    if (held !== "") throw this.inUse(id, held);
    this.claim = claim;
    this.json = json;
    // A third of the TTL: two beats may be lost (a slow Redis) before the node counts as lost.
    this.timer = setInterval(() => (this.beating = this.beating.then(() => this.beat())), Math.max(10, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  /** Stop the heartbeat and say goodbye: the node is `stopped`, not lost. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    const claim = this.claim;
    if (!claim) return;
    this.claim = undefined;
    const stopped = JSON.stringify({ ...claim, stoppedAt: new Date().toISOString() });
    await this.store.eval(`unregister node "${claim.id}"`, UNREGISTER, [this.heartbeatKey(claim.id), this.hashKey], [this.json, claim.id, stopped]);
  }

  /** Every node that ever served on this prefix, with its state now, by id. */
  async nodes(): Promise<NodeInfo[]> {
    // Asked before every operation on another node's instance and by every list: one round trip, not two.
    const reply = (await this.store.eval("list nodes", NODES, [this.hashKey], [this.heartbeatKey("")])) as (string | null)[];
    const nodes: NodeInfo[] = [];
    for (let n = 0; n + 2 < reply.length; n += 3) {
      const [claim, beat] = [reply[n + 1]!, reply[n + 2] ?? null];
      nodes.push(describeNode(JSON.parse(beat ?? claim) as NodeClaim, beat !== null, this.ttlMs));
    }
    return nodes.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  }

  /** The `node` health check of a serve: its heartbeat key holds its own claim. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    const claim = this.claim;
    if (!claim) return { ok: false, detail: "this serve's node is not registered (it stopped, or never started)" };
    const held = await this.store.command(`read the heartbeat of node "${claim.id}"`, (client) => client.get(this.heartbeatKey(claim.id)));
    if (held === this.json) return { ok: true, detail: `node "${claim.id}" live, heartbeat every ${Math.floor(this.ttlMs / 3)} ms` };
    if (held === null) return { ok: false, detail: `node "${claim.id}" has no heartbeat in Redis now: other nodes see it as lost until the next beat` };
    const holder = parseClaim(held);
    return { ok: false, detail: `node id "${claim.id}" is held by another serve (${holder ? `pid ${holder.process.pid} on host "${holder.host}"` : "unreadable claim"}): give one of them another node.id` };
  }

  private async beat(): Promise<void> {
    const claim = this.claim;
    if (!claim) return;
    try {
      const ok = (await this.store.eval(`heartbeat of node "${claim.id}"`, BEAT, [this.heartbeatKey(claim.id)], [this.json, this.ttlMs])) === 1;
      if (!ok && !this.displaced) this.logger.error({ node: claim.id }, `another serve claimed node id "${claim.id}" after this one's heartbeat expired; give one of them another node.id`);
      this.displaced = !ok;
      if (this.failing) this.logger.info({ node: claim.id }, "node heartbeat back");
      this.failing = false;
    } catch (error) {
      // Redis away: the next beat tries again; past the TTL the other nodes see this one as lost until it is back.
      this.logger[this.failing ? "debug" : "warn"]({ err: error, node: claim.id }, "node heartbeat failed; other nodes see this one as lost once its heartbeat expires");
      this.failing = true;
    }
  }

  /**
   * The holder of the id is a process of this machine (same boot and pid
   * namespace, see ../holder.ts) that is gone. A host name alone is not
   * enough: containers sharing one cannot see each other's processes.
   */
  private async deadHereOf(held: string): Promise<boolean> {
    const holder = parseClaim(held);
    return holder?.holder !== undefined && (await isDeadHere(holder.holder));
  }

  private inUse(id: string, held: string): TmuxClaudeError {
    const holder = parseClaim(held);
    const who = holder ? `serve pid ${holder.process.pid} on host "${holder.host}", since ${holder.startedAt}` : "a holder this version cannot read";
    return new TmuxClaudeError(
      RedisErrorCodes.NODE_ID_IN_USE,
      `Node id "${id}" is already claimed by a running serve (${who}) in the Redis store at ${this.store.url} (prefix "${this.store.prefix}"). ` +
        `Two kernels with one node id would act on each other's instances. Give this one its own id (node.id in the config), or stop the other serve; ` +
        `a serve that died on another machine frees the id within ${this.ttlMs} ms.`,
      { node: id, holder: holder ? { host: holder.host, pid: holder.process.pid } : undefined },
    );
  }
}

function parseClaim(json: string): NodeClaim | undefined {
  try {
    const claim = JSON.parse(json) as NodeClaim;
    return typeof claim.host === "string" && typeof claim.process?.pid === "number" ? claim : undefined;
  } catch {
    return undefined;
  }
}

function describeNode(claim: NodeClaim, beating: boolean, ttlMs: number): NodeInfo {
  const where = `serve pid ${claim.process.pid} on host "${claim.host}"`;
  const base = { id: claim.id, host: claim.host, pid: claim.process.pid, startedAt: claim.startedAt };
  if (beating) return { ...base, state: "live" };
  if (claim.stoppedAt) return { ...base, state: "stopped", stoppedAt: claim.stoppedAt, reason: `its ${where} stopped at ${claim.stoppedAt}` };
  return { ...base, state: "lost", reason: `no heartbeat for over ${ttlMs} ms from its ${where}` };
}
