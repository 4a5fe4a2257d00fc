/**
 * The embedded store's message queues and their claims.
 *
 *   queue/<instanceId>@<seq>@<msg>.json   one file per queued message (flat: one watch sees all)
 *   claims/<instanceId>.claim/owner       the claim on an instance's oldest message
 *
 * A claim is a lock directory (lock-dir.ts) that is tried once, never waited
 * for: placed complete with its owner (lease, claimed message, note) by one
 * rename, taken over from a dead or expired claimer as a lock is (its
 * tombstone keeps what it claimed, so a claimer that places its claim right
 * after another one's takeover still learns the message was claimed before).
 * Ack removes the message before the claim, so a crash between the two
 * leaves a claim of a message that is gone, which the next claimer takes over.
 */
import path from "node:path";
import { listDir, readJson, unlinkIfExists, writeAtomic } from "./file-io.js";
import { leaseMsOf, ownLease, type LeaseOwner } from "./lease-owner.js";
import { OWNERLESS_STALE_MS, isTakeable, prepareLockDir, readHolder, releaseLockDir, removeLockDir, renewLockDir, steal, tryPlace, type Holder } from "./lock-dir.js";
import { keepRenewed } from "./reentrant.js";
import { safeName } from "./safe-name.js";
import type { QueuedMessage } from "./types.js";
import type { ClaimOptions, ClaimOutcome, QueueClaim, RecoveredClaim } from "./store-contract.js";

const MAX_MESSAGE_ID_PART = 48;

/** Claims are directories `<instanceId>.claim` in claims/. */
export const CLAIM_SUFFIX = ".claim";

/** What a claim's owner file keeps besides its lease. */
interface ClaimData {
  /** Name of the claimed message's queue file. */
  messageFile: string;
  claimedAt: string;
  note?: string;
  recovered?: RecoveredClaim;
}

/** What an abandoned claim of `head` hands its successor; nothing when it claimed another message (acked, then its claimer died). */
function recoveredFrom(owner: LeaseOwner, head: string): RecoveredClaim | undefined {
  const data = (owner.data ?? {}) as Partial<ClaimData>;
  if (data.messageFile !== head || typeof data.claimedAt !== "string") return undefined;
  const earlier = data.recovered;
  if (earlier && typeof earlier.claimedAt === "string" && typeof earlier.abandoned === "number") return { ...earlier, abandoned: earlier.abandoned + 1 };
  return { claimedAt: data.claimedAt, abandoned: 1, ...(typeof data.note === "string" ? { note: data.note } : {}) };
}

