import path from "node:path";
import { ErrorCodes, TmuxClaudeError, quoteScreen } from "../errors.js";
import type { InstanceRecord } from "../store/types.js";
import type { ManagerDeps } from "./deps.js";
import type { Registry } from "./registry.js";
import { asSpawned, requestedWorkDir, takeRefused, type TakeRequest } from "./pools.js";
import { withSharedState } from "./shared-state.js";
import type { Messaging } from "./messaging.js";

/** A claim older than this was left by a process that died mid-reset: the instance may be claimed again. */
const STALE_CLAIM_MS = 10 * 60_000;

/**
 * `spawn({ reuse: "idle" })`: an idle instance of the role under the same
 * parent (same agent and workDir, this node's, no live children, nothing
 * queued or held) is claimed in one store update (`reusing`), its
 * conversation reset by its driver under the send lock (so no message is
 * typed in between), and handed the new spawn's name and budget. An agent
 * whose driver has no `resetConversation` is never reused: the spawn is cold.
 */
export async function reuseIdle(deps: ManagerDeps, registry: Registry, messaging: Messaging, request: TakeRequest): Promise<InstanceRecord | undefined> {
  const { store, nodes } = deps;
  const all = await store.list();
  const wanted = path.resolve(request.workDir);
  const now = Date.now();
  const hasLiveChildren = (id: string) => all.some((r) => r.parentId === id && r.status !== "exited");
  const candidates = all.filter(
    (r) =>
      r.role === request.role && r.agent === request.agent && r.parentId === request.parentId && r.status === "idle" && !r.pooled && !r.hold && !r.terminatedAt &&
      !claimed(r, now) && nodes.owns(r) && requestedWorkDir(r) === wanted && !hasLiveChildren(r.id),
  );
  for (const candidate of candidates) {
    if ((await store.queue(candidate.id)).length > 0) continue;
    if ((await takeRefused(deps, candidate, request, "reuse")) !== undefined) continue;
    const live = await registry.attach(candidate).catch(() => undefined);
    if (!live?.driver.resetConversation) continue;
    let won = false;
    const at = new Date().toISOString();
    await store.update(candidate.id, (r) => {
      won = r.status === "idle" && !r.pooled && !r.terminatedAt && !claimed(r, Date.now());
      return won ? { ...r, reusing: at } : r;
    });
    if (!won) continue;
    let wasReset: boolean;
    try {
      wasReset = await reset(deps, registry, messaging, candidate.id);
    } catch (error) {
      await unclaim(deps, candidate.id);
      throw error;
    }
    // A send got the lock between our look and the claim: the agent works on it (or has it queued); it is no longer free.
    if (!wasReset) {
      await unclaim(deps, candidate.id);
      continue;
    }
    // A new task: what the last one left (its reply, prompt, turn count, message history) is not this one's, in one write;
    // `reusedAt` makes every process's view drop them too (withSharedState); the last task's progress and stall flag go with them.
    // Usage stays: the tokens were spent.
    const reusedAt = new Date().toISOString();
    const updated = await store.update(candidate.id, (r) => ({ ...asSpawned(r, request), lastReply: undefined, turnPrompt: undefined, turns: 0, messages: [], progress: undefined, stalled: undefined, reusedAt }));
    const attached = registry.get(candidate.id);
    if (attached && updated) attached.record = withSharedState(attached.record, updated);
    if (updated) return updated;
  }
  return undefined;
}

function claimed(record: InstanceRecord, now: number): boolean {
  return record.reusing !== undefined && now - Date.parse(record.reusing) < STALE_CLAIM_MS;
}

function unclaim(deps: ManagerDeps, id: string): Promise<unknown> {
  return deps.store.update(id, (r) => ({ ...r, reusing: undefined })).catch(() => undefined);
}

/**
 * Reset under the send lock, within limits.sendTimeout; a failure quotes the
 * screen. The candidate was chosen from a snapshot: a send that held the lock
 * meanwhile may have typed a message (the agent is busy) or queued one, so
 * idle, queue and hold are looked at again under the lock; false (nothing
 * typed) when the instance is no longer free. A reset is never typed into a
 * busy agent.
 */
async function reset(deps: ManagerDeps, registry: Registry, messaging: Messaging, id: string): Promise<boolean> {
  const { sendTimeout } = deps.config.limits;
  return messaging.sendLock(id, async () => {
    const record = await deps.store.get(id);
    if (!record) return false;
    const live = registry.get(id) ?? (await registry.attach(record));
    // A turn that began under a send's lock may not have reached the store yet: this process's view of the agent counts too.
    await live.driver.settled?.();
    const free = record.status === "idle" && live.record.status === "idle" && !record.hold && !record.terminatedAt;
    if (!free || (await deps.store.queue(id)).length > 0) return false;
    const timeout = AbortSignal.timeout(sendTimeout);
    try {
      await live.driver.resetConversation!(AbortSignal.any([timeout, live.gone.signal]));
    } catch (error) {
      if (error instanceof TmuxClaudeError) throw error;
      const screen = await registry.screenOf(live);
      const why = live.gone.signal.aborted ? "ended as the agent exited" : timeout.aborted ? `was not confirmed within limits.sendTimeout (${sendTimeout} ms)` : `failed: ${String(error)}`;
      throw new TmuxClaudeError(
        ErrorCodes.SPAWN_FAILED,
        `Reusing "${id}" failed: the reset of its conversation ${why}. It is left as it was (idle, its conversation maybe not reset); spawn without reuse to start a new instance. Its screen:\n${quoteScreen(screen)}`,
        { id, screen },
        { cause: error },
      );
    }
    return true;
  });
}
