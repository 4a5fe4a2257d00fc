/**
 * The embedded store's message queues and their claims.
 *
 *   queue/<instanceId>@<seq>@<msg>.json   one file per queued message (flat: one watch sees all)
 *   claims/<instanceId>.json              the claim on an instance's oldest message, with its lease
 *
 * Claims are made, renewed and ended under the short lock `queue:<id>`. Ack
 * removes the message before the claim, so a crash between the two leaves a
 * claim of a message that is gone, which the next claim ignores.
 */
import path from "node:path";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { listDir, readJson, unlinkIfExists, writeAtomic } from "./file-io.js";
import { isAbandoned, leaseMsOf, ownLease, parseOwner, type LeaseOwner } from "./lease-owner.js";
import { keepRenewed } from "./reentrant.js";
import { safeName } from "./safe-name.js";
import type { ClaimOptions, ClaimOutcome, Lease, QueueClaim, QueuedMessage, RecoveredClaim } from "./types.js";

const MAX_MESSAGE_ID_PART = 48;

type WithLock = <T>(key: string, fn: (lease: Lease) => Promise<T>) => Promise<T>;

interface ClaimFile {
  /** Name of the claimed message's queue file. */
  messageFile: string;
  owner: LeaseOwner;
  claimedAt: string;
  note?: string;
  recovered?: RecoveredClaim;
}