function takeableAt(holder: Holder, leaseMs: number): number {
  if (holder.kind === "owned") return (holder.owner.expiresAt ?? Date.now() + leaseMs) + 1;
  if (holder.kind === "ownerless") return Date.now() + OWNERLESS_STALE_MS - holder.ageMs + 1;
  return Date.now();
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
  /** This process's claims by token: their renewals (stopped by ack, release and close) and messages. */
  private readonly claims = new Map<string, { renewal: { stop: () => Promise<void> }; messageFile: string }>();
  /**
   * Messages already read, by instance and queue file name. A queue file never
   * changes once written (its name is unique, it is written whole and only ever
   * removed), so a name read once need not be read again; which names exist is
   * always listed afresh. Without this, every send to an instance with a queue
   * and every queue change a waitDelivered sees read the whole queue again.
   */
  private readonly parsed = new Map<string, Map<string, QueuedMessage>>();

  constructor(
    private readonly queueDir: string,
    private readonly claimsDir: string,
  ) {}

  /** `seq` from nextSeq(), taken before any await, so calls made in a row keep their order. */
  async enqueue(message: QueuedMessage, seq: string): Promise<void> {
    const suffix = `@${safeName(message.id, MAX_MESSAGE_ID_PART)}.json`;
    // Queued already (the store contract: an enqueue of a queued id is a no-op).
    if ((await this.files(message.instanceId)).some((name) => name.endsWith(suffix))) return;
    await writeAtomic(path.join(this.queueDir, `${message.instanceId}@${seq}${suffix}`), message);
  }

  async queue(instanceId: string): Promise<QueuedMessage[]> {
    const files = await this.files(instanceId);
    const known = this.parsed.get(instanceId);
    const listed = new Map<string, QueuedMessage>();
    const messages = await Promise.all(
      files.map(async (name) => {
        const message = known?.get(name) ?? (await this.read(name));
        if (message) listed.set(name, message);
        return message;
      }),
    );
    // Only what is listed now is kept: removed messages are forgotten.
    if (listed.size) this.parsed.set(instanceId, listed);
    else this.parsed.delete(instanceId);
    // Copies: a caller changing a message must not change what the next call returns.
    return messages.filter((message): message is QueuedMessage => message !== undefined).map((message) => ({ ...message }));
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

  async claim(instanceId: string, options: ClaimOptions = {}): Promise<ClaimOutcome> {
    const leaseMs = leaseMsOf(options.leaseMs);
    const claimPath = this.claimPath(instanceId);
    for (;;) {
      const [head] = await this.files(instanceId);
      if (head === undefined) return { state: "empty" };
      const holder = await readHolder(claimPath);
      let recovered: RecoveredClaim | undefined;
      if (holder.kind !== "gone") {
        // A live claimer (of this message, or of one it is acking) ends its claim soon: the claims watch says when.
        if (!(await isTakeable(holder))) return { state: "held", until: takeableAt(holder, leaseMs) };
        recovered = holder.kind === "owned" ? recoveredFrom(holder.owner, head) : undefined;
        await steal(claimPath, holder);
      }
      const data: ClaimData = { messageFile: head, claimedAt: new Date().toISOString(), ...(options.note === undefined ? {} : { note: options.note }), ...(recovered ? { recovered } : {}) };
      const owner = ownLease(`claim:${instanceId}`, leaseMs, { ...data });
      const tmp = await prepareLockDir(claimPath, owner);
      if ((await tryPlace(tmp, claimPath)) !== "placed") {
        // Another claimer came first (or took the dead one over first): look again.
        await removeLockDir(tmp);
        continue;
      }
      const message = await this.read(head);
      if (!message) {
        // Dropped between the listing and the claim.
        await releaseLockDir(claimPath, owner.token).catch(() => undefined);
        continue;
      }
      if (!recovered) {
        // Another claimer may have taken a dead claim of this message over just before we looked, and lost the race to us.
        recovered = await this.abandonedClaimOf(instanceId, head);
        if (recovered) {
          owner.data = { ...data, recovered };
          await renewLockDir(claimPath, owner, leaseMs);
        }
      }
      const renewal = keepRenewed(leaseMs, () => renewLockDir(claimPath, owner, leaseMs));
      this.claims.set(owner.token, { renewal, messageFile: head });
      return { state: "claimed", claim: { message, token: owner.token, lost: renewal.lost, ...(recovered ? { recovered } : {}) } };
    }
  }

  async ack(claim: QueueClaim): Promise<boolean> {
    const mine = await this.endRenewal(claim.token);
    const claimPath = this.claimPath(claim.message.instanceId);
    const holder = await readHolder(claimPath);
    // Taken over after our lease ran out: the new claimer finds the evidence and does not deliver it again.
    if (!mine || holder.kind !== "owned" || holder.owner.token !== claim.token) return false;
    await unlinkIfExists(path.join(this.queueDir, mine.messageFile));
    await releaseLockDir(claimPath, claim.token);
    return true;
  }

  async release(claim: QueueClaim): Promise<void> {
    await this.endRenewal(claim.token);
    const claimPath = this.claimPath(claim.message.instanceId);
    const holder = await readHolder(claimPath);
    if (holder.kind === "owned" && holder.owner.token === claim.token) await releaseLockDir(claimPath, claim.token);
  }

  /** Everything queued for an instance, and its claim: the instance is being deleted. */
  async removeAll(instanceId: string): Promise<void> {
    this.parsed.delete(instanceId);
    const files = await this.files(instanceId);
    await Promise.all(files.map((name) => unlinkIfExists(path.join(this.queueDir, name))));
    await removeLockDir(this.claimPath(instanceId));
  }

  async close(): Promise<void> {
    await Promise.all([...this.claims.values()].map((claim) => claim.renewal.stop()));
    this.claims.clear();
    this.parsed.clear();
  }

  private async endRenewal(token: string): Promise<{ messageFile: string } | undefined> {
    const mine = this.claims.get(token);
    this.claims.delete(token);
    await mine?.renewal.stop();
    return mine;
  }

  /** A claim of `head` taken over from a dead claimer, found by its tombstone (kept until init cleans old ones). */
  private async abandonedClaimOf(instanceId: string, head: string): Promise<RecoveredClaim | undefined> {
    const prefix = `${instanceId}${CLAIM_SUFFIX}.`;
    const tombstones = (await listDir(this.claimsDir, "queue claims")).filter((name) => name.startsWith(prefix) && /^[A-Za-z0-9_-]+\.dead$/u.test(name.slice(prefix.length)));
    for (const name of tombstones) {
      const holder = await readHolder(path.join(this.claimsDir, name));
      const recovered = holder.kind === "owned" ? recoveredFrom(holder.owner, head) : undefined;
      if (recovered) return recovered;
    }
    return undefined;
  }

  private claimPath(instanceId: string): string {
    return path.join(this.claimsDir, `${instanceId}${CLAIM_SUFFIX}`);
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
