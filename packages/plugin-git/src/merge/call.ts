// What a merge request of an instance looks like from outside (API, CLI, MCP).
import { z } from "zod";
import { commandSchema, mergeResolveSchema, mergeStrategySchema } from "../options.js";
import type { MergeOutcome } from "./engine.js";
import type { QueuedEntry } from "./queue.js";

export const mergeCallSchema = z
  .object({
    /** The target branch; default: the instance's base (its parent's branch). */
    into: z.string().min(1).optional(),
    strategy: mergeStrategySchema.optional(),
    resolve: mergeResolveSchema.optional(),
    verify: commandSchema.optional(),
    /** Only say what would happen: clean or the conflicts, and whether the target may move. */
    dryRun: z.boolean().optional(),
    /** Served before lower priorities (default 0). */
    priority: z.number().int().optional(),
    /** Merge together with the target's other queued batch requests, verified once. */
    batch: z.boolean().optional(),
  })
  .strict();

export type MergeCall = z.input<typeof mergeCallSchema>;

/** Who asks (MCP): root (no instance) may merge anything; an instance only its own children into its own branch. */
export interface MergeCaller {
  readonly instanceId: string | null;
  readonly role: string | null;
}

export interface MergePart {
  merge(id: string, call?: MergeCall, caller?: MergeCaller): Promise<MergeOutcome>;
  /** Every request waiting in a merge queue, in serving order per target. */
  queue(): Promise<QueuedEntry[]>;
}

