// One AI conflict resolution, verified: a scratch worktree holding the
// conflicted merge, a resolver instance working in it, then the checks (no
// markers, verify passes) before a two-parent merge commit is handed back.
// Whatever happens, the resolver is terminated, the scratch worktree removed
// and the attempt logged.
import { ErrorCodes, isTmuxClaudeError, type KernelApi } from "@tmux-claude/core";
import type { Logger } from "pino";
import { gitValue, runGit } from "../git/run.js";
import { commitTree } from "../merge/commits.js";
import { verifyArgv, verifyCommit, type VerifyResult } from "../merge/verify.js";
import type { ConflictFile } from "../types.js";
import { appendResolution, type RejectionReason, type ResolutionRecord } from "./log.js";
import type { ResolverOptions } from "./options.js";
import { conflictViews, resolverPrompt, type ConflictView } from "./prompt.js";
import { commitMessages, openConflictedMerge, removeScratch, scratchRoot, type ConflictedMerge } from "./scratch.js";

export interface ResolveRequest {
  /** The repository (any worktree of it). */
  readonly repo: string;
  /** The branch merged into (ours); it is read, never moved here. */
  readonly target: string;
  /** The branch merged (theirs). */
  readonly source: string;
  /** Merge exactly these commits (the merge queue pins them for its compare-and-swap); default: the branches' heads now. */
  readonly targetCommit?: string;
  readonly sourceCommit?: string;
  /** The merge commit's message (a line naming the resolver is added); default `Merge <source> into <target>`. */
  readonly message?: string;
  /** A squash merge: the commit's only parent is the target's. */
  readonly squash?: boolean;
  /** The conflicts as merge-tree described them (kinds, messages); the hunks are read from the scratch merge. */
  readonly conflicts?: readonly ConflictFile[];
  /** Run on the resolved commit in a scratch worktree (`"npm test"` or an argv); the resolution is rejected when it fails. */
  readonly verify?: string | readonly string[];
  /** Default: resolver.verifyTimeoutMs. */
  readonly verifyTimeoutMs?: number;
  /** The instances whose branches these are: their names, roles and last replies tell the resolver each side's intent. */
  readonly instanceIds?: { readonly source?: string; readonly target?: string };
  /** Each side's intent in words, when the caller knows it better than the instance records. */
  readonly intents?: { readonly source?: string; readonly target?: string };
}

interface Shared {
  readonly files: readonly string[];
  readonly hunks: number;
  /** The resolver's last reply (its account of the resolution). */
  readonly reply?: string;
  readonly resolverId?: string;
  readonly verify?: VerifyResult;
}

/** An accepted resolution: a merge commit of `targetCommit` and `sourceCommit` (a squash: of `targetCommit`) that no ref points to yet. */
export interface AcceptedResolution extends Shared {
  readonly accepted: true;
  readonly commit: string;
  /** Move the target from exactly this commit (update-ref's old value), or the merge is stale. */
  readonly targetCommit: string;
  readonly sourceCommit: string;
}

export interface RejectedResolution extends Shared {
  readonly accepted: false;
  readonly reason: RejectionReason;
  /** What was wrong, for the merge's report: the files with markers, verify's output, the resolver's state. */
  readonly detail: string;
}

export type ResolveOutcome = AcceptedResolution | RejectedResolution;

export interface ResolveDeps {
  readonly kernel: KernelApi;
  readonly logger: Logger;
  readonly options: ResolverOptions;
}

/**
 * Resolve the conflicts of merging `source` into `target` with a resolver
 * instance. Bad input (an unknown branch, a merge without conflicts, a verify
 * that is no argv) throws before anything is made; everything after is an
 * outcome, logged to `<stateDir>/git/resolutions.jsonl`.
 */
