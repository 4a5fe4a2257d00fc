/**
 * A hierarchy's claims as one store document (`knowledge/claims`, keyed by
 * the hierarchy's root id): every claim of the hierarchy is checked and
 * written in one atomic update, so of two overlapping claims made at once,
 * by any processes on any nodes, exactly one is granted. Updaters here are
 * pure (the store may run them again).
 */
import { overlapping } from "./paths.js";
import { inProject, seenFrom } from "./project.js";

export interface Claim {
  /** Who holds it. */
  instanceId: string;
  /** Project paths (see paths.ts), relative to `base`: as the holder named them. */
  paths: string[];
  /** The holder's workdir (real path), for people. */
  workDir: string;
  /**
   * The holder's workdir in the hierarchy's project space (project.ts): a
   * worktree's maps to the directory it was made from. Paths are compared as
   * `base` + path. Absent in documents written before it: `workDir`.
   */
  base?: string;
  at: string;
}

/** A claim waiting (claim_files with wait) for the paths it overlaps to be released. */
export interface WaitingClaim extends Claim {
  /** This request's id: the waiter watches for it to be granted. */
  request: string;
  /**
   * Its lease (ISO time): the waiter's deadline. A request left behind by a
   * waiter that went away without withdrawing it (its process died) is never
   * granted after it; the next update drops it. A request without one (left
   * by an earlier version) counts as expired.
   */
  expiresAt?: string;
}

export interface ClaimsDoc {
  hierarchy: string;
  claims: Claim[];
  waiting: WaitingClaim[];
}

export interface Conflict {
  holder: string;
  /** The holder's paths that overlap the request. */
  paths: string[];
}

/** A claim's paths as absolute project-space paths, the form claims are compared in. */
export function absolutePaths(claim: Pick<Claim, "paths" | "workDir" | "base">): string[] {
  return claim.paths.map((p) => inProject(claim.base ?? claim.workDir, p));
}

/**
 * Who blocks `request` (its paths relative to its base): other instances'
 * claims that overlap them, one per holder, the holder's paths as the
 * requester sees them (relative to its workdir when inside it).
 */
export function conflictsOf(claims: readonly Claim[], request: Pick<Claim, "instanceId" | "paths" | "workDir" | "base">): Conflict[] {
  const mine = absolutePaths(request);
  const viewer = request.base ?? request.workDir;
  const byHolder = new Map<string, Set<string>>();
  for (const claim of claims) {
    if (claim.instanceId === request.instanceId) continue;
    for (const { theirs } of overlapping(mine, absolutePaths(claim))) {
      const set = byHolder.get(claim.instanceId) ?? new Set<string>();
      set.add(seenFrom(viewer, theirs));
      byHolder.set(claim.instanceId, set);
    }
  }
  return [...byHolder].map(([holder, set]) => ({ holder, paths: [...set] }));
}

/**
 * A cycle of waits `request` would close: its holders wait (in `waiting`) for
 * claims that, through other waiters, lead back to the requester. The holder
 * it would wait for first in such a chain, or undefined.
 */
export function deadlockWith(doc: ClaimsDoc, request: Pick<Claim, "instanceId" | "paths" | "workDir" | "base">): string | undefined {
  const blockers = (waiter: string) =>
    doc.waiting.filter((w) => w.instanceId === waiter).flatMap((w) => conflictsOf(doc.claims, w).map((c) => c.holder));
  for (const { holder } of conflictsOf(doc.claims, request)) {
    const seen = new Set<string>();
    const stack = [holder];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (next === request.instanceId) return holder;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...blockers(next));
    }
  }
  return undefined;
}

/** The holder's claim with `paths` added (one claim per instance). */
export function withClaim(claims: readonly Claim[], claim: Claim): Claim[] {
  const own = claims.find((c) => c.instanceId === claim.instanceId);
  if (!own) return [...claims, claim];
  const paths = [...own.paths, ...claim.paths.filter((p) => !own.paths.includes(p))];
  return claims.map((c) => (c === own ? { ...own, paths, at: claim.at } : c));
}

/**
 * Grant waiting requests that fit now, oldest first: one is granted when no
 * claim overlaps it and no older request still waiting does (so a waiter is
 * not overtaken by a later one for the same files).
 */
export function promoted(doc: ClaimsDoc, now: number = Date.now()): ClaimsDoc {
  let claims = doc.claims;
  const waiting: WaitingClaim[] = [];
  for (const request of doc.waiting) {
    // An expired lease: its waiter is no longer listening; dropped, never granted.
    if (request.expiresAt === undefined || Date.parse(request.expiresAt) <= now) continue;
    const blockedByWaiter = waiting.some((w) => w.instanceId !== request.instanceId && overlapping(absolutePaths(request), absolutePaths(w)).length > 0);
    if (blockedByWaiter || conflictsOf(claims, request).length > 0) {
      waiting.push(request);
      continue;
    }
    const { request: _request, expiresAt: _expiresAt, ...claim } = request;
    claims = withClaim(claims, claim);
  }
  return { ...doc, claims, waiting };
}

/** The document without what `ended` instances held or waited for, waiters promoted; unchanged (the same object) when they had nothing. */
export function withoutHolders(doc: ClaimsDoc, ended: ReadonlySet<string>): ClaimsDoc {
  if (!doc.claims.some((c) => ended.has(c.instanceId)) && !doc.waiting.some((w) => ended.has(w.instanceId))) return doc;
  return promoted({ ...doc, claims: doc.claims.filter((c) => !ended.has(c.instanceId)), waiting: doc.waiting.filter((w) => !ended.has(w.instanceId)) });
}

/** `instanceId`'s claim without `paths` (all of it without), waiters promoted; `released` gets what was let go. */
export function withRelease(doc: ClaimsDoc, instanceId: string, paths: readonly string[] | undefined, released: string[]): ClaimsDoc {
  released.length = 0;
  const claims = doc.claims.flatMap((claim) => {
    if (claim.instanceId !== instanceId) return [claim];
    const gone = paths === undefined ? claim.paths : claim.paths.filter((p) => paths.includes(p));
    released.push(...gone);
    const kept = claim.paths.filter((p) => !gone.includes(p));
    return kept.length > 0 ? [{ ...claim, paths: kept }] : [];
  });
  if (released.length === 0) return doc;
  return promoted({ ...doc, claims });
}
