/**
 * One transport per configured endpoint: sends one event, or throws a
 * DeliveryError that says whether trying again may help. Errors carry no
 * URL: a Slack or Discord URL's path is its credential, and failures are logged.
 */
import { IncomingWebhook } from "@slack/webhook";
import type { NotifyEvent } from "./event.js";
import { discordMessage, slackMessage, webhookBody } from "./format.js";
import type { ResolvedNotifyOptions } from "./options.js";
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign } from "./signature.js";

export type Destination = "webhook" | "slack" | "discord";

export interface Transport {
  readonly destination: Destination;
  /** Scheme and host only, for log lines. */
  readonly host: string;
  send(event: NotifyEvent, signal: AbortSignal): Promise<void>;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** False when the endpoint refused the request itself (a 4xx other than 408/425/429): the same request fails again. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "DeliveryError";
  }
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

function statusError(status: number, statusText: string): DeliveryError {
  return new DeliveryError(`HTTP ${status}${statusText ? ` ${statusText}` : ""}`, status >= 500 || RETRYABLE_STATUS.has(status));
}

/**
 * fetch throws a TypeError without a cause when it cannot even build the
 * request (a header value with a newline or a non-Latin-1 character, an
 * invalid URL); a network failure is a TypeError with its cause. The same
 * request fails again, so this is not retried. Its message may hold the
 * value, so it is not shown.
 */
function unsendable(error: unknown): DeliveryError | undefined {
  if (!(error instanceof TypeError) || (error as { cause?: unknown }).cause !== undefined) return undefined;
  return new DeliveryError("the request could not be made (TypeError: a header or URL it cannot carry, e.g. an event id with a newline or non-Latin-1 characters)", false);
}

/** A network failure, described by its code (ECONNREFUSED, a timeout), never by the URL. */
function networkError(error: unknown, signal: AbortSignal): DeliveryError {
  if (signal.aborted) return new DeliveryError("request timed out or was cancelled", true);
  const refused = unsendable(error);
  if (refused) return refused;
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? (error instanceof Error && error.name === "TimeoutError" ? "timed out" : "network error");
  return new DeliveryError(`request failed: ${detail}`, true);
}

async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, signal, redirect: "error" });
  } catch (error) {
    throw networkError(error, signal);
  }
  // Drain the body so the connection is released.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw statusError(response.status, response.statusText);
}

function hostOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

export function createTransports(options: ResolvedNotifyOptions): Transport[] {
  const transports: Transport[] = [];
  const { webhook, slack, discord } = options;
  if (webhook) {
    transports.push({
      destination: "webhook",
      host: hostOf(webhook.url),
      send: (event, signal) => {
        const body = webhookBody(event);
        const timestamp = Math.floor(Date.now() / 1000);
        return postJson(
          webhook.url,
          body,
          { [SIGNATURE_HEADER]: sign(webhook.secret, timestamp, body), [TIMESTAMP_HEADER]: String(timestamp), [EVENT_ID_HEADER]: event.eventId },
          signal,
        );
      },
    });
  }
  if (slack) {
    transports.push({
      destination: "slack",
      host: hostOf(slack.webhookUrl),
      send: async (event, signal) => {
        // A client per send, its fetch given this send's signal: close() then cuts an open Slack request as it does the
        // others, rather than return while it may still succeed after the store closed (never marked sent: a repeat).
        // Retries are ours (persisted, across processes), so the client's own are left off (its default).
        const client = new IncomingWebhook(slack.webhookUrl, {
          timeout: options.timeoutMs,
          fetch: (url, init) => fetch(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
        });
        try {
          await client.send(slackMessage(event) as Parameters<IncomingWebhook["send"]>[0]);
        } catch (error) {
          throw slackError(error);
        }
      },
    });
  }
  if (discord) {
    transports.push({
      destination: "discord",
      host: hostOf(discord.webhookUrl),
      send: (event, signal) => postJson(discord.webhookUrl, JSON.stringify(discordMessage(event)), {}, signal),
    });
  }
  return transports;
}

function slackError(error: unknown): DeliveryError {
  const e = error as { code?: string; statusCode?: number; statusMessage?: string; original?: { cause?: { code?: string }; name?: string } };
  if (e?.code === "slack_webhook_http_error" && typeof e.statusCode === "number") return statusError(e.statusCode, e.statusMessage ?? "");
  const refused = unsendable(e?.original);
  if (refused) return refused;
  const detail = e?.original?.cause?.code ?? (e?.original?.name === "TimeoutError" ? "timed out" : "network error");
  return new DeliveryError(`request failed: ${detail}`, true);
}