export async function resolveConflicts(deps: ResolveDeps, request: ResolveRequest): Promise<ResolveOutcome> {
  const verify = request.verify === undefined ? undefined : verifyArgv(request.verify);
  const started = Date.now();
  const pinned = { target: request.targetCommit, source: request.sourceCommit };
  const merge = await openConflictedMerge(request.repo, scratchRoot(deps.kernel.stateDir), request.target, request.source, pinned);
  let outcome: ResolveOutcome | undefined;
  let views: ConflictView[] = [];
  try {
    views = await conflictViews(merge.dir, merge.unmerged, request.conflicts);
    outcome = await attempt(deps, request, merge, views, verify);
    return outcome;
  } catch (error) {
    // A failure of the machinery (git, the store) is not the resolver's verdict: it is thrown, and logged as unfinished.
    outcome = rejected(views, "error", `the resolution could not be carried out: ${error instanceof Error ? error.message : String(error)}`, {});
    throw error;
  } finally {
    await removeScratch(request.repo, merge.dir).catch((error: unknown) => deps.logger.warn({ err: error, dir: merge.dir }, "could not remove a resolution's scratch worktree"));
    if (outcome) await log(deps, request, merge, outcome, Date.now() - started);
  }
}

async function attempt(deps: ResolveDeps, request: ResolveRequest, merge: ConflictedMerge, views: ConflictView[], verifyArgs: string[] | undefined): Promise<ResolveOutcome> {
  const sourceRecord = request.instanceIds?.source ? await deps.kernel.get(request.instanceIds.source).catch(() => undefined) : undefined;
  // The branch merged into is usually the source instance's parent's.
  const targetId = request.instanceIds?.target ?? sourceRecord?.parentId ?? undefined;
  const prompt = resolverPrompt({
    dir: merge.dir,
    source: request.source,
    target: request.target,
    conflicts: views,
    sourceLog: await commitMessages(request.repo, merge.targetCommit, merge.sourceCommit),
    targetLog: await commitMessages(request.repo, merge.sourceCommit, merge.targetCommit),
    sourceIntent: request.intents?.source ?? (await intentOf(deps.kernel, request.instanceIds?.source)),
    targetIntent: request.intents?.target ?? (await intentOf(deps.kernel, targetId)),
    verify: verifyArgs?.join(" "),
    instructions: deps.options.prompt,
  });
  const turn = await runResolver(deps, merge.dir, prompt, `resolve ${request.source} into ${request.target}`);
  const base = { reply: turn.reply, resolverId: turn.id };
  if (!turn.ok) return rejected(views, turn.reason, turn.detail, base);

  await runGit(merge.dir, ["add", "-A"]);
  const markers = await leftoverMarkers(merge.dir, merge.targetCommit);
  if (markers.length > 0) return rejected(views, "markers", `conflict markers remain in ${markers.join(", ")}`, base);
  const tree = await gitValue(merge.dir, ["write-tree"]);
  const parents = request.squash ? [merge.targetCommit] : [merge.targetCommit, merge.sourceCommit];
  const message = mergeMessage(request, views, turn.id, verifyArgs);
  // A commit no ref points to: until verify passes and the merge part moves the target, it is only an object.
  const commit = await commitTree(merge.dir, tree, parents, message);
  const resolved = { accepted: true as const, commit, targetCommit: merge.targetCommit, sourceCommit: merge.sourceCommit, files: views.map((v) => v.path), hunks: hunkTotal(views), ...base };
  if (!verifyArgs) return resolved;
  const verify = await verifyCommit(request.repo, commit, verifyArgs, request.verifyTimeoutMs ?? deps.options.verifyTimeoutMs, scratchRoot(deps.kernel.stateDir));
  if (!verify.ok) {
    const how = verify.timedOut ? "timed out" : `exited ${verify.code ?? "without a code"}`;
    return rejected(views, "verify", `verify (${verify.argv.join(" ")}) ${how} on the resolved merge:\n${verify.output.trim()}`, { ...base, verify });
  }
  return { ...resolved, verify };
}

type Turn = { ok: true; id: string; reply?: string } | { ok: false; id?: string; reply?: string; reason: RejectionReason; detail: string };

