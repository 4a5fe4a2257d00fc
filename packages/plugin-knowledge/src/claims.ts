/**
 * File claims: an instance claims the paths it will edit; an overlapping
 * claim of another live instance of its hierarchy is refused naming the
 * holder (or waits, when asked). Claims end with their instance: the plugin's
 * taps release them when it is terminated, exits or its spawn failed, and a
 * claim whose holder is found gone at claim time is dropped.
 */
import { randomUUID } from "node:crypto";
import { ErrorCodes, TmuxClaudeError, type KernelApi, type PluginData } from "@tmux-claude/core";
import { conflictsOf, promoted, withClaim, withoutHolders, withRelease, type Claim, type ClaimsDoc, type Conflict } from "./claim-doc.js";
import { KnowledgeErrors } from "./errors.js";
import { rootOf } from "./hierarchy.js";
import { projectPath, realWorkDir } from "./paths.js";

export interface ClaimRequest {
  paths: string[];
  /** Wait (up to timeoutMs) for the overlapping claims to be released instead of being refused. */
  wait?: boolean;
  timeoutMs?: number;
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
    const claim: Claim = { instanceId, paths, workDir, at: new Date().toISOString() };
    const requestId = randomUUID();
    let conflicts: Conflict[] = [];
    const stored = await this.docs.update(hierarchy, (current) => {
      const doc = withoutHolders(current ?? { hierarchy, claims: [], waiting: [] }, ended);
      conflicts = conflictsOf(doc.claims, instanceId, paths);
      if (conflicts.length === 0) return { ...doc, claims: withClaim(doc.claims, claim) };
      return request.wait ? { ...doc, waiting: [...doc.waiting, { ...claim, request: requestId }] } : doc;
    });
    if (conflicts.length === 0) return this.result(hierarchy, instanceId, paths, stored);
    if (!request.wait) throw conflictError(instanceId, paths, conflicts);
    return this.waitFor(hierarchy, instanceId, paths, requestId, request.timeoutMs ?? this.defaultWaitMs, conflicts);
  }

  /** Let go of `paths` (all without), granting waiters they blocked; resolves with what was released. */
  async release(instanceId: string, rawPaths?: string[]): Promise<{ hierarchy: string; released: string[] }> {
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

  /** An instance ended (terminated, exited, its spawn failed): drop what it held or waited for, in every hierarchy (its record may be gone). */
  async ended(instanceId: string): Promise<void> {
    const ids = new Set([instanceId]);
    for (const { key, value } of await this.docs.list()) {
      if (value.claims.some((c) => c.instanceId === instanceId) || value.waiting.some((w) => w.instanceId === instanceId)) {
        await this.docs.update(key, (current) => (current ? withoutHolders(current, ids) : current));
      }
    }
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
        const record = await this.kernel.get(id).catch(() => undefined);
        if (!record || record.status === "exited") ended.add(id);
      }),
    );
    return ended;
  }

  /** Wait for request `requestId` to be granted by a release (any process), watching the document; at the timeout withdraw it and refuse. */
  private async waitFor(hierarchy: string, instanceId: string, paths: string[], requestId: string, timeoutMs: number, conflicts: Conflict[]): Promise<ClaimResult> {
    const started = Date.now();
    const granted = (doc: ClaimsDoc | undefined) => doc !== undefined && !doc.waiting.some((w) => w.request === requestId);
    // Bumped by every change of the document, so a change between a read and the wait is not missed.
    let version = 0;
    let notify: (() => void) | undefined;
    const watch = this.docs.watch((key) => {
      if (key !== hierarchy) return;
      version++;
      notify?.();
    });
    try {
      await watch.ready;
      const deadline = started + timeoutMs;
      for (;;) {
        const seen = version;
        const doc = await this.docs.get(hierarchy);
        // Its holders may have ended unseen (a kill -9 with no serve): check them while waiting, as a new claim would.
        const ended = doc ? await this.endedHolders(doc, instanceId) : new Set<string>();
        const settled = ended.size > 0 ? await this.docs.update(hierarchy, (current) => (current ? withoutHolders(current, ended) : current)) : doc;
        if (granted(settled)) return { ...this.result(hierarchy, instanceId, paths, settled), waitedMs: Date.now() - started };
        const left = deadline - Date.now();
        if (left <= 0) break;
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
      watch.stop();
    }
    // Withdrawn, unless a release granted it in between.
    let stillWaiting = false;
    const final = await this.docs.update(hierarchy, (current) => {
      stillWaiting = current?.waiting.some((w) => w.request === requestId) ?? false;
      return current && stillWaiting ? promoted({ ...current, waiting: current.waiting.filter((w) => w.request !== requestId) }) : current;
    });
    if (!stillWaiting) return { ...this.result(hierarchy, instanceId, paths, final), waitedMs: Date.now() - started };
    const now = final ? conflictsOf(final.claims, instanceId, paths) : conflicts;
    throw conflictError(instanceId, paths, now.length > 0 ? now : conflicts, timeoutMs);
  }

  private result(hierarchy: string, instanceId: string, claimed: string[], doc: ClaimsDoc | undefined): ClaimResult {
    return { hierarchy, instanceId, claimed, holds: doc?.claims.find((c) => c.instanceId === instanceId)?.paths ?? claimed };
  }
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
