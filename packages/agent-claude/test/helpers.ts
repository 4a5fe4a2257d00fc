import { readFile } from "node:fs/promises";
import path from "node:path";
import { createClaudeHarness as createHarness, type ClaudeHarness, type ClaudeHarnessOptions } from "@tmux-claude/testkit";
import { claude, type HookEvent } from "../src/index.js";

export { statusLog, type ClaudeHarness, type StatusLog } from "@tmux-claude/testkit";

/** The test kit's Claude harness with this package's plugin registering the claude adapter. */
export function createClaudeHarness(options: Omit<ClaudeHarnessOptions, "adapterPlugin"> = {}): Promise<ClaudeHarness> {
  return createHarness({ adapterPlugin: claude(), ...options });
}

/** The hook events Claude Code reported for an instance, as the hook command logged them. */
export async function hookEvents(h: ClaudeHarness, id: string): Promise<HookEvent[]> {
  const text = await readFile(path.join(h.stateDir, "agents", id, "events.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HookEvent);
}
