/**
 * A failing endpoint is logged once per interval, not once per event or try:
 * an endpoint that is down for an hour while agents work would otherwise
 * bury the log. The next line counts what was left out; the first success
 * after a logged failure says the endpoint works again.
 */
import type { Logger } from "@tmux-claude/core";
import type { Transport } from "./transports.js";

interface EndpointLog {
  lastLoggedAt: number;
  suppressed: number;
  failing: boolean;
}

export class FailureLog {
  readonly #endpoints = new Map<string, EndpointLog>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  failed(transport: Transport, reason: string, outcome: "retrying" | "gave up", eventId: string): void {
    const entry = this.#endpoints.get(transport.destination) ?? { lastLoggedAt: -Infinity, suppressed: 0, failing: false };
    this.#endpoints.set(transport.destination, entry);
    entry.failing = true;
    const now = Date.now();
    if (now - entry.lastLoggedAt < this.intervalMs) {
      entry.suppressed += 1;
      return;
    }
    const since = entry.suppressed > 0 ? ` (${entry.suppressed} more failure(s) since the last line)` : "";
    const next = outcome === "retrying" ? "retrying with backoff" : "gave up on this event";
    this.logger.warn(
      { destination: transport.destination, host: transport.host, event: eventId, reason, suppressed: entry.suppressed },
      `notify: sending to ${transport.destination} (${transport.host}) failed: ${reason}; ${next}${since}. Check the endpoint; this is logged at most once per interval.`,
    );
    entry.lastLoggedAt = now;
    entry.suppressed = 0;
  }

  delivered(transport: Transport): void {
    const entry = this.#endpoints.get(transport.destination);
    if (!entry?.failing) return;
    entry.failing = false;
    this.logger.info({ destination: transport.destination, host: transport.host }, `notify: ${transport.destination} (${transport.host}) delivers again`);
  }
}
