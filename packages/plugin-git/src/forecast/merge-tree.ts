// "Would these two commits merge, and where would they not?" answered by
// `git merge-tree --write-tree`: it writes the merged tree to the object
// store and touches no index, worktree or ref, so it is safe to ask about any
// pair of branches at any moment. Shared by the forecaster and the merge part.
import { TmuxClaudeError, isTmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { runGit } from "../git/run.js";
import type { ConflictFile, ConflictKind, ConflictStage } from "../types.js";
import { conflictHunks, markerRegions } from "./conflict-markers.js";

export interface MergeTreeOptions {
  /** Read the conflicted text files from the written tree and cut their marker regions (default true). */
  hunks?: boolean;
  /** Lines of context around each marker region (default 3). */
  context?: number;
}

/** One of git's messages about the merge: the paths it is about, its type (`CONFLICT (contents)`, `Auto-merging`) and text. */
export interface MergeMessage {
  readonly paths: readonly string[];
  readonly type: string;
  readonly text: string;
}

export interface MergeTreeResult {
  /** No conflicts: `tree` is the merged result, ready for `commit-tree`. */
  readonly clean: boolean;
  /** The merged tree; when not clean, conflicted text files in it hold conflict markers. */
  readonly tree: string;
  /** Every conflicted path, in git's order. Empty when clean. */
  readonly conflicts: readonly ConflictFile[];
  /** All of git's messages (git prints none for a clean merge). */
  readonly messages: readonly MergeMessage[];
}

/**
 * Merge `theirs` into `ours` (any commit-ish: branch, sha) in `repo` without
 * touching it, and describe every conflict: its kind, git's words and, for a
 * text conflict, the hunks with markers.
 */
export async function mergeTree(repo: string, ours: string, theirs: string, options: MergeTreeOptions = {}): Promise<MergeTreeResult> {
  for (const [side, ref] of [["ours", ours], ["theirs", theirs]] as const) {
    // A leading dash would be read as an option: refuse it rather than pass it through.
    if (!ref || ref.startsWith("-")) {
      throw new TmuxClaudeError(GitErrorCodes.BAD_REF, `mergeTree: "${ref}" (${side}) is not a commit name. Pass a branch name or commit id.`, { ref, side });
    }
  }
  const output = await runMergeTree(repo, ours, theirs);
  const parsed = parseMergeTreeOutput(output.stdout, output.code === 0);
  if (parsed.clean) return { clean: true, tree: parsed.tree, conflicts: [], messages: parsed.messages };
  const conflicts = classifyConflicts(parsed.stages, parsed.messages);
  const described = await describeTextConflicts(repo, ours, theirs, parsed.tree, conflicts, options);
  return { clean: false, tree: parsed.tree, conflicts: described, messages: parsed.messages };
}

async function runMergeTree(repo: string, ours: string, theirs: string) {
  const args = ["merge-tree", "--write-tree", "--messages", "-z", ours, theirs];
  const fix = `Check that "${ours}" and "${theirs}" name commits of ${repo} with a common history (git rev-parse --verify <name>).`;
  let result;
  try {
    // -z: paths with any byte; --messages: git's words, with the paths each is about.
    result = await runGit(repo, args, { ok: [0, 1] });
  } catch (error) {
    if (!isTmuxClaudeError(error) || error.code !== GitErrorCodes.COMMAND_FAILED) throw error;
    // 129: usage error, i.e. a git that does not know --write-tree.
    if (error.details.exitCode === 129) {
      throw new TmuxClaudeError(
        GitErrorCodes.GIT_UNAVAILABLE,
        `git merge-tree --write-tree is not supported by the git on PATH (${error.message}). Install git 2.38 or newer.`,
        { repo },
        { cause: error },
      );
    }
    throw new TmuxClaudeError(GitErrorCodes.COMMAND_FAILED, `${error.message}. ${fix}`, { ...error.details, ours, theirs }, { cause: error });
  }
  // Exit 1 also means "cannot merge these at all" (an unknown name): then no tree comes first.
  if (!TREE_ID.test(result.stdout)) {
    throw new TmuxClaudeError(
      GitErrorCodes.COMMAND_FAILED,
      `git ${args.join(" ")} failed in ${repo} (exit ${result.code}): ${(result.stderr || result.stdout).trim() || "no output"}. ${fix}`,
      { cwd: repo, args, exitCode: result.code, ours, theirs },
    );
  }
  return result;
}

const TREE_ID = /^[0-9a-f]{40,64}(?:\0|$)/u;

/** One line of the conflicted-file section: a path at one index stage. */
export interface StageLine {
  readonly mode: string;
  readonly oid: string;
  /** 1 base, 2 ours, 3 theirs. */
  readonly stage: 1 | 2 | 3;
  readonly path: string;
}

/**
 * Parse `git merge-tree --write-tree --messages -z` output: the tree, then
 * (when not clean) `<mode> <oid> <stage>\t<path>` entries up to an empty one,
 * then messages as `<n>`, n paths, type, text.
 */
export function parseMergeTreeOutput(stdout: string, clean: boolean): { clean: boolean; tree: string; stages: StageLine[]; messages: MergeMessage[] } {
  const tokens = stdout.split("\0");
  const tree = tokens[0] ?? "";
  if (!TREE_ID.test(tree)) {
    throw new TmuxClaudeError(GitErrorCodes.COMMAND_FAILED, `git merge-tree printed "${stdout.slice(0, 200)}", not a tree id first. Check the git version (2.38 or newer).`, {});
  }
  const stages: StageLine[] = [];
  const messages: MergeMessage[] = [];
  if (clean) return { clean, tree, stages, messages };
  let i = 1;
  for (; i < tokens.length && tokens[i] !== ""; i++) {
    const match = /^(\d+) ([0-9a-f]+) ([123])\t([\s\S]*)$/u.exec(tokens[i]!);
    if (match) stages.push({ mode: match[1]!, oid: match[2]!, stage: Number(match[3]) as 1 | 2 | 3, path: match[4]! });
  }
  for (i++; i < tokens.length && tokens[i] !== ""; ) {
    const count = Number(tokens[i]);
    if (!Number.isInteger(count) || count < 0) break;
    const paths = tokens.slice(i + 1, i + 1 + count);
    const type = tokens[i + 1 + count] ?? "";
    const text = (tokens[i + 2 + count] ?? "").replace(/\n$/u, "");
    messages.push({ paths, type, text });
    i += count + 3;
  }
  return { clean, tree, stages, messages };
}

// When several messages name one path, the most specific kind wins: a binary
// file's content conflict is "binary", a modify/delete caused by a directory
// moving a file aside is "file/directory".
const KIND_PRIORITY: readonly ConflictKind[] = ["binary", "file/directory", "rename/rename", "add/add", "modify/delete", "rename/modify", "content", "other"];

function kindOfMessage(message: MergeMessage): ConflictKind | undefined {
  switch (message.type) {
    case "CONFLICT (binary)":
      return "binary";
    case "CONFLICT (file/directory)":
    case "CONFLICT (file in way of directory rename)":
      return "file/directory";
    case "CONFLICT (rename/rename)":
      return "rename/rename";
    case "CONFLICT (rename involved in collision)":
      return "add/add";
    // A rename is a change to the path the other side deleted.
    case "CONFLICT (modify/delete)":
    case "CONFLICT (rename/delete)":
      return "modify/delete";
    case "CONFLICT (contents)":
      return message.text.startsWith("CONFLICT (add/add)") ? "add/add" : "content";
    default:
      return /^CONFLICT ?\(/u.test(message.type) ? "other" : undefined;
  }
}

/** One ConflictFile per conflicted path, its kind from the messages naming it (or from its stages when none does). */
export function classifyConflicts(stages: readonly StageLine[], messages: readonly MergeMessage[]): ConflictFile[] {
  const byPath = new Map<string, { base?: ConflictStage; ours?: ConflictStage; theirs?: ConflictStage }>();
  for (const line of stages) {
    const entry = byPath.get(line.path) ?? {};
    entry[line.stage === 1 ? "base" : line.stage === 2 ? "ours" : "theirs"] = { mode: line.mode, oid: line.oid };
    byPath.set(line.path, entry);
  }
  return [...byPath].map(([path, entry]) => {
    const about = messages.filter((m) => m.paths.includes(path));
    const kinds = about.map(kindOfMessage).filter((k): k is ConflictKind => k !== undefined);
    const kind = kinds.length ? KIND_PRIORITY.find((k) => kinds.includes(k))! : kindOfStages(entry);
    const message = about.filter((m) => kindOfMessage(m) !== undefined).map((m) => m.text).join("\n");
    return { path, kind, message, stages: entry };
  });
}

function kindOfStages(entry: { base?: ConflictStage; ours?: ConflictStage; theirs?: ConflictStage }): ConflictKind {
  if (!entry.base && entry.ours && entry.theirs) return "add/add";
  if (entry.base && (!entry.ours || !entry.theirs)) return "modify/delete";
  return "content";
}

/**
 * Text conflicts get their hunks from the written tree, where git left the
 * markers. A content conflict whose markers name a path (`<<<<<<< ours:new.txt`)
 * came through a rename: git labels a side with its path only when the two
 * sides call the file differently. That is rename/modify.
 */
async function describeTextConflicts(
  repo: string,
  ours: string,
  theirs: string,
  tree: string,
  conflicts: readonly ConflictFile[],
  options: MergeTreeOptions,
): Promise<ConflictFile[]> {
  // One git process per text conflict, a few at a time: each costs a few ms, hundreds at once would stall the machine.
  return mapLimit(conflicts, 4, async (conflict) => {
    if (conflict.kind !== "content" && conflict.kind !== "add/add") return conflict;
    const text = (await runGit(repo, ["cat-file", "blob", `${tree}:${conflict.path}`])).stdout;
    // A NUL byte: not text, so no markers to show.
    if (text.includes("\0")) return conflict;
    const renamed = conflict.kind === "content" && markerLabels(text).some((label) => label.startsWith(`${ours}:`) || label.startsWith(`${theirs}:`));
    const hunks = options.hunks === false ? undefined : conflictHunks(text, options.context ?? 3);
    return { ...conflict, ...(renamed ? { kind: "rename/modify" as const } : {}), ...(hunks === undefined ? {} : { hunks }) };
  });
}

/** The labels after the open and close markers of every region (`ours`, `theirs:old.txt`). */
function markerLabels(text: string): string[] {
  const lines = text.split("\n");
  return markerRegions(text).flatMap((r) => [lines[r.start - 1]!, lines[r.end - 1]!].map((line) => line.replace(/^[<>]+ ?/u, "")));
}

/** `Promise.all(items.map(fn))` with at most `limit` at a time: one git process per conflicted file, not hundreds at once. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
