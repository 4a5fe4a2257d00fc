/**
 * File claims: an instance claims the paths it will edit; an overlapping
 * claim of another live instance of its hierarchy is refused naming the
 * holder (or waits, when asked). Claims end with their instance: the plugin's
 * taps release them when it is terminated, exits or its spawn failed, and a
 * claim whose holder is found gone at claim time is dropped.
 */
import { randomUUID } from "node:crypto";
import { ErrorCodes, TmuxClaudeError, type KernelApi, type PluginData } from "@tmux-claude/core";
import { conflictsOf, deadlockWith, promoted, withClaim, withoutHolders, withRelease, type Claim, type ClaimsDoc, type Conflict } from "./claim-doc.js";
import { KnowledgeErrors } from "./errors.js";
import { recordOrGone, rootOf } from "./hierarchy.js";
import { projectPath, realWorkDir } from "./paths.js";
import { projectDir } from "./project.js";

export interface ClaimRequest {
  paths: string[];
  /** Wait (up to timeoutMs) for the overlapping claims to be released instead of being refused. */
  wait?: boolean;
  timeoutMs?: number;
  /** Withdraws a waiting request when aborted (the tool call was cancelled). */
  signal?: AbortSignal;
}

export interface ClaimResult {
  hierarchy: string;
  instanceId: string;
  /** The project paths claimed by this call. */
  claimed: string[];
  /** Everything the instance holds now. */
  holds: string[];
  /** How long the claim waited (wait: true), in ms. */
  waitedMs?: number;
}

/** Most paths one claim may name. */
export const MAX_PATHS = 100;

export class Claims {
  constructor(
    private readonly kernel: KernelApi,
    private readonly docs: PluginData<ClaimsDoc>,
    private readonly defaultWaitMs: number,
    /** Aborted when the kernel closes: every wait withdraws its request. */
    private readonly closing: AbortSignal,
  ) {}

  async claim(instanceId: string, request: ClaimRequest): Promise<ClaimResult> {
    const record = await this.kernel.get(instanceId);
    if (record.status === "exited") throw new TmuxClaudeError(ErrorCodes.INSTANCE_EXITED, `Instance "${instanceId}" has exited; an exited instance holds no claims. Restart it first.`, { id: instanceId });
    if (!Array.isArray(request.paths) || request.paths.length === 0 || request.paths.length > MAX_PATHS) {
      throw new TmuxClaudeError(KnowledgeErrors.BAD_PATH, `claim_files takes 1 to ${MAX_PATHS} paths, got ${Array.isArray(request.paths) ? request.paths.length : JSON.stringify(request.paths)}. Claim a directory or a glob ("src/auth/**") for many files.`, {});
    }
    const workDir = await realWorkDir(record.workDir);
    const paths = [...new Set(await Promise.all(request.paths.map((raw) => projectPath(workDir, raw))))];
    const hierarchy = await rootOf(this.kernel, instanceId);
    const ended = await this.endedHolders(await this.docs.get(hierarchy), instanceId);
    const now = Date.now();
    const claim: Claim = { instanceId, paths, workDir, base: await projectDir(this.kernel, record), at: new Date(now).toISOString() };
    const requestId = randomUUID();
    const timeoutMs = request.timeoutMs ?? this.defaultWaitMs;
    let conflicts: Conflict[] = [];
    let deadlock: string | undefined;
    const stored = await this.docs.update(hierarchy, (current) => {
      // Expired leases go first: a dead waiter's request blocks nobody.
      const doc = promoted(withoutHolders(current ?? { hierarchy, claims: [], waiting: [] }, ended), now);
      conflicts = conflictsOf(doc.claims, claim);
      deadlock = undefined;
      if (conflicts.length === 0) return { ...doc, claims: withClaim(doc.claims, claim) };
      if (!request.wait) return doc;
      deadlock = deadlockWith(doc, claim);
      if (deadlock !== undefined) return doc;
      return { ...doc, waiting: [...doc.waiting, { ...claim, request: requestId, expiresAt: new Date(now + timeoutMs).toISOString() }] };
    });
    // The instance may have ended while this was written (its end already released what it held): undo, so nothing is left behind.
    await this.stillLive(instanceId);
    if (conflicts.length === 0) return this.result(hierarchy, instanceId, paths, stored);
    if (deadlock !== undefined) throw deadlockError(instanceId, paths, conflicts, deadlock);
    if (!request.wait) throw conflictError(instanceId, paths, conflicts);
    return this.waitFor(hierarchy, claim, requestId, timeoutMs, conflicts, request.signal);
  }

