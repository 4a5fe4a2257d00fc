import type { Command } from "commander";
import { progressText, shownUsage, type ReadResult } from "@tmux-claude/core";
import { positiveInt, type ActionFactory, type Cli } from "../context.js";
import { statusText, trimScreen } from "../output.js";

interface ReadFlags {
  lines: number;
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

export function registerRead(program: Command, action: ActionFactory): void {
  program
    .command("read")
    .description("Show an instance's status, its last reply and the tail of its screen.")
    .argument("<id>", "instance id (see tmux-claude list)")
    .option("--lines <n>", "lines of screen to show", positiveInt("--lines"), 40)
    .option("--wait", "first wait until the current turn ends (the instance is no longer starting or busy)")
    .option("--timeout <ms>", "how long --wait may wait", positiveInt("--timeout"), 600_000)
    .option("--json", "print the result as JSON")
    .action(action(read));
}

async function read(cli: Cli, id: string, flags: ReadFlags): Promise<number> {
  return cli.withKernel("read", async (kernel) => {
    const operation = kernel.read(id, { lines: flags.lines, wait: flags.wait ?? false, timeoutMs: flags.timeout });
    const result = flags.wait ? await cli.wait(`waiting for ${id} to finish its turn...`, operation) : await operation;
    // The USD is fields.cost's (the cost plugin's, with the config's prices), not the adapter's costUsd.
    if (flags.json) cli.json(result.usage ? { ...result, usage: shownUsage(result.usage) } : result);
    else cli.out(formatRead(result));
    return 0;
  });
}

export function formatRead(result: ReadResult): string {
  const kept = result.status === "exited" ? ` (kept: tmux-claude restart ${result.id} delivers them, terminate drops them)` : "";
  const queued = result.queued > 0 ? `; ${result.queued} queued message${result.queued === 1 ? "" : "s"}${kept}` : "";
  const stalled = result.stalled ? ` (stalled since ${result.stalled.since})` : "";
  const lines = [`${result.id}: ${statusText(result.status, result.limitedUntil)}${stalled}${result.statusReason ? ` (${result.statusReason})` : ""}${queued}`];
  // Why it needs someone (what its parent was told): list --blocked's WHY.
  if (result.blocked) lines.push(`Blocked: ${result.blocked}`);
  if (result.paused) lines.push(`Paused: ${result.paused}. Messages wait in its queue until tmux-claude resume ${result.id}.`);
  if (result.progress) lines.push(`Progress: ${progressText(result.progress)}`);
  // What plugins add (the instanceFields hook): cost's tokens and USD, say.
  if (result.details?.length) lines.push(...result.details);
  if (result.lastReply !== undefined && result.lastReply.trim() !== "") {
    lines.push("", "Last reply:", ...result.lastReply.replace(/\s+$/u, "").split("\n").map((line) => `  ${line}`));
  }
  const screen = trimScreen(result.screen);
  lines.push("", "Screen:", screen === "" ? "  (empty)" : screen);
  return lines.join("\n");
}
