/**
 * The plugin's options, checked with zod. URL problems are found here, at
 * start, so a bad endpoint is a config error naming the key rather than a
 * delivery that fails later. The values shown in errors are redacted: a
 * Slack or Discord URL's path is its credential.
 */
import { ErrorCodes, TmuxClaudeError, formatIssueList, formatPath, formatZodIssues, type ConfigIssue } from "@tmux-claude/core";
import { z } from "zod";

export const PLUGIN_NAME = "notify";

/** What `on` lists when the config gives none: everything a person usually wants to hear about. */
export const DEFAULT_ON = ["waiting", "error", "exited", "limited", "blocked", "budget", "conflict", "run-finished"] as const;

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);

export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/u.test(url.hostname);
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** HTTPS, or plain HTTP to this machine (a test receiver, a local relay): nothing else leaves the machine unencrypted. */
function secureUrl(value: string): boolean {
  const url = parseUrl(value);
  if (!url) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url));
}

const HTTPS_HELP = "an https:// URL (http:// only to a loopback host: localhost, 127.0.0.1, [::1])";

const SLACK_HOSTS = new Set(["hooks.slack.com", "hooks.slack-gov.com"]);
const DISCORD_HOSTS = new Set(["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"]);

/** A Slack incoming-webhook URL (`https://hooks.slack.com/services/T…/B…/…`); loopback URLs pass, for local receivers. */
export function isSlackWebhookUrl(value: string): boolean {
  const url = parseUrl(value);
  if (!url) return false;
  if (isLoopback(url)) return true;
  return url.protocol === "https:" && SLACK_HOSTS.has(url.hostname) && /^\/services\/[^/]+\/[^/]+\/[^/]+\/?$/u.test(url.pathname);
}

/** A Discord webhook URL (`https://discord.com/api/webhooks/<id>/<token>`); loopback URLs pass, for local receivers. */
export function isDiscordWebhookUrl(value: string): boolean {
  const url = parseUrl(value);
  if (!url) return false;
  if (isLoopback(url)) return true;
  return url.protocol === "https:" && DISCORD_HOSTS.has(url.hostname) && /^\/api\/(?:v\d+\/)?webhooks\/\d+\/[^/]+\/?$/u.test(url.pathname);
}

/** Milliseconds, as a positive integer. */
const ms = (fallback: number, max: number) => z.number().int().min(1).max(max).default(fallback);

export const notifyOptionsSchema = z
  .object({
    /** A generic webhook: a JSON POST signed with the secret (see README: the signature). */
    webhook: z
      .object({
        url: z.string().refine(secureUrl, HTTPS_HELP),
        secret: z.string().min(16, "at least 16 characters: the key of the HMAC signature (e.g. `openssl rand -hex 32`)"),
      })
      .strict()
      .optional(),
    slack: z
      .object({
        webhookUrl: z.string().refine(isSlackWebhookUrl, "a Slack incoming-webhook URL, https://hooks.slack.com/services/T…/B…/… (Slack: App > Incoming Webhooks > Add New Webhook)"),
      })
      .strict()
      .optional(),
    discord: z
      .object({
        webhookUrl: z.string().refine(isDiscordWebhookUrl, "a Discord webhook URL, https://discord.com/api/webhooks/<id>/<token> (Discord: channel settings > Integrations > Webhooks)"),
      })
      .strict()
      .optional(),
    /** Statuses (`waiting`, `error`, `exited`, `limited`, ...) and notice kinds (`budget`, `conflict`, `run-finished`, any plugin's) to send. */
    on: z
      .array(z.string().regex(/^[a-z][a-z0-9-]{0,63}$/u, "a status or notice kind: lower-case letters, digits and '-', e.g. \"waiting\" or \"budget\""))
      .min(1)
      .default([...DEFAULT_ON]),
    retry: z
      .object({
        /** Tries per event and endpoint, the first included. */
        attempts: z.number().int().min(1).max(100).default(10),
        /** The wait after the first failure; doubled after each further one. */
        initialDelayMs: ms(1_000, 3_600_000),
        /** The longest wait between tries. */
        maxDelayMs: ms(300_000, 86_400_000),
      })
      .strict()
      .default({ attempts: 10, initialDelayMs: 1_000, maxDelayMs: 300_000 }),
    /** How long one request may take. */
    timeoutMs: ms(10_000, 120_000),
    /** A failing endpoint is logged at most once per this interval (the count of failures in between is in the next line). */
    failureLogIntervalMs: ms(300_000, 86_400_000),
  })
  .strict()
  .refine((options) => options.webhook || options.slack || options.discord, {
    message: "no endpoint: give at least one of webhook: { url, secret }, slack: { webhookUrl }, discord: { webhookUrl }",
  });

