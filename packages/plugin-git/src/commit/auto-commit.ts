// Auto-commit: at the end of each turn of an instance that has it on, its
// worktree's changes become a commit on its branch, so no work exists only
// as a dirty tree. The message names the instance and the turn's prompt.
import { stat } from "node:fs/promises";
import { TmuxClaudeError, type TurnEnded } from "@tmux-claude/core";
import { GitErrorCodes } from "../errors.js";
import { mergeStateDir } from "../merge/lock.js";
import { hasJournal } from "../merge/target.js";
import { dirtyPaths, resolveCommit } from "../git/repo.js";
import { withIdentity } from "../git/identity.js";
import { runGit } from "../git/run.js";
import type { GitRuntime } from "../runtime.js";
import type { GitInstanceState } from "../types.js";

const SUBJECT_MAX = 72;

export interface AutoCommitResult {
  readonly commit: string;
  readonly files: readonly string[];
  readonly message: string;
}

export function installAutoCommit(runtime: GitRuntime): void {
  const { ctx } = runtime;

  ctx.hooks.turnEnded.tapPromise(async (turn: TurnEnded) => {
    const state = await runtime.state(turn.instanceId);
    if (!state?.autoCommit) return;
    if (state.isolation !== "worktree") {
      ctx.logger.debug({ instance: turn.instanceId }, "auto-commit skipped: the instance shares its checkout, whose changes are not its own");
      return;
    }
    try {
      for (const before of runtime.beforeAutoCommit) await before(state);
      const result = await commitTurn(turn, state);
      if (!result) return;
      ctx.logger.info({ instance: turn.instanceId, commit: result.commit, files: result.files.length }, "auto-committed the turn's changes");
      await runtime.branchChanged.emit({ instanceId: turn.instanceId, branch: state.branch, commit: result.commit, reason: "autoCommit" });
    } catch (error) {
      // The work stays in the worktree, uncommitted; the next turn end tries again.
      ctx.logger.warn({ err: error, instance: turn.instanceId, worktree: state.worktree }, "auto-commit failed; the changes stay uncommitted");
    }
  });
}

/** Commit everything changed in the instance's worktree; undefined when it is clean or gone. */
export async function commitTurn(turn: Pick<TurnEnded, "instanceId" | "reason" | "lastReply" | "prompt">, state: GitInstanceState): Promise<AutoCommitResult | undefined> {
  if (!(await stat(state.worktree).then((s) => s.isDirectory(), () => false))) return undefined;
  const files = await dirtyPaths(state.worktree);
  if (files.length === 0) return undefined;
  // Its branch moved by a merge whose checkout update a kill interrupted: HEAD is merged, the index is not,
  // so `add -A; commit` would commit the old tree on top and undo the merge. Finish the merge first.
  if (await hasJournal(await mergeStateDir(state.worktree), state.branch)) {
    throw new TmuxClaudeError(
      GitErrorCodes.TARGET_DIRTY,
      `Not auto-committing ${state.worktree}: a merge into ${state.branch} was interrupted and is not finished there yet; committing now would undo it. The next merge into ${state.branch} (or the next kernel start) finishes it; the changes stay uncommitted until then.`,
      { worktree: state.worktree, branch: state.branch },
    );
  }
  const message = commitMessage(turn);
  await runGit(state.worktree, ["add", "-A", "--", "."]);
  await runGit(state.worktree, ["commit", "-q", "-m", message], { env: await withIdentity(state.worktree) });
  const commit = (await resolveCommit(state.worktree, "HEAD"))!;
  return { commit, files, message };
}

/** `<id>: <the turn's prompt, first line>` and a body saying where it came from. */
export function commitMessage(turn: Pick<TurnEnded, "instanceId" | "reason" | "lastReply" | "prompt">): string {
  // The kernel's TurnEnded.prompt: the message typed to start the turn, read from the store when the turn end is announced.
  const prompt = firstLine(turn.prompt ?? "");
  const fromPrompt = prompt !== "";
  const summary = fromPrompt ? prompt : firstLine(turn.lastReply ?? "") || "changes of the turn";
  const subject = truncate(`${turn.instanceId}: ${summary}`, SUBJECT_MAX);
  const source = fromPrompt ? "The subject is the first line of the turn's prompt." : "The turn's prompt was not seen here; the subject is the first line of the agent's reply.";
  return `${subject}\n\nAuto-commit by tmux-claude at the end of a turn (${turn.reason}) of instance ${turn.instanceId}.\n${source}\n`;
}

function firstLine(text: string): string {
  return (text.split("\n").find((line) => line.trim() !== "") ?? "").trim();
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
