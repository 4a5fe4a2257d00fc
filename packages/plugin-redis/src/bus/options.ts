import { z } from "zod";

export const DEFAULT_ACCEPT_TIMEOUT_MS = 5_000;
export const DEFAULT_RESULT_TIMEOUT_MS = 60_000;

/** `redis({ bus: { ... } })`: how long a caller waits for another node. */
export const busOptionsSchema = z
  .strictObject({
    /** How long the owning node may take to accept a request before the caller withdraws it and fails naming the node. */
    acceptTimeoutMs: z.number().int().min(100).max(600_000).default(DEFAULT_ACCEPT_TIMEOUT_MS),
    /** How long an accepted request may take (on top of a read's or wait's own timeout): spawn, restart, typing. */
    resultTimeoutMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_RESULT_TIMEOUT_MS),
  })
  // prefault: an absent `bus` is parsed as {}, so the defaults above apply.
  .prefault({});

export type BusOptions = z.output<typeof busOptionsSchema>;