/** Spawn the resolver in the scratch worktree, wait for its turn to end, and terminate it. */
async function runResolver(deps: ResolveDeps, dir: string, prompt: string, name: string): Promise<Turn> {
  const { kernel, options } = deps;
  let id: string;
  try {
    // isolation "none": the resolver works in the scratch worktree itself, not in one of its own.
    const spawned = await kernel.spawn({ role: options.role, agent: options.agent, workDir: dir, name, prompt, plugins: { git: { isolation: "none" } } });
    id = spawned.instance.id;
  } catch (error) {
    return { ok: false, reason: "resolver", detail: `the resolver (agent "${options.agent}", role "${options.role}") could not be spawned: ${messageOf(error)}` };
  }
  try {
    const result = await kernel.read(id, { wait: true, timeoutMs: options.timeoutMs, lines: 20 });
    if (result.status === "idle") return { ok: true, id, reply: result.lastReply };
    return {
      ok: false,
      id,
      reply: result.lastReply,
      reason: "resolver",
      detail: `the resolver ${id} ended its turn ${result.status}${result.statusReason ? ` (${result.statusReason})` : ""}. Its screen:\n${result.screen.trim()}`,
    };
  } catch (error) {
    if (isTmuxClaudeError(error) && error.code === ErrorCodes.READ_TIMEOUT) {
      return { ok: false, id, reason: "timeout", detail: `the resolver ${id} did not finish within resolver.timeoutMs (${options.timeoutMs} ms). ${messageOf(error)}` };
    }
    return { ok: false, id, reason: "resolver", detail: `the resolver ${id} could not be followed: ${messageOf(error)}` };
  } finally {
    await kernel.terminate(id).catch((error: unknown) => deps.logger.warn({ err: error, instance: id }, "could not terminate a resolver"));
  }
}

/**
 * Markers git itself calls leftovers (`git diff --check`) on lines the
 * resolution adds over the target: a marker-like line the target already had
 * is the project's text, not a conflict.
 */
export async function leftoverMarkers(dir: string, targetCommit: string): Promise<string[]> {
  const result = await runGit(dir, ["diff", "--cached", "--check", targetCommit], { ok: [0, 2] });
  const files = new Set<string>();
  for (const line of result.stdout.split("\n")) {
    const found = /^(.+):(\d+): leftover conflict marker$/u.exec(line);
    if (found) files.add(`${found[1]}:${found[2]}`);
  }
  return [...files];
}

/** Who works on a branch, for the resolver: its instance's name, role and last reply. */
async function intentOf(kernel: KernelApi, id: string | undefined): Promise<string | undefined> {
  if (!id) return undefined;
  const record = await kernel.get(id).catch(() => undefined);
  if (!record) return undefined;
  const who = `${record.role} ${record.id}${record.name ? ` ("${record.name}")` : ""}`;
  return record.lastReply ? `${who}; its last report: ${record.lastReply.slice(0, 1_000)}` : who;
}

function mergeMessage(request: ResolveRequest, views: readonly ConflictView[], resolverId: string, verify: readonly string[] | undefined): string {
  const checked = verify ? `, checked with \`${verify.join(" ")}\`` : "";
  const subject = request.message?.trimEnd() ?? `Merge ${request.source} into ${request.target}`;
  return `${subject}\n\nConflicts in ${views.map((v) => v.path).join(", ")} resolved by ${resolverId}${checked}.\n`;
}

function rejected(views: readonly ConflictView[], reason: RejectionReason, detail: string, rest: Partial<Shared>): RejectedResolution {
  return { accepted: false, reason, detail, files: views.map((v) => v.path), hunks: hunkTotal(views), ...rest };
}

function hunkTotal(views: readonly ConflictView[]): number {
  return views.reduce((sum, v) => sum + Math.max(v.hunkCount, 1), 0);
}

async function log(deps: ResolveDeps, request: ResolveRequest, merge: ConflictedMerge, outcome: ResolveOutcome, durationMs: number): Promise<void> {
  const record: ResolutionRecord = {
    at: new Date().toISOString(),
    repo: request.repo,
    source: request.source,
    target: request.target,
    sourceCommit: merge.sourceCommit,
    targetCommit: merge.targetCommit,
    files: outcome.files,
    hunks: outcome.hunks,
    accepted: outcome.accepted,
    ...(outcome.accepted ? { commit: outcome.commit } : { reason: outcome.reason, detail: outcome.detail.slice(0, 4_000) }),
    ...(outcome.verify ? { verify: { argv: outcome.verify.argv, passed: outcome.verify.ok, code: outcome.verify.code, durationMs: outcome.verify.ms } } : {}),
    resolver: { id: outcome.resolverId, agent: deps.options.agent },
    durationMs,
  };
  await appendResolution(deps.kernel.stateDir, record).catch((error: unknown) => deps.logger.error({ err: error }, "could not log a conflict resolution"));
  deps.logger.info({ source: request.source, target: request.target, accepted: outcome.accepted, reason: record.reason, files: record.files }, "conflict resolution");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