  /** Throws (having dropped what the instance holds or waits for) when `instanceId` is gone or exited. */
  private async stillLive(instanceId: string): Promise<void> {
    const record = await recordOrGone(this.kernel, instanceId);
    if (record && record.status !== "exited") return;
    await this.ended(instanceId);
    throw record
      ? new TmuxClaudeError(ErrorCodes.INSTANCE_EXITED, `Instance "${instanceId}" exited while its claim was written; the claim was undone. Restart it first.`, { id: instanceId })
      : new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `Instance "${instanceId}" was terminated while its claim was written; the claim was undone.`, { id: instanceId });
  }

  /** Let go of `paths` (all without), granting waiters they blocked; resolves with what was released. */
  async release(instanceId: string, rawPaths?: string[]): Promise<{ hierarchy: string; released: string[] }> {
    if ((await recordOrGone(this.kernel, instanceId)) === undefined) return this.releaseGone(instanceId);
    const hierarchy = await rootOf(this.kernel, instanceId);
    let paths: string[] | undefined;
    if (rawPaths !== undefined) {
      const workDir = await realWorkDir((await this.kernel.get(instanceId)).workDir);
      paths = await Promise.all(rawPaths.map((raw) => projectPath(workDir, raw)));
    }
    const released: string[] = [];
    await this.docs.update(hierarchy, (current) => (current ? withRelease(current, instanceId, paths, released) : current));
    return { hierarchy, released: [...released] };
  }

  /** An instance with no record (terminated; its claim raced its end): drop whatever it still holds, in every hierarchy. */
  private async releaseGone(instanceId: string): Promise<{ hierarchy: string; released: string[] }> {
    const held = (await this.docs.list()).filter(({ value }) => value.claims.some((c) => c.instanceId === instanceId) || value.waiting.some((w) => w.instanceId === instanceId));
    if (held.length === 0) throw new TmuxClaudeError(ErrorCodes.INSTANCE_NOT_FOUND, `Instance "${instanceId}" does not exist and holds no claims. See tmux-claude knowledge for who holds what.`, { id: instanceId });
    const released = held.flatMap(({ value }) => value.claims.filter((c) => c.instanceId === instanceId).flatMap((c) => c.paths));
    await this.ended(instanceId);
    return { hierarchy: held[0]!.key, released };
  }

  /** An instance ended (terminated, exited, its spawn failed): drop what it held or waited for, in every hierarchy (its record may be gone). */
  async ended(instanceId: string): Promise<void> {
    const ids = new Set([instanceId]);
    for (const { key, value } of await this.docs.list()) {
      if (value.claims.some((c) => c.instanceId === instanceId) || value.waiting.some((w) => w.instanceId === instanceId)) {
        await this.docs.update(key, (current) => (current ? withoutHolders(current, ids) : current));
      }
    }
  }

  /** Drop a hierarchy's claims document (its top-level instance is gone). */
  async drop(hierarchy: string): Promise<void> {
    await this.docs.delete(hierarchy);
  }

  /** Every hierarchy's claims (only `hierarchy`'s when given). */
  async all(hierarchy?: string): Promise<ClaimsDoc[]> {
    if (hierarchy !== undefined) {
      const doc = await this.docs.get(hierarchy);
      return doc ? [doc] : [];
    }
    return (await this.docs.list()).map(({ value }) => value);
  }

  /** Holders in the document other than `self` whose instance is gone or exited (a kill nobody saw). */
  private async endedHolders(doc: ClaimsDoc | undefined, self: string): Promise<Set<string>> {
    const holders = new Set([...(doc?.claims ?? []), ...(doc?.waiting ?? [])].map((c) => c.instanceId).filter((id) => id !== self));
    const ended = new Set<string>();
    await Promise.all(
      [...holders].map(async (id) => {
        const record = await recordOrGone(this.kernel, id);
        if (!record || record.status === "exited") ended.add(id);
      }),
    );
    return ended;
  }

  /**
   * Wait for request `requestId` to be granted by a release (any process),
   * watching the document; at the timeout, when `signal` aborts (the call was
   * cancelled) or the kernel closes, withdraw it and refuse.
   */
  private async waitFor(hierarchy: string, claim: Claim, requestId: string, timeoutMs: number, conflicts: Conflict[], signal: AbortSignal | undefined): Promise<ClaimResult> {
    const { instanceId, paths } = claim;
    const started = Date.now();
    const granted = (doc: ClaimsDoc | undefined) => doc !== undefined && !doc.waiting.some((w) => w.request === requestId);
    const stop = signal ? AbortSignal.any([signal, this.closing]) : this.closing;
    // Bumped by every change of the document, so a change between a read and the wait is not missed.
    let version = 0;
    let notify: (() => void) | undefined;
    const watch = this.docs.watch((key) => {
      if (key !== hierarchy) return;
      version++;
      notify?.();
    });
    const onStop = () => notify?.();
    stop.addEventListener("abort", onStop);
    try {
      await watch.ready;
      const deadline = started + timeoutMs;
      while (!stop.aborted) {
        const seen = version;
        const doc = await this.docs.get(hierarchy);
        // Its holders may have ended unseen (a kill -9 with no serve): check them while waiting, as a new claim would.
        const ended = doc ? await this.endedHolders(doc, instanceId) : new Set<string>();
        const settled = ended.size > 0 ? await this.docs.update(hierarchy, (current) => (current ? withoutHolders(current, ended) : current)) : doc;
        if (granted(settled)) return { ...this.result(hierarchy, instanceId, paths, settled), waitedMs: Date.now() - started };
        const left = deadline - Date.now();
        if (left <= 0 || stop.aborted) break;
        await new Promise<void>((resolve) => {
          if (version !== seen) return resolve();
          const timer = setTimeout(resolve, left);
          notify = () => {
            clearTimeout(timer);
            notify = undefined;
            resolve();
          };
        });
        notify = undefined;
      }
    } finally {
      stop.removeEventListener("abort", onStop);
      watch.stop();
    }
    // Withdrawn, unless a release granted it in between.
    let stillWaiting = false;
    const final = await this.docs.update(hierarchy, (current) => {
      stillWaiting = current?.waiting.some((w) => w.request === requestId) ?? false;
      return current && stillWaiting ? promoted({ ...current, waiting: current.waiting.filter((w) => w.request !== requestId) }) : current;
    });
    if (!stillWaiting && granted(final) && final!.claims.some((c) => c.instanceId === instanceId)) {
      if (!stop.aborted) return { ...this.result(hierarchy, instanceId, paths, final), waitedMs: Date.now() - started };
      // Granted just as the call was cancelled: nobody would know it holds them, so let them go again.
      await this.docs.update(hierarchy, (current) => (current ? withRelease(current, instanceId, paths, []) : current));
    }
    if (stop.aborted) {
      const why = signal?.aborted ? "the call was cancelled" : "the kernel is closing";
      throw new TmuxClaudeError(KnowledgeErrors.CLAIM_CANCELLED, `Claim of ${paths.map((p) => `"${p}"`).join(", ")} by "${instanceId}" withdrawn after waiting ${Date.now() - started} ms: ${why}. Claim again when you need them.`, { instanceId, paths });
    }
    const now = final ? conflictsOf(final.claims, claim) : conflicts;
    throw conflictError(instanceId, paths, now.length > 0 ? now : conflicts, timeoutMs);
  }

  private result(hierarchy: string, instanceId: string, claimed: string[], doc: ClaimsDoc | undefined): ClaimResult {
    return { hierarchy, instanceId, claimed, holds: doc?.claims.find((c) => c.instanceId === instanceId)?.paths ?? claimed };
  }
}

