import type { Logger } from "pino";
import type { Settings } from "../config/schema.js";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import type { KernelHooks } from "../kernel/hooks.js";
import type { StateStore } from "../store/store-contract.js";
import type { Holds } from "./holds.js";

/**
 * The caps that stop runaway loops (an agent that spawns or talks without
 * end): limits.maxTurns and limits.spawnRate. Both live in the store, so
 * every process counts the same turns and spawns.
 */

/** Where the spawn times of limits.spawnRate are kept: one document per parent ("root" for top level) or "all". */
const SPAWNS = "kernel/spawns";

/**
 * limits.maxTurns: count each ended turn on the record (turnEnded fires once
 * across processes) and hold the instance's delivery at the cap, so the
 * message after its last allowed turn waits until a person or its parent
 * releases it (`tmux-claude resume`), which starts the count again.
 */
export function tapTurnCap(hooks: KernelHooks, store: StateStore, holds: Holds, config: Settings, logger: Logger): void {
  const max = config.limits.maxTurns;
  if (max === undefined) return;
  hooks.turnEnded.tapPromise("limits.maxTurns", async (turn) => {
    let turns = 0;
    const updated = await store.update(turn.instanceId, (r) => {
      turns = (r.turns ?? 0) + 1;
      return { ...r, turns };
    });
    if (!updated || updated.status === "exited" || turns < max || updated.hold) return;
    const reason = `turn cap reached: ${turns} turns, limits.maxTurns is ${max}`;
    await holds.hold(turn.instanceId, reason, "maxTurns");
    logger.warn({ instance: turn.instanceId, turns, maxTurns: max }, "turn cap reached; its delivery is held until it is resumed");
  });
}

/**
 * limits.spawnRate: refuse a spawn when `max` spawns (per parent, or in
 * total) already happened within the last `perMs`, else record it. Called
 * under the spawn lock, so concurrent spawns of any process count each other.
 */
export async function takeSpawnSlot(store: StateStore, config: Settings, parentId: string | null, now = Date.now()): Promise<void> {
  const rate = config.limits.spawnRate;
  if (!rate) return;
  const key = rate.per === "total" ? "all" : (parentId ?? "root");
  const since = now - rate.perMs;
  let recent: number[] = [];
  await store.updateDoc<number[]>(SPAWNS, key, (times) => {
    recent = (times ?? []).filter((t) => t > since);
    return recent.length >= rate.max ? recent : [...recent, now];
  });
  if (recent.length < rate.max) return;
  const who = rate.per === "total" ? "in total" : parentId ? `by "${parentId}"` : "at the top level";
  const retryMs = recent[0]! + rate.perMs - now;
  throw new TmuxClaudeError(
    ErrorCodes.SPAWN_RATE,
    `Spawn refused: ${recent.length} spawns ${who} within the last ${rate.perMs} ms, limits.spawnRate allows ${rate.max} (per ${rate.per}). ` +
      `Try again in ${Math.ceil(retryMs / 1000)} s, or raise limits.spawnRate.max in your config.`,
    { spawns: recent.length, max: rate.max, perMs: rate.perMs, per: rate.per, parentId, retryMs },
  );
}
