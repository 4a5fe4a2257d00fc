/**
 * The owning side of the bus: `serve` on a node reads its stream (consumer
 * group named after the node), accepts each request (SET NX on its state, so
 * a request its caller withdrew is never performed), performs it through
 * `kernel.local.perform`, stores the answer, tells the caller and only then
 * acknowledges the entry. A process killed in between leaves the entry
 * pending: the next `serve` of the node reads its pending entries first.
 */
import { randomUUID } from "node:crypto";
import { ErrorCodes, TmuxClaudeError, type DeliveryReceipt, type InstanceRecord, type Logger, type RouteRequest, type RouteResult } from "@tmux-claude/core";
import type { ChainableCommander, Redis } from "ioredis";
import { parseState, STATE_TTL_MS, toWire, type Answer, type BusKeys, type ReplyNote } from "./wire.js";

export interface OwnerDeps {
  client: Redis;
  /** A connection of its own with no command timeout: XREADGROUP blocks on it until a request comes. */
  reader: Redis;
  keys: BusKeys;
  node: string;
  perform(request: RouteRequest): Promise<RouteResult>;
  get(id: string): Promise<InstanceRecord>;
  logger: Logger;
}

type StreamReply = [stream: string, entries: [entryId: string, fields: string[] | null][]][] | null;

/** Retry delay after a failed read that was not a lost connection (a connection lost is waited for by ioredis itself). */
const READ_RETRY_MS = 1_000;

export class BusOwner {
  private running = false;
  private loop: Promise<void> | undefined;
  /** Requests being performed by this process, by idempotency key: a repeat of one joins it (its caller gets the same answer). */
  private readonly inProgress = new Map<string, { replies: Set<string>; entries: string[] }>();
  private readonly performing = new Set<Promise<void>>();

  constructor(private readonly deps: OwnerDeps) {}

  private get inbox(): string {
    return this.deps.keys.inbox(this.deps.node);
  }

  /** Create the node's group (from the stream's start: requests added before the first serve are seen) and start reading. */
  async start(): Promise<void> {
    await this.ensureGroup();
    this.running = true;
    this.loop = this.read();
  }

