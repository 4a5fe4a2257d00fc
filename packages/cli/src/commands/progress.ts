import type { Command } from "commander";
import { ErrorCodes, INSTANCE_ENV, TmuxClaudeError, progressRollup, progressText, rollupText } from "@tmux-claude/core";
import { usageError, type ActionFactory, type Cli } from "../context.js";

interface ProgressFlags {
  set?: string;
  current?: string;
  json?: boolean;
}

export function registerProgress(program: Command, action: ActionFactory): void {
  program
    .command("progress")
    .description("Show the progress of an instance's subtree (every instance without an id) and its sum, as MCP's get_progress; or report one with --set.")
    .argument("[id]", "top of the subtree; with --set the instance reporting (default: $TMUX_CLAUDE_INSTANCE_ID, the instance this runs in)")
    .option("--set <done/total>", 'report progress, e.g. --set 3/7: 3 of 7 steps done (0 <= done <= total; "-" removes it)')
    .option("--current <step>", 'with --set: the step being worked on now, e.g. "Writing tests"')
    .option("--json", "print the result as JSON")
    .action(action(progress));
}

async function progress(cli: Cli, id: string | undefined, flags: ProgressFlags): Promise<number> {
  if (flags.current !== undefined && flags.set === undefined) throw usageError("--current goes with --set: tmux-claude progress --set 3/7 --current \"Writing tests\".", { flag: "--current" });
  if (flags.set !== undefined) return report(cli, id ?? cli.io.env[INSTANCE_ENV.instanceId], flags);
  return cli.withKernel("progress", async (kernel) => {
    if (id !== undefined) await kernel.get(id);
    const rollup = progressRollup(await kernel.list(), id ?? null);
    if (flags.json) cli.json(rollup);
    else cli.out(rollupText(rollup));
    return 0;
  });
}

async function report(cli: Cli, id: string | undefined, flags: ProgressFlags): Promise<number> {
  if (!id) throw usageError(`progress --set needs the instance: name it (tmux-claude progress <id> --set ${flags.set}), or run it inside an instance, where ${INSTANCE_ENV.instanceId} names it.`, {});
  // As the MCP progress tool: an instance reports only its own progress (a parent's roll-up must not be spoofed by a child).
  const self = cli.io.env[INSTANCE_ENV.instanceId];
  if (self && id !== self) {
    throw new TmuxClaudeError(
      ErrorCodes.FORBIDDEN,
      `Instance "${self}" (this runs inside it: ${INSTANCE_ENV.instanceId}) may report only its own progress, not that of "${id}". Leave the id out: tmux-claude progress --set ${flags.set}. Nothing was written.`,
      { caller: self, target: id },
    );
  }
  const value = flags.set!;
  const parsed = value === "-" ? null : /^(\d+)\/(\d+)$/u.exec(value.trim());
  if (value !== "-" && !parsed) {
    throw usageError(`--set "${value}" is not done/total: give two whole numbers with a slash, e.g. --set 3/7 (3 of 7 steps done), or "-" to remove the progress.`, { flag: "--set", value });
  }
  const input = parsed ? { done: Number(parsed[1]), total: Number(parsed[2]), ...(flags.current !== undefined ? { current: flags.current } : {}), source: "tool" } : null;
  return cli.withKernel("progress", async (kernel) => {
    const stored = await kernel.setProgress(id, input);
    cli.auditResult = { id };
    if (flags.json) cli.json({ id, progress: stored.progress ?? null });
    else cli.out(stored.progress ? `${id}: ${progressText(stored.progress)}` : `${id}: no progress`);
    return 0;
  });
}
