/**
 * What one audit line holds, reduced from an operation: the arguments as a
 * digest plus the fields that say what was asked without saying anything
 * secret (ids, roles, flags; the length of a text, never the text), the result
 * as ids and states (never a reply or a screen), an error as its code.
 */
import { createHmac } from "node:crypto";
import type { OperationEvent } from "@tmux-claude/core";

export interface AuditEntry {
  at: string;
  node: string;
  /** The calling instance's id, or "root" (a person: the CLI, `tmux-claude mcp`). */
  caller: string;
  role?: string;
  surface: OperationEvent["surface"];
  operation: string;
  target?: string;
  /** `hmac`: the keyed digest of the arguments' canonical JSON (see key.ts); the named fields as given; `<field>Length` for texts. */
  args: Record<string, unknown>;
  ok: boolean;
  result?: Record<string, unknown>;
  /** The error code only: messages may quote a screen that shows a message text. */
  error?: string;
  durationMs: number;
}

export const ROOT_CALLER = "root";

/**
 * A caller writes lines with what it sends (an unknown tool's name, a refused
 * call's raw arguments): every string logged is cut to this many characters,
 * so no caller can make a line large or rotate the history away with a few calls.
 */
export const MAX_LOGGED_CHARS = 200;

/** What a target looks like: an instance, run or role id, or a workflow file's path. Anything else (a text passed where an id belongs) is left out. */
const TARGET = /^[A-Za-z0-9_.~/][A-Za-z0-9_.~/:@+-]*$/u;

/** Arguments logged as given: ids, roles, names and flags, nothing a person typed as content. */
const PLAIN_ARGS = new Set([
  "role",
  "id",
  "instanceId",
  "messageId",
  "parentId",
  "parent",
  "agent",
  "name",
  "workDir",
  "workdir",
  "node",
  "cascade",
  "whenBusy",
  "wait",
  "noWait",
  "lines",
  "timeoutMs",
  "timeout",
  "status",
  "active",
  "tree",
  "runId",
  "resume",
  "from",
  "template",
  "dryRun",
  "keep",
  "force",
  "clean",
  "json",
  "port",
  "host",
]);

/** Arguments that are content: only their length is logged. */
const TEXT_ARGS = new Set(["text", "prompt", "context", "message", "summary", "input"]);

/** Result fields logged as they are: what happened, never what was said or shown. */
const PLAIN_RESULTS = new Set(["id", "instanceId", "messageId", "state", "status", "position", "runId", "exitCode", "terminated", "ok", "workflow"]);

/** `key`: the node's digest key (auditKey). */
export function toEntry(event: OperationEvent, key: Buffer): AuditEntry {
  const target = event.target !== undefined && event.target.length <= MAX_LOGGED_CHARS && TARGET.test(event.target) ? event.target : undefined;
  return {
    at: event.at,
    node: bounded(event.node),
    caller: event.caller === null ? ROOT_CALLER : bounded(event.caller),
    ...(event.role ? { role: bounded(event.role) } : {}),
    surface: event.surface,
    operation: bounded(event.operation),
    ...(target !== undefined ? { target } : {}),
    args: reduceArgs(event.args, key),
    ok: event.error === undefined,
    ...(event.result !== undefined ? { result: reduceResult(event.result) } : {}),
    ...(event.error !== undefined ? { error: bounded(event.error.code) } : {}),
    durationMs: event.durationMs,
  };
}

export function reduceArgs(args: Readonly<Record<string, unknown>>, key: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = { hmac: digest(args, key) };
  for (const [name, value] of Object.entries(args)) {
    if (PLAIN_ARGS.has(name) && isScalar(value)) out[name] = typeof value === "string" ? bounded(value) : value;
    else if (TEXT_ARGS.has(name) && typeof value === "string") out[`${name}Length`] = value.length;
    // Options for plugins (spawn's `plugins`, the CLI's `--plugin git.force=true`): which plugins, not the values.
    else if ((name === "plugins" || name === "plugin") && value && typeof value === "object" && !Array.isArray(value)) out.plugins = Object.keys(value).slice(0, 20).map((plugin) => bounded(plugin));
  }
  return out;
}

function reduceResult(result: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const take = (from: Readonly<Record<string, unknown>>, prefix = "") => {
    for (const [key, value] of Object.entries(from)) {
      if (PLAIN_RESULTS.has(key) && (isScalar(value) || isIdList(value))) out[prefix ? `${prefix}.${key}` : key] = typeof value === "string" ? bounded(value) : Array.isArray(value) ? value.map((id) => bounded(id)) : value;
    }
  };
  take(result);
  // spawn and restart answer with the instance, spawn and send with a receipt.
  for (const nested of ["instance", "receipt"]) {
    const value = result[nested];
    if (value && typeof value === "object" && !Array.isArray(value)) take(value as Record<string, unknown>, nested);
  }
  if (Array.isArray(result.instances)) out.count = result.instances.length;
  return out;
}

/** HMAC-SHA-256 of the canonical JSON (keys sorted at every level) under the node's key, so equal arguments give equal digests on one node. */
export function digest(value: unknown, key: Buffer): string {
  return `hmac-sha256:${createHmac("sha256", key).update(canonicalJson(value), "utf8").digest("hex")}`;
}

/** A string as logged: whole up to MAX_LOGGED_CHARS, else its start and its length. */
function bounded(value: string): string {
  return value.length <= MAX_LOGGED_CHARS ? value : `${value.slice(0, MAX_LOGGED_CHARS)}…(${value.length} characters)`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function isIdList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}