  /** Stop reading and wait for the requests under way (their answers are stored and sent). */
  async stop(): Promise<void> {
    this.running = false;
    // The blocked XREADGROUP only ends with its connection.
    this.deps.reader.disconnect();
    await this.loop;
    await Promise.all([...this.performing]);
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.deps.client.xgroup("CREATE", this.inbox, this.deps.node, "0", "MKSTREAM");
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("BUSYGROUP"))) throw error;
    }
  }

  private async read(): Promise<void> {
    // First this node's own pending entries (read by a process that died before acknowledging them), then new ones.
    let cursor = "0";
    while (this.running) {
      let reply: StreamReply;
      try {
        reply = (await this.deps.reader.xreadgroup("GROUP", this.deps.node, this.deps.node, "COUNT", 100, "BLOCK", 0, "STREAMS", this.inbox, cursor)) as StreamReply;
      } catch (error) {
        if (!this.running) return;
        this.deps.logger.warn({ err: error }, "bus: reading the node's requests failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
        // The stream (and its group) may be gone, e.g. Redis restarted without its data.
        await this.ensureGroup().catch(() => undefined);
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (cursor !== ">" && entries.length === 0) cursor = ">";
      for (const [entryId, fields] of entries) {
        if (cursor !== ">") cursor = entryId;
        await this.take(entryId, fields, cursor !== ">").catch((error: unknown) => this.deps.logger.error({ err: error, entry: entryId }, "bus: a request could not be taken"));
      }
    }
  }

  /** Accept and start one request; called in stream order, so requests for one instance reach the kernel in the order they were sent. */
  private async take(entryId: string, fields: string[] | null, recovering: boolean): Promise<void> {
    // A pending entry that was deleted (the stream was trimmed) has no fields: nothing left to do.
    if (fields === null) return this.ack([entryId]);
    const { id, reply, request } = fieldsOf(fields);
    const running = this.inProgress.get(id);
    if (running) {
      running.replies.add(reply);
      running.entries.push(entryId);
      return;
    }
    const { client, keys, node } = this.deps;
    const take = randomUUID();
    const accepted = await client.set(keys.state(id), JSON.stringify({ state: "accepted", by: node, take }), "PX", STATE_TTL_MS, "NX");
    const state = accepted === "OK" ? undefined : parseState(await client.get(keys.state(id)));
    // NX refused our own accept: the client resent the SET whose reply a dropped connection lost (ioredis does). It is ours.
    if (accepted === "OK" || (state?.state === "accepted" && state.take === take)) {
      // Not awaited: the note goes out on this connection ahead of the answer's, and the work need not wait for it.
      this.note(reply, { id, state: "accepted" }).catch((error: unknown) => this.deps.logger.warn({ err: error, request: id }, "bus: the accepted note could not be sent"));
      return this.perform(id, entryId, reply, request, false);
    }
    if (state?.state === "done") {
      // A repeat of an answered request (a retried send, a redelivery): the same answer again, not a second performance.
      await this.note(reply, { id, state: "done", ...answerOf(state) });
      return this.ack([entryId]);
    }
    if (state?.state === "accepted" && recovering) return this.perform(id, entryId, reply, request, true);
    // Withdrawn by its caller (cancelled), or its state expired: never performed.
    return this.ack([entryId]);
  }

  private perform(id: string, entryId: string, reply: string, request: RouteRequest, recovering: boolean): void {
    const run = { replies: new Set([reply]), entries: [entryId] };
    this.inProgress.set(id, run);
    // Started now, awaited elsewhere: a long read --wait must not hold up the requests behind it.
    const work = (async () => {
      const answer = await this.answer(request, recovering);
      const { client, keys, node } = this.deps;
      // One round trip, in this order: the answer stored, told to every caller, then the entries acknowledged.
      // A repeat taken from here on is queued behind it on this connection, so it finds the answer stored.
      this.inProgress.delete(id);
      const done = JSON.stringify({ id, state: "done", ...answer } satisfies ReplyNote);
      const step = client.multi().set(keys.state(id), JSON.stringify({ state: "done", by: node, ...answer }), "PX", STATE_TTL_MS);
      for (const channel of run.replies) step.publish(channel, done);
      await exec(step.xack(this.inbox, node, ...run.entries).xdel(this.inbox, ...run.entries));
    })()
      .catch((error: unknown) => {
        // Left pending: the next serve of this node finds it and answers it (recovering).
        this.inProgress.delete(id);
        this.deps.logger.error({ err: error, request: id }, "bus: an answer could not be stored");
      })
      .finally(() => this.performing.delete(work));
    this.performing.add(work);
  }

  private async answer(request: RouteRequest, recovering: boolean): Promise<Answer> {
    try {
      const result = recovering ? await this.recover(request) : await this.deps.perform(request);
      return { ok: true, result: JSON.parse(JSON.stringify(result)) as RouteResult };
    } catch (error) {
      return { ok: false, error: toWire(error, this.deps.node) };
    }
  }

  /**
   * A request a previous process of this node accepted and died performing.
   * A send whose message is in the instance's history got in (or its queue):
   * its receipt, not a second delivery. A restart or spawn may have happened:
   * the caller is told so rather than getting a second one. The rest do no
   * harm done twice.
   */
  private async recover(request: RouteRequest): Promise<RouteResult> {
    if (request.operation === "send") {
      const record = await this.deps.get(request.message.instanceId);
      const entry = record.messages?.find((m) => m.id === request.message.id);
      if (entry) return receiptOf(entry.id, record.id, entry.state, entry.acceptedAt);
    }
    if (request.operation === "restart" || request.operation === "spawn") {
      throw new TmuxClaudeError(
        ErrorCodes.ROUTE_FAILED,
        `Node "${this.deps.node}" stopped while performing a ${request.operation} and cannot tell whether it happened. Run \`tmux-claude list\` to see, and repeat it only if it did not.`,
        { node: this.deps.node, operation: request.operation },
      );
    }
    return this.deps.perform(request);
  }

  private async note(channel: string, note: ReplyNote): Promise<void> {
    await this.deps.client.publish(channel, JSON.stringify(note));
  }

  private async ack(entries: string[]): Promise<void> {
    await exec(this.deps.client.multi().xack(this.inbox, this.deps.node, ...entries).xdel(this.inbox, ...entries));
  }
}

/** Run a MULTI; a command in it that Redis refused fails the whole step (the entry stays pending and is answered again). */
async function exec(multi: ChainableCommander): Promise<void> {
  const results = (await multi.exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
}

function fieldsOf(fields: string[]): { id: string; reply: string; request: RouteRequest } {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  return { id: map.get("id") ?? "", reply: map.get("reply") ?? "", request: JSON.parse(map.get("request") ?? "null") as RouteRequest };
}

function answerOf(state: Answer): Answer {
  return state.ok ? { ok: true, result: state.result } : { ok: false, error: state.error };
}

function receiptOf(messageId: string, instanceId: string, state: "queued" | "delivered", acceptedAt?: string): DeliveryReceipt {
  return { messageId, instanceId, state, ...(acceptedAt !== undefined ? { acceptedAt } : {}) };
}
