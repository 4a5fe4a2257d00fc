/**
 * Claimed paths: normalised to project paths (relative to the claimant's
 * workdir, posix, no `..`), and when two of them overlap.
 *
 * Claims compare project paths, not absolute ones: instances of one
 * hierarchy in their own git worktrees of a repository (plugin-git) edit the
 * same files at different absolute paths, and a claim is about the file.
 */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { KnowledgeErrors } from "./errors.js";

/** The whole workdir. */
export const WHOLE = ".";

const GLOB_CHARS = /[*?[\]{}]/u;

export function isGlob(projectPath: string): boolean {
  return GLOB_CHARS.test(projectPath);
}

/** A workdir as it is on disk (symlinks resolved), so a path through a symlink is checked where it leads. */
export async function realWorkDir(workDir: string): Promise<string> {
  return realpath(workDir).catch(() => path.resolve(workDir));
}

/**
 * `raw` (relative to the workdir, or absolute inside it; a glob with `*`,
 * `**` and `?`) as a project path. Its fixed part is resolved through
 * symlinks as far as it exists, so neither `..` nor a link leads out of the
 * workdir unnoticed; such a path is refused, naming it.
 */
export async function projectPath(workDir: string, raw: string): Promise<string> {
  if (typeof raw !== "string" || raw.trim() === "" || raw.includes("\0")) {
    throw new TmuxClaudeError(KnowledgeErrors.BAD_PATH, `Claimed path ${JSON.stringify(raw)} is empty or not a path. Give paths relative to your workdir (${workDir}), e.g. "src/auth.ts" or "src/auth/**".`, { path: raw });
  }
  const segments = raw.split(/[\\/]+/u);
  const firstGlob = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  const fixed = firstGlob === -1 ? segments : segments.slice(0, firstGlob);
  const pattern = firstGlob === -1 ? [] : segments.slice(firstGlob);
  if (pattern.some((segment) => segment === "..")) throw outside(raw, workDir);
  if (/[{}[\]]/u.test(pattern.join("/"))) {
    throw new TmuxClaudeError(KnowledgeErrors.BAD_PATH, `Claimed path "${raw}" uses a glob feature claims do not support ({} or []): use * (within a name), ** (any depth) and ? only, or list the paths.`, { path: raw });
  }
  const absolute = await resolveExisting(path.resolve(workDir, fixed.join("/") || "."));
  const relative = path.relative(workDir, absolute);
  if (relative.startsWith("..") || path.isAbsolute(relative)) throw outside(raw, workDir);
  const base = relative.split(path.sep).filter((s) => s !== "").join("/");
  const joined = [base, ...pattern].filter((s) => s !== "" && s !== ".").join("/");
  return joined === "" ? WHOLE : joined;
}

function outside(raw: string, workDir: string): TmuxClaudeError {
  return new TmuxClaudeError(
    KnowledgeErrors.OUTSIDE_WORKDIR,
    `Claimed path "${raw}" is outside your workdir ${workDir}: an instance claims only files it works on. Give a path inside it (relative, without ".." leading out).`,
    { path: raw, workDir },
  );
}

/** The real path of the longest existing prefix, with the rest appended (a file to be created is claimed before it exists). */
async function resolveExisting(absolute: string): Promise<string> {
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(await realpath(current), ...rest.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      rest.push(path.basename(current));
      current = parent;
    }
  }
}

/** A glob as a regular expression over project paths: `**` any depth, `*` and `?` within one name. */
export function globRegExp(glob: string): RegExp {
  let out = "";
  const parts = glob.split("/");
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === "**") {
      out += last ? ".*" : "(?:[^/]+/)*";
      return;
    }
    out += part.replace(/[.+^${}()|\\]/gu, "\\$&").replace(/\*/gu, "[^/]*").replace(/\?/gu, "[^/]");
    if (!last) out += "/";
  });
  return new RegExp(`^${out}$`, "u");
}

/** The part of a project path before its first glob segment ("." when it starts with one). */
function fixedPart(projectPath: string): string {
  const segments = projectPath.split("/");
  const at = segments.findIndex((segment) => GLOB_CHARS.test(segment));
  return (at === -1 ? segments : segments.slice(0, at)).join("/") || WHOLE;
}

/** Is `inner` the same as `outer` or below it? */
function within(inner: string, outer: string): boolean {
  return outer === WHOLE || inner === outer || inner.startsWith(`${outer}/`);
}

/**
 * Do two claimed project paths name a common file? A path claims itself and
 * everything below it. A glob claims what it matches and what lies below a
 * match. Two globs are compared by their fixed parts (conservative: `src/*.ts`
 * and `src/*.md` count as overlapping).
 */
export function overlaps(a: string, b: string): boolean {
  const globA = isGlob(a);
  const globB = isGlob(b);
  if (!globA && !globB) return within(a, b) || within(b, a);
  if (globA && globB) {
    const [fa, fb] = [fixedPart(a), fixedPart(b)];
    return within(fa, fb) || within(fb, fa);
  }
  const [glob, plain] = globA ? [a, b] : [b, a];
  return globMeetsPath(glob.split("/"), plain === WHOLE ? [] : plain.split("/"));
}

/**
 * Does the glob match the path, one of its ancestors, or something below it?
 * Segment-wise: the glob's leading segments are walked along the path's
 * (`**` takes zero or more segments, any other one exactly one). The glob used
 * up first: it matched the path or an ancestor (a claimed directory holds the
 * path). The path used up first: what the glob still asks for can lie below it.
 */
function globMeetsPath(glob: readonly string[], segments: readonly string[]): boolean {
  const meets = (g: number, s: number): boolean => {
    if (g === glob.length || s === segments.length) return true;
    if (glob[g] === "**") return meets(g + 1, s) || meets(g, s + 1);
    return globRegExp(glob[g]!).test(segments[s]!) && meets(g + 1, s + 1);
  };
  return meets(0, 0);
}

/** The pairs (mine, theirs) of overlapping paths. */
export function overlapping(mine: readonly string[], theirs: readonly string[]): { mine: string; theirs: string }[] {
  return mine.flatMap((m) => theirs.filter((t) => overlaps(m, t)).map((t) => ({ mine: m, theirs: t })));
}
