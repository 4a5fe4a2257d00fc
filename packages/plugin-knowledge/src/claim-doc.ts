/**
 * A hierarchy's claims as one store document (`knowledge/claims`, keyed by
 * the hierarchy's root id): every claim of the hierarchy is checked and
 * written in one atomic update, so of two overlapping claims made at once,
 * by any processes on any nodes, exactly one is granted. Updaters here are
 * pure (the store may run them again).
 */
import { overlapping } from "./paths.js";

export interface Claim {
  /** Who holds it. */
  instanceId: string;
  /** Project paths (see paths.ts). */
  paths: string[];
  /** The holder's workdir (real path), for people. */
  workDir: string;
  at: string;
}

/** A claim waiting (claim_files with wait) for the paths it overlaps to be released. */
export interface WaitingClaim extends Claim {
  /** This request's id: the waiter watches for it to be granted. */
  request: string;
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

/** Who blocks `paths` of `instanceId`: other instances' claims that overlap them (one per holder). */
export function conflictsOf(claims: readonly Claim[], instanceId: string, paths: readonly string[]): Conflict[] {
  const byHolder = new Map<string, Set<string>>();
  for (const claim of claims) {
    if (claim.instanceId === instanceId) continue;
    for (const { theirs } of overlapping(paths, claim.paths)) {
      const set = byHolder.get(claim.instanceId) ?? new Set<string>();
      set.add(theirs);
      byHolder.set(claim.instanceId, set);
    }
  }
  return [...byHolder].map(([holder, set]) => ({ holder, paths: [...set] }));
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
export function promoted(doc: ClaimsDoc): ClaimsDoc {
  let claims = doc.claims;
  const waiting: WaitingClaim[] = [];
  for (const request of doc.waiting) {
    const blockedByWaiter = waiting.some((w) => w.instanceId !== request.instanceId && overlapping(request.paths, w.paths).length > 0);
    if (blockedByWaiter || conflictsOf(claims, request.instanceId, request.paths).length > 0) {
      waiting.push(request);
      continue;
    }
    const { request: _request, ...claim } = request;
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
