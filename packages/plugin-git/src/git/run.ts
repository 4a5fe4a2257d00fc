import { simpleGit, type SimpleGit } from "simple-git";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";

/** What one git command printed and how it exited. */
export interface GitResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface RunOptions {
  /** Exit codes that are answers, not failures (`merge-tree` exits 1 on conflicts). Default [0]. */
  ok?: readonly number[];
  /** Written to git's stdin (`update-ref --stdin`, `hash-object --stdin`). */
  input?: string;
  /** Added to git's environment (`GIT_INDEX_FILE` for a scratch index). */
  env?: Readonly<Record<string, string>>;
}

/** The git environment variables this plugin sets on purpose; simple-git strips any others a caller inherited. */
const ALLOWED_ENV = ["GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"];

/**
 * The one place this plugin runs git: through simple-git, as an argument
 * vector (never a shell string), so a branch or path can hold any character.
 * A failure is a TmuxClaudeError that quotes the command and git's own words.
 */
export async function runGit(cwd: string, args: readonly string[], options: RunOptions = {}): Promise<GitResult> {
  const ok = options.ok ?? [0];
  let outcome: GitResult | undefined;
  let spawnError: Error | undefined;
  let git: SimpleGit;
  try {
    git = simpleGit({
      baseDir: cwd,
      trimmed: false,
      allowEnvironment: ALLOWED_ENV,
      ...(options.input === undefined ? {} : { input: () => options.input }),
      // Record every exit, and let git's answer through when its code is one the caller expects.
      errors(error, result) {
        const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString("utf8");
        outcome = { stdout: text(result.stdOut), stderr: text(result.stdErr), code: result.exitCode };
        // No exit code of git's own (simple-git reports the spawn's errno, e.g. -2 for ENOENT): git did not run.
        if (error instanceof Error && result.exitCode < 0) spawnError = error;
        if (ok.includes(result.exitCode)) return undefined;
        return error ?? Buffer.concat([...result.stdErr, ...result.stdOut]);
      },
    });
  } catch (error) {
    // simple-git checks the directory before running anything.
    throw new TmuxClaudeError(
      GitErrorCodes.COMMAND_FAILED,
      `git ${args.join(" ")} cannot run in ${cwd}: the directory does not exist or is not readable.`,
      { cwd, args: [...args] },
      { cause: error },
    );
  }
  const withEnv = options.env ? git.env({ ...process.env, ...options.env } as Record<string, string>) : git;
  try {
    await withEnv.raw([...args]);
  } catch (error) {
    if (spawnError || !outcome) throw gitMissing(error);
    throw new TmuxClaudeError(
      GitErrorCodes.COMMAND_FAILED,
      `git ${args.join(" ")} failed in ${cwd} (exit ${outcome.code}): ${(outcome.stderr || outcome.stdout).trim() || "no output"}`,
      { cwd, args: [...args], exitCode: outcome.code },
      { cause: error },
    );
  }
  return outcome ?? { stdout: "", stderr: "", code: 0 };
}

/** `git ...` trimmed of its final newline: for commands that print one value (rev-parse, symbolic-ref). */
export async function gitValue(cwd: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return (await runGit(cwd, args, options)).stdout.replace(/\n$/u, "");
}

function gitMissing(error: unknown): TmuxClaudeError {
  const reason = error instanceof Error ? error.message : String(error);
  return new TmuxClaudeError(
    GitErrorCodes.GIT_UNAVAILABLE,
    `git could not be run: ${reason}. Install git 2.38 or newer and put it on PATH.`,
    { reason },
    { cause: error },
  );
}
