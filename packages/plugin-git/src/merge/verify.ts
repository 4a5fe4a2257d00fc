// Running a merge's `verify` command on a merged tree (the merge queue's check
// before it moves a target, and the check of an AI resolution). Written here,
// in the merge part's folder, by the resolve part: one verify runner for both.
import { spawn } from "node:child_process";
import { TmuxClaudeError } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";

/** `"npm test"` or `["npm", "test"]`: a program and its arguments, never run through a shell. */
export type VerifyCommand = string | readonly string[];

export interface VerifyResult {
  readonly passed: boolean;
  /** The argv that ran. */
  readonly argv: readonly string[];
  /** The exit code, or null when it was killed (timeout) or could not start. */
  readonly code: number | null;
  readonly timedOut: boolean;
  /** stdout and stderr interleaved as they came, the last `OUTPUT_LIMIT` characters. */
  readonly output: string;
  readonly durationMs: number;
}

/** What of a verify's output is kept for the report and the log: its end, where test runners summarize. */
const OUTPUT_LIMIT = 8_000;

/**
 * Split a verify string into argv on whitespace, honouring '...' and "..."
 * quotes (so `node -e "process.exit(1)"` works) but no shell syntax: `;`, `|`,
 * `$()` and globs are plain characters of an argument.
 */
export function verifyArgv(verify: VerifyCommand): string[] {
  if (typeof verify !== "string") {
    if (!Array.isArray(verify) || verify.length === 0 || !verify.every((part) => typeof part === "string") || verify[0] === "") throw badVerify(verify);
    return [...verify];
  }
  const argv: string[] = [];
  let current: string | undefined;
  let quote: '"' | "'" | undefined;
  for (const char of verify) {
    if (quote) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current ??= "";
    } else if (/\s/u.test(char)) {
      if (current !== undefined) argv.push(current);
      current = undefined;
    } else {
      current = (current ?? "") + char;
    }
  }
  if (quote) throw badVerify(verify, `it has an unclosed ${quote} quote`);
  if (current !== undefined) argv.push(current);
  if (argv.length === 0 || argv[0] === "") throw badVerify(verify);
  return argv;
}

function badVerify(verify: unknown, why = "it names no program"): TmuxClaudeError {
  return new TmuxClaudeError(
    GitErrorCodes.VERIFY_INVALID,
    `verify ${JSON.stringify(verify)} cannot be run: ${why}. Give a program and its arguments, e.g. "npm test" or ["npm", "test"] (no shell: use an argv, or a script file for pipes and &&).`,
    { verify },
  );
}

/**
 * Run verify in `cwd` with a timeout (then its process group gets SIGKILL, so
 * a test runner's children go too). A failure to start is a failed verify
 * whose output says why, not a throw: it is the merged tree's verdict.
 */
export function runVerify(cwd: string, verify: VerifyCommand, timeoutMs: number): Promise<VerifyResult> {
  const argv = verifyArgv(verify);
  const started = Date.now();
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    const keep = (chunk: Buffer | string) => {
      output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
    };
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    let finished = false;
    // A program that cannot start emits both "error" and "close": answer once.
    const finish = (code: number | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      if (timedOut) keep(`\n[verify timed out after ${timeoutMs} ms and was killed]`);
      resolve({ passed: code === 0 && !timedOut, argv, code: timedOut ? null : code, timedOut, output, durationMs: Date.now() - started });
    };
    child.on("error", (error) => {
      keep(`${argv[0]} could not be started: ${error.message}`);
      finish(null);
    });
    child.on("close", (code) => finish(code));
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
