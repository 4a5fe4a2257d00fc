// What the resolver is told: the conflicting hunks, both sides' commits and
// what each branch was for, and the rules its result is checked against.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { conflictHunks, markerRegions } from "../forecast/conflict-markers.js";
import type { ConflictFile } from "../types.js";

/** One conflicted path as the resolver is shown it. */
export interface ConflictView {
  readonly path: string;
  readonly kind: string;
  readonly message?: string;
  /** The conflict blocks with some context, or undefined for a path without text markers (binary, delete). */
  readonly hunks?: string;
  readonly hunkCount: number;
}

export interface PromptInput {
  readonly dir: string;
  readonly source: string;
  readonly target: string;
  readonly conflicts: readonly ConflictView[];
  readonly sourceLog: string;
  readonly targetLog: string;
  readonly sourceIntent?: string;
  readonly targetIntent?: string;
  /** The verify command as one line, when the result must pass one. */
  readonly verify?: string;
  /** resolver.prompt: the user's own instructions, added at the end. */
  readonly instructions?: string;
}

/**
 * How each unmerged path looks to the resolver: the merge-tree description
 * when the caller has one (kind, git's message), and the blocks read from the
 * scratch worktree, which holds the very markers it must remove.
 */
export async function conflictViews(dir: string, unmerged: readonly string[], described: readonly ConflictFile[] = []): Promise<ConflictView[]> {
  return Promise.all(
    unmerged.map(async (file) => {
      const known = described.find((c) => c.path === file);
      const text = await readFile(path.join(dir, file), "utf8").catch(() => undefined);
      const isText = text !== undefined && !text.includes("\0");
      const hunkCount = isText ? markerRegions(text).length : 0;
      return {
        path: file,
        kind: known?.kind ?? (hunkCount ? "content" : "other"),
        message: known?.message,
        hunks: (isText ? conflictHunks(text) : undefined) ?? known?.hunks,
        hunkCount,
      };
    }),
  );
}

export function resolverPrompt(input: PromptInput): string {
  const files = input.conflicts
    .map((c) => {
      const head = `### ${c.path} (${c.kind}${c.hunkCount ? `, ${c.hunkCount} hunk${c.hunkCount === 1 ? "" : "s"}` : ""})${c.message ? `\n${c.message}` : ""}`;
      return c.hunks ? `${head}\n\`\`\`\n${c.hunks}\n\`\`\`` : `${head}\n(no text markers: decide which version the file keeps, or how to combine them, and leave it that way)`;
    })
    .join("\n\n");
  return [
    `Resolve a git merge conflict. This directory (${input.dir}) is a scratch checkout of ${input.target} with ${input.source} merged into it; git stopped on conflicts in ${input.conflicts.length} file${input.conflicts.length === 1 ? "" : "s"}. "HEAD" in the markers is ${input.target} (ours), the other side is ${input.source} (theirs).`,
    `What ${input.target} is for: ${input.targetIntent ?? "not known"}\nWhat ${input.source} is for: ${input.sourceIntent ?? "not known"}`,
    `Commits on ${input.target} since the merge base:\n${input.targetLog || "(none)"}\n\nCommits on ${input.source} since the merge base:\n${input.sourceLog || "(none)"}`,
    `Conflicts (each hunk under the file's line numbers in this directory):\n\n${files}`,
    [
      "Edit the files so that both branches' intent holds, and remove every conflict marker line (<<<<<<<, =======, >>>>>>>).",
      "Do not commit, abort the merge or check anything out: the result is checked and committed for you.",
      input.verify ? `The result must pass \`${input.verify}\`, which will be run in this directory.` : "",
      "When you are done, reply with one line per file saying how you resolved it.",
    ]
      .filter(Boolean)
      .join(" "),
    input.instructions ?? "",
  ]
    .filter(Boolean)
    .join("\n\n");
}
