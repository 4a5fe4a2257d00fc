/**
 * The messages each endpoint gets. The generic webhook gets the event itself
 * as JSON (for scripts); Slack and Discord get what a person reads: the
 * title, the instance, the status or kind, the node and the time.
 */
import type { NotifyEvent } from "./event.js";

/** The generic webhook's body: versioned, so receivers can tell shapes apart. */
export function webhookBody(event: NotifyEvent): string {
  return JSON.stringify({ type: "tmux-claude.notification", version: 1, ...event });
}

function instanceLabel(event: NotifyEvent): string | undefined {
  const instance = event.instance;
  if (!instance) return undefined;
  const name = instance.name ? ` "${instance.name}"` : "";
  return instance.role ? `${instance.id}${name} (${instance.role})` : `${instance.id}${name}`;
}

function what(event: NotifyEvent): string {
  return event.status ? `status ${event.status.from} → ${event.status.to}` : `${event.kind} (from ${event.source})`;
}

/** The facts under the title, in the order a person scans them. */
function facts(event: NotifyEvent): { name: string; value: string }[] {
  const instance = instanceLabel(event);
  return [
    ...(instance ? [{ name: "Instance", value: instance }] : []),
    { name: event.status ? "Status" : "Kind", value: what(event) },
    { name: "Node", value: event.node },
    { name: "Time", value: event.at },
  ];
}

/** Slack's incoming-webhook message: a plain `text` (notifications, old clients) and blocks. */
export function slackMessage(event: NotifyEvent): { text: string; blocks: unknown[] } {
  const text = `[tmux-claude] ${event.title}`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `*${escapeSlack(event.title)}*` } },
      { type: "context", elements: facts(event).map((fact) => ({ type: "mrkdwn", text: `*${fact.name}:* ${escapeSlack(fact.value)}` })) },
    ],
  };
}

const DISCORD_COLORS: Record<NotifyEvent["severity"], number> = { info: 0x3b82f6, warning: 0xf59e0b, error: 0xef4444 };

/** Discord's webhook JSON: one embed; mentions off, so a title naming @everyone pings nobody. */
export function discordMessage(event: NotifyEvent): Record<string, unknown> {
  return {
    username: "tmux-claude",
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: cut(event.title, 256),
        color: DISCORD_COLORS[event.severity],
        timestamp: event.at,
        fields: facts(event).map((fact) => ({ name: fact.name, value: cut(fact.value, 1024), inline: true })),
        footer: { text: `event ${cut(event.eventId, 200)}` },
      },
    ],
  };
}

function escapeSlack(text: string): string {
  return text.replace(/&/gu, "&amp;").replace(/</gu, "&lt;").replace(/>/gu, "&gt;");
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
