import type { SubmitOptions } from "../agents/adapter.js";
import { ErrorCodes, TmuxClaudeError, quoteScreen } from "../errors.js";
import { typeableText } from "../tmux/typeable.js";
import type { InstanceHold } from "../store/types.js";
import type { Live, ManagerDeps } from "./deps.js";
import { heldIn } from "./holds.js";
import type { Registry } from "./registry.js";
import { TURN_PROMPTS } from "./turn-prompts.js";

/**
 * Sends to one instance from any process happen one at a time, so text and
 * Enter of two messages never interleave. A holder may wait up to a whole
 * send timeout for its receipt, so waiters wait longer than that; the lock
 * itself is a lease the holder renews while it lives, so a holder killed
 * with -9 frees it when its lease runs out, not after a send timeout.
 *
 * Settles with `fn`'s outcome (a receipt), before the lock is free: the
 * caller does not wait for the release (~0.9 ms of a send's ~3 over raw
 * tmux). The lock stays held until then, so the next send to the instance,
 * from this process (the lock's local line) or another, still waits for it;
 * the release writes only the lock's own files. `releases` tracks the whole
 * cycle until the lock is free (close waits for it).
 */
export function withSendLock<T>(deps: ManagerDeps, id: string, fn: () => Promise<T>, releases: Set<Promise<unknown>>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let given = false;
    const whole = deps.store.withLock(
      `send:${id}`,
      async () => {
        const outcome = await fn();
        given = true;
        resolve(outcome);
        return outcome;
      },
      { timeoutMs: deps.config.limits.sendTimeout * 2 + 5_000 },
    );
    releases.add(whole);
    whole.then(
      () => releases.delete(whole),
      (error: unknown) => {
        releases.delete(whole);
        if (!given) return reject(error);
        // The outcome stands (the message went in); a lock left behind is taken over when its lease runs out.
        deps.logger.warn({ err: error, instance: id }, "could not release the send lock after a send");
      },
    );
  });
}

/**
 * Hand text to the driver and wait for its receipt, within limits.sendTimeout.
 * The driver gets the text as the pane will show it (`typeableText`), so what
 * it looks for on the screen is what was typed. `promptStored`: the turn's
 * prompt is already in the store.
 */
export async function submitText(deps: ManagerDeps, registry: Registry, live: Live, text: string, options?: SubmitOptions, promptStored = false): Promise<void> {
  const { sendTimeout } = deps.config.limits;
  live.record = { ...live.record, turnPrompt: text };
  if (!promptStored) await storePrompt(deps, live, text);
  const timeout = AbortSignal.timeout(sendTimeout);
  try {
    await live.driver.submit(typeableText(text), AbortSignal.any([timeout, live.gone.signal]), options);
  } catch (error) {
    if (error instanceof TmuxClaudeError) throw error;
    const screen = await registry.screenOf(live);
    const why = live.gone.signal.aborted ? "the agent exited" : timeout.aborted ? `no receipt within limits.sendTimeout (${sendTimeout} ms)` : String(error);
    throw new TmuxClaudeError(
      timeout.aborted ? ErrorCodes.SEND_TIMEOUT : ErrorCodes.SEND_FAILED,
      `The message to "${live.record.id}" was not accepted: ${why}. Its screen:\n${quoteScreen(screen)}`,
      { id: live.record.id, screen },
      { cause: error },
    );
  }
}

/**
 * Record `text` as the prompt of the turn it is about to start, unless the
 * instance is held: the hold read from the stored record (a plain read:
 * holders write it with a locked update, so it is there once set; a hold set
 * after this read slips through, as one set after the old check did).
 * Undefined: not held, the prompt recorded (a failed write is logged: its
 * turnEnded will not name it). A store that cannot be read fails the send.
 */
export async function storePromptUnlessHeld(deps: ManagerDeps, live: Live, text: string): Promise<InstanceHold | undefined> {
  const hold = await heldIn(deps.store, live.record.id);
  if (!hold) await storePrompt(deps, live, text);
  return hold;
}

/**
 * Recorded before typing: whichever process sees the turn start (serve, often
 * before `delivered` fires here) reads it then, for TurnEnded.prompt. Not
 * merely before Enter: a screen-read agent's serve sees the typed text leave
 * the idle prompt and starts the turn then (writing while typing, awaited
 * before Enter, misnamed turns in the serve tests). A document put whole, no
 * record lock: only holders of the instance's send lock write it, one at a
 * time (the record's `turnPrompt` follows with the delivery's history mark).
 */
function storePrompt(deps: ManagerDeps, live: Live, text: string): Promise<void> {
  return deps.store.putDoc(TURN_PROMPTS, live.record.id, { text }).catch((error: unknown) => {
    deps.logger.warn({ err: error, instance: live.record.id }, "could not record the turn's prompt; its turnEnded will not name it");
  });
}