// Queue file sequence: sorts FIFO within this process even within one
// millisecond and if the clock steps back; across processes, by time.
let lastSeqMs = 0;
let seqCounter = 0;
export function nextSeq(): string {
  lastSeqMs = Math.max(lastSeqMs, Date.now());
  seqCounter += 1;
  return `${String(lastSeqMs).padStart(15, "0")}-${String(seqCounter).padStart(12, "0")}-${String(process.pid).padStart(10, "0")}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class FileQueue {
  /** Renewals of this process's claims, stopped by ack, release and close. */
  private readonly renewals = new Map<string, { stop: () => Promise<void> }>();

  constructor(
    private readonly queueDir: string,
    private readonly claimsDir: string,
    private readonly withLock: WithLock,
  ) {}

  /** `seq` from nextSeq(), taken before any await, so calls made in a row keep their order. */
  enqueue(message: QueuedMessage, seq: string): Promise<void> {
    return writeAtomic(path.join(this.queueDir, `${message.instanceId}@${seq}@${safeName(message.id, MAX_MESSAGE_ID_PART)}.json`), message);
  }

  async queue(instanceId: string): Promise<QueuedMessage[]> {
    const files = await this.files(instanceId);
    const messages = await Promise.all(files.map((name) => this.read(name)));
    return messages.filter((message): message is QueuedMessage => message !== undefined);
  }

  async dequeue(instanceId: string, messageId: string): Promise<boolean> {
    const suffix = `@${safeName(messageId, MAX_MESSAGE_ID_PART)}.json`;
    for (const name of await this.files(instanceId)) {
      if (!name.endsWith(suffix)) continue;
      // unlink succeeds for exactly one caller.
      if (await unlinkIfExists(path.join(this.queueDir, name))) return true;
    }
    return false;
  }

  claim(instanceId: string, options: ClaimOptions = {}): Promise<ClaimOutcome> {
    const leaseMs = leaseMsOf(options.leaseMs);
    return this.withLock(lockKey(instanceId), async () => {
      for (;;) {
        const [head] = await this.files(instanceId);
        const previous = await this.readClaim(instanceId);
        if (head === undefined) {
          if (previous) await unlinkIfExists(this.claimPath(instanceId));
          return { state: "empty" };
        }
        let recovered: RecoveredClaim | undefined;
        // A claim of another file is stale: its message was acked or dropped.
        if (previous && previous.messageFile === head) {
          if (!(await isAbandoned(previous.owner))) return { state: "held", until: previous.owner.expiresAt ?? Date.now() + leaseMs };
          recovered = previous.recovered
            ? { ...previous.recovered, abandoned: previous.recovered.abandoned + 1 }
            : { claimedAt: previous.claimedAt, abandoned: 1, ...(previous.note === undefined ? {} : { note: previous.note }) };
        }
        const message = await this.read(head);
        if (!message) continue; // dropped between the listing and the read
        const owner = ownLease(lockKey(instanceId), leaseMs);
        const file: ClaimFile = { messageFile: head, owner, claimedAt: new Date().toISOString(), ...(options.note === undefined ? {} : { note: options.note }), ...(recovered ? { recovered } : {}) };
        await writeAtomic(this.claimPath(instanceId), file);
        const renewal = keepRenewed(leaseMs, () => this.renew(instanceId, owner, leaseMs));
        this.renewals.set(owner.token, renewal);
        const claim: QueueClaim = { message, token: owner.token, lost: renewal.lost, ...(recovered ? { recovered } : {}) };
        return { state: "claimed", claim };
      }
    });
  }

  async ack(claim: QueueClaim): Promise<boolean> {
    await this.stopRenewal(claim.token);
    const instanceId = claim.message.instanceId;
    return this.withLock(lockKey(instanceId), async () => {
      const current = await this.readClaim(instanceId);
      if (current?.owner.token !== claim.token) return false;
      await unlinkIfExists(path.join(this.queueDir, current.messageFile));
      await unlinkIfExists(this.claimPath(instanceId));
      return true;
    });
  }

  async release(claim: QueueClaim): Promise<void> {
    await this.stopRenewal(claim.token);
    const instanceId = claim.message.instanceId;
    await this.withLock(lockKey(instanceId), async () => {
      const current = await this.readClaim(instanceId);
      if (current?.owner.token === claim.token) await unlinkIfExists(this.claimPath(instanceId));
    });
  }

  /** Everything queued for an instance, and its claim: the instance is being deleted. */
  async removeAll(instanceId: string): Promise<void> {
    const files = await this.files(instanceId);
    await Promise.all(files.map((name) => unlinkIfExists(path.join(this.queueDir, name))));
    await unlinkIfExists(this.claimPath(instanceId));
  }

  async close(): Promise<void> {
    await Promise.all([...this.renewals.values()].map((renewal) => renewal.stop()));
    this.renewals.clear();
  }

  private renew(instanceId: string, owner: LeaseOwner, leaseMs: number): Promise<boolean> {
    return this.withLock(lockKey(instanceId), async () => {
      const current = await this.readClaim(instanceId);
      if (current?.owner.token !== owner.token || Date.now() > (current.owner.expiresAt ?? Infinity)) return false;
      await writeAtomic(this.claimPath(instanceId), { ...current, owner: { ...current.owner, expiresAt: Date.now() + leaseMs } });
      return true;
    });
  }

  private async stopRenewal(token: string): Promise<void> {
    await this.renewals.get(token)?.stop();
    this.renewals.delete(token);
  }

  private claimPath(instanceId: string): string {
    return path.join(this.claimsDir, `${instanceId}.json`);
  }

  private async readClaim(instanceId: string): Promise<ClaimFile | undefined> {
    const file = this.claimPath(instanceId);
    const value = (await readJson(file, "queue claim")) as Partial<ClaimFile> | undefined;
    if (value === undefined) return undefined;
    const owner = parseOwner(JSON.stringify(value.owner ?? null));
    if (!owner || typeof value.messageFile !== "string" || typeof value.claimedAt !== "string") {
      throw new TmuxClaudeError(
        ErrorCodes.STORE_FAILED,
        `The queue claim ${file} does not have the fields the store writes (messageFile, owner, claimedAt); something else changed it. Remove the file: its message is then delivered again.`,
        { path: file },
      );
    }
    return { ...value, owner, messageFile: value.messageFile, claimedAt: value.claimedAt };
  }

  private read(name: string): Promise<QueuedMessage | undefined> {
    return readJson(path.join(this.queueDir, name), "queued message") as Promise<QueuedMessage | undefined>;
  }

  /** Names of the queue files of one instance, oldest first. */
  private async files(instanceId: string): Promise<string[]> {
    const start = `${instanceId}@`;
    return (await listDir(this.queueDir, "the message queue")).filter((name) => name.startsWith(start) && name.endsWith(".json")).sort(compare);
  }
}

function lockKey(instanceId: string): string {
  return `queue:${instanceId}`;
}
