/**
 * Knowledge and claims are kept per hierarchy: the tree under one top-level
 * instance, named by that instance's id. An instance's hierarchy is its root
 * ancestor's; the root caller (a person, the CLI) belongs to none, so it
 * names the hierarchy it means by any instance in it.
 */
import { ErrorCodes, TmuxClaudeError, type InstanceRecord, type KernelApi } from "@tmux-claude/core";
import { KnowledgeErrors } from "./errors.js";

/** The top-level ancestor of `id` (itself when it is top-level), following the stored parent links. */
export async function rootOf(kernel: KernelApi, id: string): Promise<string> {
  let record = await kernel.get(id);
  // The depth limit bounds the walk; the guard stops a corrupt cycle.
  for (let steps = 0; record.parentId !== null && steps <= kernel.config.limits.maxDepth + 1; steps++) {
    const parent = await recordOrGone(kernel, record.parentId);
    if (!parent) break;
    record = parent;
  }
  return record.id;
}

/**
 * The instance's record, or undefined when it is gone (TC_INSTANCE_NOT_FOUND
 * only): any other failure, such as a store that is reconnecting, fails the
 * call, since taking a live instance for gone would put a claim in the wrong
 * hierarchy or drop a live holder's claims.
 */
export async function recordOrGone(kernel: KernelApi, id: string): Promise<InstanceRecord | undefined> {
  try {
    return await kernel.get(id);
  } catch (error) {
    if ((error as { code?: unknown }).code === ErrorCodes.INSTANCE_NOT_FOUND) return undefined;
    throw error;
  }
}

/**
 * The hierarchy a call is about: the caller's own, or for the root caller
 * the one of the instance it names (`hierarchy`). An instance may not name
 * another hierarchy; the root must name one when `required`.
 */
export async function hierarchyOf(kernel: KernelApi, caller: string | null, given: string | undefined, required: boolean): Promise<string | undefined> {
  if (caller !== null) {
    const own = await rootOf(kernel, caller);
    if (given !== undefined && (await rootOf(kernel, given).catch(() => undefined)) !== own) {
      throw new TmuxClaudeError(KnowledgeErrors.BAD_INPUT, `hierarchy "${given}" is not yours: instance "${caller}" works in hierarchy "${own}" and sees only its knowledge and claims. Leave hierarchy out.`, { hierarchy: given, caller });
    }
    return own;
  }
  if (given === undefined) {
    if (!required) return undefined;
    throw new TmuxClaudeError(KnowledgeErrors.BAD_INPUT, `The root caller belongs to no hierarchy: name one with hierarchy (any instance id in it, e.g. the top-level instance's; see tmux-claude list).`, {});
  }
  return rootOf(kernel, given);
}
