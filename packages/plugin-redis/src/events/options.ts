import { z } from "zod";

export const DEFAULT_EVENTS_MAX_LEN = 10_000;

/** `redis({ events: { ... } })`: how much of the cluster's event history Redis keeps. */
export const eventsOptionsSchema = z
  .strictObject({
    /** The events stream is trimmed (approximately: MAXLEN ~) to about this many entries, oldest first. */
    maxLen: z.number().int().min(100).max(10_000_000).default(DEFAULT_EVENTS_MAX_LEN),
  })
  // prefault: an absent `events` is parsed as {}, so the defaults above apply.
  .prefault({});

export type EventsOptions = z.output<typeof eventsOptionsSchema>;