function deadlockError(instanceId: string, paths: string[], conflicts: Conflict[], holder: string): TmuxClaudeError {
  const held = conflicts.find((c) => c.holder === holder)?.paths ?? [];
  return new TmuxClaudeError(
    KnowledgeErrors.CLAIM_CONFLICT,
    `Claim of ${paths.map((p) => `"${p}"`).join(", ")} by "${instanceId}" refused without waiting: "${holder}" holds ${held.map((p) => `"${p}"`).join(", ")} and is itself waiting (directly or through others) for paths "${instanceId}" holds, so both would wait forever. Release what you hold first (release_files), or ask "${holder}" to release.`,
    { instanceId, paths, holders: conflicts, deadlock: holder },
  );
}

function conflictError(instanceId: string, paths: string[], conflicts: Conflict[], waitedMs?: number): TmuxClaudeError {
  const holders = conflicts.map((c) => `"${c.holder}" holds ${c.paths.map((p) => `"${p}"`).join(", ")}`).join("; ");
  const waited = waitedMs !== undefined ? ` after waiting ${waitedMs} ms` : "";
  return new TmuxClaudeError(
    KnowledgeErrors.CLAIM_CONFLICT,
    `Claim of ${paths.map((p) => `"${p}"`).join(", ")} by "${instanceId}" refused${waited}: ${holders}. Work on other files, ask the holder to release_files, or claim with wait: true to queue until they are free.`,
    { instanceId, paths, holders: conflicts },
  );
}
