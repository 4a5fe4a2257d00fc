import type { InstanceRecord } from "../store/types.js";

/**
 * The live view of a record with what any process may write as stored: the
 * plugins' state, the message history, the last usage. The live record has
 * the freshest status; those parts are written through the store only.
 */
export function withSharedState(live: InstanceRecord | undefined, stored: InstanceRecord | undefined): InstanceRecord {
  if (!live) return stored!;
  if (!stored) return live;
  const shared: Partial<InstanceRecord> = {};
  if (stored.pluginState !== undefined) shared.pluginState = stored.pluginState;
  if (stored.messages !== undefined) shared.messages = stored.messages;
  if (stored.usage !== undefined) shared.usage = stored.usage;
  if (stored.turns !== undefined) shared.turns = stored.turns;
  const merged = Object.keys(shared).length ? { ...live, ...shared } : live;
  // Held, released, budget or progress changed, flagged stalled or not: the store's word, also when it removed them.
  if (merged.hold === stored.hold && merged.budget === stored.budget && merged.progress === stored.progress && merged.stalled === stored.stalled) return merged;
  const { hold: _hold, budget: _budget, progress: _progress, stalled: _stalled, ...rest } = merged;
  return { ...rest, ...(stored.hold ? { hold: stored.hold } : {}), ...(stored.budget ? { budget: stored.budget } : {}), ...(stored.progress ? { progress: stored.progress } : {}), ...(stored.stalled ? { stalled: stored.stalled } : {}) };
}
