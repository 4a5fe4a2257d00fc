import { ErrorCodes, TmuxClaudeError, type InstanceRecord, type KernelApi } from "@tmux-claude/core";

/** Who calls a contributed MCP tool, as the MCP server passes it (`instanceId: null` is the root: a person or the CLI). */
export interface ToolCaller {
  readonly instanceId: string | null;
  readonly role: string | null;
}

/**
 * Refuse unless the caller may look at or act on `targetId`: the root on
 * anything, an instance on itself (when `allowSelf`) and its descendants.
 * The contribution API only checks roles, so subtree checks live here,
 * following the parent links of the stored records like the MCP server's own.
 * An id outside the subtree is refused the same way whether it exists or not.
 */
export async function assertInSubtree(kernel: KernelApi, caller: ToolCaller, targetId: string, what: string, allowSelf = true): Promise<void> {
  if (caller.instanceId === null) return;
  if (targetId === caller.instanceId && allowSelf) return;
  let current: string | null = targetId;
  for (let steps = 0; current !== null && steps <= kernel.config.limits.maxDepth + 1; steps++) {
    const record: InstanceRecord | undefined = await kernel.get(current).catch(() => undefined);
    if (!record) break;
    if (record.parentId === caller.instanceId) return;
    current = record.parentId;
  }
  throw new TmuxClaudeError(
    ErrorCodes.FORBIDDEN,
    `Instance "${caller.instanceId}" (${caller.role ?? "unknown role"}) may not ${what} "${targetId}": it acts only on ${allowSelf ? "itself and " : ""}its own subtree (the instances it spawned and their descendants).`,
    { caller: caller.instanceId, target: targetId },
  );
}