export type NotifyOptions = z.input<typeof notifyOptionsSchema>;
export type ResolvedNotifyOptions = z.output<typeof notifyOptionsSchema>;

/**
 * The options, or TC_PLUGIN_OPTIONS_INVALID naming each key, the value and
 * what is allowed (as parsePluginOptions does), with credentials in the
 * values shown cut away.
 */
export function parseNotifyOptions(raw: unknown): ResolvedNotifyOptions {
  const input = raw ?? {};
  const result = notifyOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = formatZodIssues(result.error, redactOptions(input), notifyOptionsSchema).map((issue) => describeRoot(issue, input));
  throw new TmuxClaudeError(
    ErrorCodes.PLUGIN_OPTIONS_INVALID,
    `Invalid options for plugin "${PLUGIN_NAME}":\n${formatIssueList(issues)}\nFix the options passed to notify() in your config.`,
    { plugin: PLUGIN_NAME },
  );
}

/** A URL as it may be shown: scheme, host and the first path segment; the rest (tokens, keys) cut. Not a URL: its length only. */
export function redactUrl(value: string): string {
  const url = parseUrl(value);
  if (!url) return hidden(value);
  const first = url.pathname.split("/").filter(Boolean)[0];
  const more = url.pathname.split("/").filter(Boolean).length > 1 || url.search !== "";
  return `${url.protocol}//${url.host}${first ? `/${first}` : ""}${more ? "/…" : ""}`;
}

function hidden(value: string): string {
  return `[${value.length} characters, not shown]`;
}

/** Options whose values hold no credential (kinds, numbers): shown as given, so the error points at the mistake, unless a URL. */
const PLAIN_KEYS = new Set(["on", "retry", "timeoutMs", "failureLogIntervalMs"]);

/**
 * The whole input with every value that may be a credential cut: a URL to
 * its host and first segment, any other string (a secret, a token under a
 * misspelt key) to its length, a number or other value to its type; only
 * PLAIN_KEYS' strings and numbers are kept. Credentials turn up wherever a
 * user put them, not only where the schema expects them.
 */
function redactOptions(input: unknown): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return redactValue(input, false);
  return Object.fromEntries(Object.entries(input).map(([key, value]) => [key, redactValue(value, PLAIN_KEYS.has(key))]));
}

function redactValue(value: unknown, plain: boolean): unknown {
  if (typeof value === "string") return plain && !parseUrl(value) ? value : redactUrl(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, plain));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redactValue(inner, plain)]));
  if (value === null || value === undefined || typeof value === "boolean" || (plain && typeof value === "number")) return value;
  return `[a ${typeof value}, not shown]`;
}

/** An issue about the options object itself (no endpoint) names its keys, not its values. */
function describeRoot(issue: ConfigIssue, input: unknown): ConfigIssue {
  if (issue.path !== formatPath([]) || typeof input !== "object" || input === null || Array.isArray(input) || issue.value === undefined) return issue;
  const keys = Object.keys(input);
  const got = keys.length === 0 ? "an empty object" : `an object with keys ${keys.join(", ")}`;
  const suffix = `, got ${issue.value}`;
  const message = issue.message.endsWith(suffix) ? issue.message.slice(0, -suffix.length) : issue.message;
  return { ...issue, message: `${message}, got ${got}`, value: undefined };
}
