import { z } from "zod";

/** `limits.usage`: what the kernel does when an account hits its usage limit (instances in status `limited`). */
export const usageLimitsSchema = z
  .strictObject({
    /** At the reset, send the limited instance `continueMessage` so it goes on by itself. */
    resumeOnReset: z.boolean().default(false),
    /** The message sent at the reset with `resumeOnReset`. */
    continueMessage: z.string().trim().min(1, 'a message with text, e.g. "continue"').default("continue"),
    /**
     * A spawn of an agent whose account is limited: `wait` holds it until the
     * reset (logged while it waits), `fail` refuses it with the reset time.
     */
    spawn: z.enum(["wait", "fail"]).default("wait"),
    /** Milliseconds until the reset when the agent did not say when its limit resets. */
    unknownResetMs: z.int().min(1_000).default(300_000),
  })
  .prefault({});

export type UsageLimitsConfig = z.output<typeof usageLimitsSchema>;
