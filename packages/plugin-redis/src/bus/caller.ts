/**
 * The calling side of the bus: a request for another node's instance is
 * added to that node's stream and answered on this process's reply channel.
 * The owner must accept it within `acceptTimeoutMs`, else this side cancels
 * it (SET NX: the owner will never perform it) and fails naming the node.
 */
import { randomUUID } from "node:crypto";
import { ErrorCodes, TmuxClaudeError, type RouteRequest, type RouteResult } from "@tmux-claude/core";
import type { Redis } from "ioredis";
import { RedisErrorCodes } from "../errors.js";
import { fromWire, parseState, requestId, resultBudgetMs, STATE_TTL_MS, STREAM_MAX_LEN, type Answer, type BusKeys, type ReplyNote } from "./wire.js";

export interface CallerDeps {
  client: Redis;
  /** A connection of its own: once subscribed it takes no other commands. */
  subscriber: Redis;
  keys: BusKeys;
  /** This node's id (for messages). */
  node: string;
  /** The URL without its password (for messages). */
  url: string;
  acceptTimeoutMs: number;
  resultTimeoutMs: number;
}

interface Pending {
  request: RouteRequest;
  accepted: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve(result: RouteResult): void;
  reject(error: unknown): void;
}

export class BusCaller {
  /** This process's reply channel: answers come to the process that asked, not to every process of the node. */
  private readonly channel: string;
  private readonly pending = new Map<string, Pending>();
  private subscription: Promise<unknown> | undefined;

  constructor(private readonly deps: CallerDeps) {
    this.channel = deps.keys.reply(randomUUID());
    deps.subscriber.on("message", (channel: string, raw: string) => {
      if (channel === this.channel) this.onNote(JSON.parse(raw) as ReplyNote);
    });
    // A note published while the subscriber was reconnecting is lost: the request's state key still has it.
    deps.subscriber.on("ready", () => {
      for (const id of this.pending.keys()) void this.recheck(id);
    });
  }

  /** Carry `request` to its node; resolves with the owner's result, rejects with its error (code and message kept). */
  async request(request: RouteRequest): Promise<RouteResult> {
    this.subscription ??= this.deps.subscriber.subscribe(this.channel).catch((error: unknown) => {
      this.subscription = undefined; // the next request subscribes again
      throw this.redisFailed(request, error);
    });
    await this.subscription;
    const id = requestId(request, randomUUID);
    const { client, keys, acceptTimeoutMs } = this.deps;
    return new Promise<RouteResult>((resolve, reject) => {
      const entry: Pending = { request, accepted: false, timer: undefined, resolve, reject };
      this.pending.set(id, entry);
      // The accept timeout runs from before the XADD: a Redis that does not take the request counts too.
      entry.timer = setTimeout(() => void this.giveUp(id), acceptTimeoutMs);
      const fields = ["id", id, "reply", this.channel, "request", JSON.stringify(request)];
      client.xadd(keys.inbox(request.node), "MAXLEN", "~", String(STREAM_MAX_LEN), "*", ...fields).catch((error: unknown) => this.settle(id, undefined, this.redisFailed(request, error)));
    });
  }

  /** Fail every request still waiting (the kernel closes). */
  close(): void {
    for (const [id, entry] of this.pending) {
      this.settle(id, undefined, new TmuxClaudeError(ErrorCodes.KERNEL_STATE, `The kernel of node "${this.deps.node}" closed while waiting for node "${entry.request.node}" to answer.`, { node: entry.request.node }));
    }
  }

  private onNote(note: ReplyNote): void {
    const entry = this.pending.get(note.id);
    if (!entry) return;
    if (note.state === "done") this.finish(note.id, note);
    else this.markAccepted(note.id, entry);
  }

  private markAccepted(id: string, entry: Pending): void {
    if (entry.accepted) return;
    entry.accepted = true;
    clearTimeout(entry.timer);
    const budget = resultBudgetMs(entry.request, this.deps.resultTimeoutMs);
    entry.timer = setTimeout(() => this.settle(id, undefined, this.silent(entry.request, budget)), budget);
  }

  /** The accept timeout passed: withdraw the request unless the owner took it in the meantime. */
  private async giveUp(id: string): Promise<void> {
    const entry = this.pending.get(id);
    if (!entry || entry.accepted) return;
    const { client, keys } = this.deps;
    try {
      const cancelled = await client.set(keys.state(id), JSON.stringify({ state: "cancelled" }), "PX", STATE_TTL_MS, "NX");
      if (cancelled === "OK") return this.settle(id, undefined, this.unreachable(entry.request));
      await this.recheck(id);
    } catch (error) {
      this.settle(id, undefined, this.redisFailed(entry.request, error));
    }
  }

  /** Read the request's state: the owner may have accepted or answered while its notes could not reach us. */
  private async recheck(id: string): Promise<void> {
    const entry = this.pending.get(id);
    if (!entry) return;
    const state = parseState(await this.deps.client.get(this.deps.keys.state(id)).catch(() => null));
    if (state?.state === "done") this.finish(id, state);
    else if (state?.state === "accepted") this.markAccepted(id, entry);
  }

  private finish(id: string, answer: Answer): void {
    if (answer.ok) this.settle(id, answer.result);
    else this.settle(id, undefined, fromWire(answer.error));
  }

  private settle(id: string, result: RouteResult | undefined, error?: unknown): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    if (error !== undefined) entry.reject(error);
    else entry.resolve(result as RouteResult);
  }

  private unreachable(request: RouteRequest): TmuxClaudeError {
    const { node, url, acceptTimeoutMs } = this.deps;
    return new TmuxClaudeError(
      ErrorCodes.NODE_UNREACHABLE,
      `Node "${request.node}" did not take the request to ${describe(request)} within ${acceptTimeoutMs} ms (this is node "${node}"); it was withdrawn and will not be performed. Check that \`tmux-claude serve\` runs on node "${request.node}" with the redis plugin on ${url} and the same prefix.`,
      { node: request.node, thisNode: node, operation: request.operation, timeoutMs: acceptTimeoutMs },
    );
  }

  /** Redis itself failed us (down, timed out): say so with its URL, not as the other node's answer. */
  private redisFailed(request: RouteRequest, error: unknown): unknown {
    if (error instanceof TmuxClaudeError) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new TmuxClaudeError(
      RedisErrorCodes.UNAVAILABLE,
      `Redis at ${this.deps.url} did not carry the request to ${describe(request)} to node "${request.node}": ${reason}. Check that Redis runs and is reachable from this node ("${this.deps.node}"); the client reconnects by itself.`,
      { url: this.deps.url, node: request.node, operation: request.operation },
    );
  }

  private silent(request: RouteRequest, budget: number): TmuxClaudeError {
    return new TmuxClaudeError(
      ErrorCodes.NODE_UNREACHABLE,
      `Node "${request.node}" took the request to ${describe(request)} but gave no answer within ${budget} ms (this is node "${this.deps.node}"); it may have been done. Check node "${request.node}" (\`tmux-claude list\`) before repeating it.`,
      { node: request.node, thisNode: this.deps.node, operation: request.operation, timeoutMs: budget },
    );
  }
}

function describe(request: RouteRequest): string {
  return request.operation === "spawn" ? `spawn an instance of role "${request.options.role}"` : `${request.operation} instance "${request.instance.id}"`;
}
