import { subtreeIds, type InstanceRecord, type InstanceSummary, type KernelApi, type Settings } from "@tmux-claude/core";
import { forbidden } from "./errors.js";

/**
 * Who is calling a tool. Known from the connection (the instance's secret on
 * HTTP, the process for stdio), never from a tool argument.
 * `instanceId: null` is the root: a person's own MCP client or the CLI.
 */
export interface Caller {
  instanceId: string | null;
  role: string | null;
  /**
   * A root caller that runs inside an instance's process tree (an agent
   * started `tmux-claude mcp` through its shell): the audit log records that
   * instance as the caller. Its rights stay the root's, as its shell's are.
   */
  inInstance?: string;
}

export const ROOT: Caller = Object.freeze({ instanceId: null, role: null });

export function isRoot(caller: Caller): boolean {
  return caller.instanceId === null;
}

export function describeCaller(caller: Caller): string {
  return caller.instanceId === null ? "the root caller" : `instance "${caller.instanceId}" (${caller.role ?? "unknown role"})`;
}

/**
 * May this caller use the orchestration tools? The root always; an instance
 * when its role may spawn something (`roles.<role>.spawns` is not empty).
 * A specialist (spawns nothing by default) only does its own work.
 */
export function mayOrchestrate(config: Settings, caller: Caller): boolean {
  if (isRoot(caller)) return true;
  const role = caller.role === null ? undefined : config.roles[caller.role];
  return (role?.spawns.length ?? 0) > 0;
}

/** Is `id` a strict descendant of `ancestorId`? Follows the parent links of the stored records. */
export async function isDescendant(kernel: KernelApi, ancestorId: string, id: string): Promise<boolean> {
  let current: string | null = id;
  // The depth limit bounds the walk; the guard stops a corrupt cycle.
  for (let steps = 0; current !== null && steps <= kernel.config.limits.maxDepth + 1; steps++) {
    const record: InstanceRecord | undefined = await kernel.get(current).catch(() => undefined);
    if (!record) return false;
    if (record.parentId === ancestorId) return true;
    current = record.parentId;
  }
  return false;
}

/**
 * The caller and everything below it, from one listing. A record whose parent
 * chain never reaches the caller is outside, even when its id looks related.
 */
export function subtreeOf(all: readonly InstanceSummary[], rootId: string): Set<string> {
  // The caller's own record may be missing (it was just terminated); then nothing is inside.
  return subtreeIds(all, rootId);
}

/**
 * Refuse unless the caller may act on `targetId`: the root on anything, an
 * instance on its strict descendants (and on itself where `allowSelf`).
 *
 * A caller learns nothing about ids outside its subtree: an existing and a
 * made-up id there get the same refusal. Only an id in its own namespace
 * (`<caller>.…`, where its children's ids live) is reported as missing.
 */
export async function assertTarget(kernel: KernelApi, caller: Caller, targetId: string, what: string, allowSelf = false): Promise<void> {
  if (caller.instanceId === null) return;
  if (targetId === caller.instanceId) {
    if (allowSelf) return;
    throw forbidden(
      `${describeCaller(caller)} may not ${what} itself. It may ${what} only instances below it (ids starting with "${caller.instanceId}.").`,
      { caller: caller.instanceId, target: targetId },
    );
  }
  if (await isDescendant(kernel, caller.instanceId, targetId)) return;
  // Its own namespace: the kernel's "no instance" error, which says what to do.
  if (targetId.startsWith(`${caller.instanceId}.`)) await kernel.get(targetId);
  throw forbidden(
    `${describeCaller(caller)} may not ${what} "${targetId}": it acts only on its own subtree (the instances it spawned and their descendants). See the list tool for the instances you may address.`,
    { caller: caller.instanceId, target: targetId },
  );
}

/**
 * `send` may go down (an orchestrator to its subtree) or one step up: any
 * instance to its own parent, queued or refused while the parent is busy,
 * never `whenBusy: "now"`, so a child never interrupts its parent mid-work.
 */
export async function assertMaySend(kernel: KernelApi, caller: Caller, targetId: string, whenBusy: string | undefined, orchestrates: boolean, refusal: (caller: Caller) => string): Promise<void> {
  if (caller.instanceId !== null) {
    const { parentId } = await kernel.get(caller.instanceId);
    if (parentId !== null && targetId === parentId) {
      if (whenBusy !== "now") return;
      throw forbidden(
        `${describeCaller(caller)} may not send to its parent "${parentId}" with whenBusy "now": a child never interrupts its parent mid-turn. Leave whenBusy out (queued, delivered when it is idle) or use "refuse".`,
        { caller: caller.instanceId, target: targetId },
      );
    }
    if (!orchestrates) {
      throw forbidden(`${refusal(caller)} It may send only to its parent${parentId !== null ? ` ("${parentId}")` : " (it has none)"}, e.g. to answer a message (replyTo).`, { caller: caller.instanceId, target: targetId });
    }
  }
  await assertTarget(kernel, caller, targetId, "send to");
}
