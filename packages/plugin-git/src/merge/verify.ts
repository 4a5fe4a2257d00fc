// `verify` runs on the merged result, never in a worktree someone works in:
// a detached scratch worktree of the merged commit, removed afterwards.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { TmuxClaudeError } from "@tmux-claude/core";
import { runGit } from "../git/run.js";
import { GitErrorCodes } from "../errors.js";
import { removeOwnWorktree } from "../worktree/worktrees.js";

export interface VerifyResult {
  readonly ok: boolean;
  readonly argv: readonly string[];
  /** Exit code; null when killed (timeout). */
  readonly code: number | null;
  readonly timedOut: boolean;
  /** The last 4 KB of stdout and stderr together. */
  readonly output: string;
  readonly ms: number;
}

const OUTPUT_TAIL = 4096;

/**
 * A verify command as an argument vector. A string is split on blanks, with
 * "double" or 'single' quotes grouping; no shell ever sees it, so `$()`, `;`
 * and `|` are plain characters.
 */
export function verifyArgv(verify: string | readonly string[]): string[] {
  const argv = typeof verify === "string" ? splitWords(verify) : [...verify];
  if (argv.length === 0 || argv[0] === "") {
    throw new TmuxClaudeError(
      GitErrorCodes.MERGE_INVALID,
      `verify ${JSON.stringify(verify)} names no command. Pass a command such as "npm test" or ["npm", "test"].`,
      { verify },
    );
  }
  return argv;
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (const char of text) {
    if (quote) {
      if (char === quote) quote = undefined;
      else word = (word ?? "") + char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= "";
    } else if (/\s/u.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote) {
    throw new TmuxClaudeError(GitErrorCodes.MERGE_INVALID, `verify ${JSON.stringify(text)} has an unclosed ${quote} quote. Close it, or pass the command as an array.`, { verify: text });
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Check out `commit` in a scratch worktree under `scratchRoot`, run `argv` there, remove the scratch worktree. */
export async function verifyCommit(repo: string, commit: string, argv: readonly string[], timeoutMs: number, scratchRoot: string): Promise<VerifyResult> {
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(scratchRoot, `tc-verify-${process.pid}-`));
  try {
    await runGit(repo, ["worktree", "add", "--detach", scratch, commit]);
    return await runCommand(argv, scratch, timeoutMs);
  } finally {
    await removeOwnWorktree(repo, scratch, { discard: true }).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}



function runCommand(argv: readonly string[], cwd: string, timeoutMs: number): Promise<VerifyResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    // Its own process group, so a timeout ends the whole test run, not only its first process.
    const child = spawn(argv[0]!, argv.slice(1), { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    const finish = (code: number | null, extra = "") => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      resolve({ ok: code === 0 && !timedOut, argv, code, timedOut, output: (output + extra).slice(-OUTPUT_TAIL), ms });
    };
    child.on("error", (error) => finish(null, `${argv[0]} could not be run: ${error.message}`));
    child.on("close", (code) => finish(code));
  });
}
