/**
 * `tmux-claude events [--follow] [--since <iso|id>] [--instance <id>]
 * [--type <type>]... [--limit <n>] [--json]`: the events of every node, one
 * line each (time, node, instance, type, summary), or one JSON object a line;
 * `--follow` keeps printing new ones until the kernel closes (Ctrl-C).
 */
import { parseArgs } from "node:util";
import { ErrorCodes, TmuxClaudeError, type CommandContribution } from "@tmux-claude/core";
import type { EventFeed } from "./feed.js";
import { EVENT_TYPES, type ClusterEvent, type EventType } from "./wire.js";

const USAGE = "Usage: tmux-claude events [--follow] [--since <iso time|stream id>] [--instance <id>] [--type <type>]... [--limit <n>] [--json]";

/** One event as the table line shows it: time, node, instance, type, summary. */
export function formatEvent(event: ClusterEvent): string {
  return [event.at, event.node, event.instanceId, event.type, summary(event)].join("  ");
}

function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/gu, " ").trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max - 1)}…` : flat);
}

function summary(event: ClusterEvent): string {
  switch (event.type) {
    case "statusChange":
      return `${event.from} -> ${event.to}${event.instance.limitedUntil && event.to === "limited" ? ` until ${event.instance.limitedUntil}` : ""}${event.reason ? ` (${event.reason})` : ""}`;
    case "delivered":
      return `message ${event.messageId} from ${event.from ?? "root"}${event.queued ? " (from the queue)" : ""}: ${oneLine(event.text)}`;
    case "turnEnded":
      return `${event.reason}${event.lastReply !== undefined ? `: ${oneLine(event.lastReply)}` : ""}`;
    case "usage":
      return `${event.usage.inputTokens} in, ${event.usage.outputTokens} out${event.usage.costUsd !== undefined ? `, $${event.usage.costUsd.toFixed(4)}` : ""}`;
    case "progress":
      return event.progress ? `${event.progress.done}/${event.progress.total}${event.progress.current ? `: ${oneLine(event.progress.current)}` : ""} (${event.progress.source})` : "progress removed";
    case "afterSpawn":
      return `${event.restart ? "restarted" : "spawned"}: ${event.instance.role} (${event.instance.agent})${event.instance.parentId ? `, parent ${event.instance.parentId}` : ""}`;
    case "afterTerminate":
      return `terminated${event.cascade ? " (cascade)" : ""}`;
    case "spawnFailed":
      return `${event.restart ? "restart" : "spawn"} of a ${event.role} failed: ${event.error.code ? `${event.error.code}: ` : ""}${oneLine(event.error.message, 120)}`;
  }
}

interface Flags {
  follow: boolean;
  json: boolean;
  since?: string;
  instanceId?: string;
  types?: EventType[];
  limit: number;
}

function parseFlags(argv: string[]): Flags {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        follow: { type: "boolean", short: "f" },
        json: { type: "boolean" },
        since: { type: "string" },
        instance: { type: "string" },
        type: { type: "string", multiple: true },
        limit: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude events: ${(error as Error).message}. ${USAGE}`, { args: argv });
  }
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude events: --limit ${values.limit} is not a whole number of 1 or more. ${USAGE}`, { limit: values.limit });
  }
  const types = values.type?.flatMap((t) => t.split(",")).filter(Boolean);
  const unknown = types?.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t)) ?? [];
  if (unknown.length > 0) {
    throw new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, `tmux-claude events: unknown --type ${unknown.join(", ")}. Types: ${EVENT_TYPES.join(", ")}. ${USAGE}`, { types: unknown });
  }
  return {
    follow: values.follow === true,
    json: values.json === true,
    limit,
    ...(values.since !== undefined ? { since: values.since } : {}),
    ...(values.instance !== undefined ? { instanceId: values.instance } : {}),
    ...(types ? { types: types as EventType[] } : {}),
  };
}

export function eventsCommand(events: EventFeed): CommandContribution {
  return {
    name: "events",
    description: "Show the events of every node (status, deliveries, turns, spawns, terminations); --follow to keep watching, --json for JSON lines",
    async run(argv: string[]): Promise<number> {
      const flags = parseFlags(argv);
      const print = (event: ClusterEvent) => process.stdout.write(`${flags.json ? JSON.stringify(event) : formatEvent(event)}\n`);
      const filter = { ...(flags.instanceId ? { instanceId: flags.instanceId } : {}), ...(flags.types ? { types: flags.types } : {}) };
      // The history up to a fixed point, then (--follow) what comes after that very point: nothing is printed twice or skipped.
      const until = await events.position();
      const past = await events.history({ ...filter, ...(flags.since !== undefined ? { since: flags.since } : {}), until, limit: flags.limit });
      for (const event of past) print(event);
      if (!flags.follow) return 0;
      await events.subscribe({ ...filter, since: until }, print);
      // Until the kernel closes: the CLI closes it at Ctrl-C (and exits 130, as any command it interrupts).
      await events.ended;
      return 0;
    },
    // For the audit log: the instance whose events it shows (--instance), when the arguments parse.
    invocation(argv) {
      try {
        const { instanceId } = parseFlags([...argv]);
        return instanceId !== undefined ? { target: instanceId } : {};
      } catch {
        return {};
      }
    },
  };
}
