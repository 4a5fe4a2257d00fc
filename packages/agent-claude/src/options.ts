import { z } from "zod";
import { ErrorCodes, TmuxClaudeError, type AgentConfig } from "@tmux-claude/core";

/**
 * Permission modes Claude Code 2.1.x accepts for `--permission-mode`.
 * `default` (also spelled `manual` by newer releases) asks before risky tools.
 */
export const CLAUDE_PERMISSION_MODES = ["default", "manual", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions"] as const;

/** Options of the `claude` adapter, read from `agents.<name>` next to `command`, `args` and `env`. */
export const claudeAgentOptions = z.object({
  /** `--permission-mode`; unset = Claude Code's own default (or the user's settings). */
  permissionMode: z.enum(CLAUDE_PERMISSION_MODES).optional(),
  /** `--model`: an alias (`sonnet`, `opus`) or a full model name. */
  model: z.string().min(1).optional(),
  /**
   * Answer Claude Code's folder-trust dialog "Yes" for the instance's workdir.
   * Off by default: the dialog then fails the spawn with the screen quoted.
   */
  trustWorkDir: z.boolean().default(false),
  /**
   * Run with `--dangerously-skip-permissions` (no approval for any tool).
   * Sets `IS_SANDBOX=1` when running as root and suppresses the bypass warning
   * through the generated settings. Only for sandboxes.
   */
  skipPermissions: z.boolean().default(false),
  /**
   * Offer Claude Code's task tools (TaskCreate/TaskUpdate, or TodoWrite) so its
   * task list becomes the instance's progress: sets `CLAUDE_CODE_ENABLE_TODO_TOOLS=1`
   * unless the agent's `env` (or the environment tmux-claude runs in) sets it.
   * Claude Code offers them by itself only to some models. `false` leaves it unset.
   */
  taskTools: z.boolean().default(true),
});

export type ClaudeAgentOptions = z.output<typeof claudeAgentOptions>;

/** Keys of `agents.<name>` that belong to the kernel, not to this adapter. */
const KERNEL_KEYS = new Set(["adapter", "command", "args", "env"]);

/** Validate the adapter's keys of `agents.<name>`; an unknown or wrong key is an error that names it. */
export function parseClaudeOptions(agentName: string, agent: AgentConfig): ClaudeAgentOptions {
  const own = Object.fromEntries(Object.entries(agent).filter(([key]) => !KERNEL_KEYS.has(key)));
  const known = new Set(Object.keys(claudeAgentOptions.shape));
  const unknown = Object.keys(own).filter((key) => !known.has(key));
  if (unknown.length) {
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_INVALID,
      `agents.${agentName} has unknown key(s) ${unknown.map((k) => `"${k}"`).join(", ")} for the claude adapter. Known keys: ${[...KERNEL_KEYS, ...known].join(", ")}.`,
      { agent: agentName, keys: unknown },
    );
  }
  const parsed = claudeAgentOptions.safeParse(own);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `agents.${agentName}.${issue.path.join(".")}: ${issue.message}`);
    throw new TmuxClaudeError(ErrorCodes.CONFIG_INVALID, `Invalid options for the claude adapter:\n  - ${issues.join("\n  - ")}`, { agent: agentName });
  }
  return parsed.data;
}

/** Does this configuration run Claude Code with permission checks bypassed? */
export function bypassesPermissions(options: ClaudeAgentOptions): boolean {
  return options.skipPermissions || options.permissionMode === "bypassPermissions";
}
