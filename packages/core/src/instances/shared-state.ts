import type { InstanceRecord } from "../store/types.js";

/**
 * The live view of a record with what any process may write as stored: the
 * plugins' state, the message history, the last usage. The live record has
 * the freshest status; those parts are written through the store only.
 */
export function withSharedState(current: InstanceRecord | undefined, stored: InstanceRecord | undefined): InstanceRecord {
  if (!current) return stored!;
  if (!stored) return current;
  const live = stored.reusedAt !== undefined && stored.reusedAt !== current.reusedAt ? afterReuse(current, stored) : current;
  const shared: Partial<InstanceRecord> = {};
  if (stored.pluginState !== undefined) shared.pluginState = stored.pluginState;
  if (stored.messages !== undefined) shared.messages = stored.messages;
  if (stored.usage !== undefined) shared.usage = stored.usage;
  if (stored.turns !== undefined) shared.turns = stored.turns;
  const merged = Object.keys(shared).length ? { ...live, ...shared } : live;
  // Held, released, budget or progress changed, flagged stalled or not, taken from a pool or claimed for reuse (with a new name): the store's word, also when it removed them.
  if (STORED_WORD.every((key) => merged[key] === stored[key])) return merged;
  const rest: Record<string, unknown> = { ...merged };
  for (const key of STORED_WORD) {
    if (stored[key] === undefined) delete rest[key];
    else rest[key] = stored[key];
  }
  return rest as unknown as InstanceRecord;
}

/** Optional fields any process may set or remove: the store has them. */
const STORED_WORD = ["hold", "budget", "progress", "stalled", "pooled", "reusing", "name"] as const satisfies readonly (keyof InstanceRecord)[];

/** A reuse (by any process) reset the conversation: the last task's reply and prompt are no answer of the new one. */
function afterReuse(live: InstanceRecord, stored: InstanceRecord): InstanceRecord {
  const { lastReply: _lastReply, turnPrompt: _turnPrompt, ...rest } = live;
  return {
    ...rest,
    reusedAt: stored.reusedAt,
    ...(stored.lastReply !== undefined ? { lastReply: stored.lastReply } : {}),
    ...(stored.turnPrompt !== undefined ? { turnPrompt: stored.turnPrompt } : {}),
  };
}
