/**
 * `tmux-claude knowledge [--hierarchy id] [--key k] [--tag t] [--text s] [--json]`:
 * the knowledge entries and file claims of every hierarchy (or one);
 * `knowledge record <hierarchy> <key> <value> [--tag t]...` records as the
 * root; `knowledge release <instanceId> [path...]` ends an instance's claims.
 */
import { parseArgs } from "node:util";
import { ErrorCodes, TmuxClaudeError, plainLine, type CommandContribution, type KernelApi } from "@tmux-claude/core";
import type { ClaimsDoc } from "./claim-doc.js";
import type { KnowledgeEntry } from "./entries.js";
import { DEFAULT_QUERY_LIMIT } from "./entries.js";
import { hierarchyOf, rootOf } from "./hierarchy.js";
import type { KnowledgeApi } from "./plugin.js";

const USAGE = [
  "Usage: tmux-claude knowledge [--hierarchy <id>] [--key <key>] [--tag <tag>] [--text <text>] [--limit <n>] [--json]",
  "       tmux-claude knowledge record <hierarchy> <key> <value> [--tag <tag>]... [--json]",
  "       tmux-claude knowledge forget <hierarchy> (<key>... | --all) [--json]",
  "       tmux-claude knowledge release <instanceId> [path...] [--json]",
].join("\n");
const HELP = [
  "Shared project knowledge and file claims, per hierarchy (the tree under one top-level instance).",
  "  --hierarchy <id>  only this hierarchy (any instance id in it)",
  "  --key, --tag, --text  only entries with this key, this tag, or containing this text",
  `  --limit <n>       at most n entries, the newest (default ${DEFAULT_QUERY_LIMIT})`,
  "  --json            print { entries, claims } as JSON",
  "record: record a note as the root caller (replaces the key's value). forget: forget those keys, or with --all every note and claim of the hierarchy (also of one whose top-level instance is gone). release: end an instance's claims (all, or the paths given as claimed).",
  "Agents use the MCP tools knowledge_record, knowledge_query, claim_files and release_files.",
].join("\n");

export function knowledgeCommand(api: KnowledgeApi): CommandContribution {
  return {
    name: "knowledge",
    description: "Shared knowledge entries and file claims per hierarchy (record, forget, release); --json for JSON",
    async run(argv, kernel) {
      if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(`${USAGE}\n\n${HELP}\n`);
        return 0;
      }
      const flags = parse(argv);
      const [sub, ...rest] = flags.positionals;
      if (sub === "record") return record(api, kernel, rest, flags);
      if (sub === "release") return release(api, rest, flags);
      if (sub === "forget") return forget(api, kernel, rest, flags);
      if (sub !== undefined) throw usage(`Unknown knowledge subcommand "${sub}": use record, forget or release, or none to list.`);
      if ((flags.tag?.length ?? 0) > 1) throw usage(`Listing takes one --tag, got ${flags.tag!.length}: ${flags.tag!.join(", ")}.`);
      const hierarchy = await hierarchyOf(kernel, null, flags.hierarchy, false);
      const entries = await api.query(hierarchy, { key: flags.key, tag: flags.tag?.[0], text: flags.text, limit: flags.limit });
      const claims = await api.claims(hierarchy);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ entries, claims }, null, 2)}\n`);
        return 0;
      }
      // Filters that match nothing say so, with how many there are: "none recorded" would be untrue.
      const filters = [flags.key !== undefined ? `--key ${flags.key}` : "", flags.tag?.[0] !== undefined ? `--tag ${flags.tag[0]}` : "", flags.text !== undefined ? `--text ${flags.text}` : ""].filter(Boolean);
      // One entry read tells whether any is recorded (no count is kept).
      const others = entries.length === 0 && filters.length > 0 && (await api.query(hierarchy, { limit: 1 })).length > 0;
      const where = hierarchy ? ` in hierarchy "${hierarchy}"` : "";
      const none = others ? `Knowledge: no entry${where} matches ${plainLine(filters.join(" "))} (others are recorded: tmux-claude knowledge${hierarchy ? ` --hierarchy ${hierarchy}` : ""} lists them).` : undefined;
      process.stdout.write(`${formatKnowledge(entries, claims, none)}\n`);
      return 0;
    },
    invocation(argv) {
      try {
        const [sub, target] = parse([...argv]).positionals;
        return sub === "record" || sub === "release" || sub === "forget" ? { subcommand: sub, ...(target !== undefined ? { target } : {}) } : {};
      } catch {
        return {};
      }
    },
  };
}

interface Flags {
  positionals: string[];
  hierarchy?: string;
  key?: string;
  /** Several for record; one for listing. */
  tag?: string[];
  text?: string;
  limit?: number;
  all: boolean;
  json: boolean;
}

function parse(argv: string[]): Flags {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        hierarchy: { type: "string" },
        key: { type: "string" },
        tag: { type: "string", multiple: true },
        text: { type: "string" },
        limit: { type: "string" },
        all: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
    });
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500)) throw usage(`--limit takes a whole number from 1 to 500, got "${values.limit}".`);
    return { positionals, hierarchy: values.hierarchy, key: values.key, tag: values.tag, text: values.text, limit, all: values.all ?? false, json: values.json ?? false };
  } catch (error) {
    throw usage(`${(error as Error).message}\n${USAGE}`);
  }
}

async function record(api: KnowledgeApi, kernel: KernelApi, args: string[], flags: Flags): Promise<number> {
  const [given, key, value] = args;
  if (given === undefined || key === undefined || value === undefined || args.length > 3) throw usage(`knowledge record takes <hierarchy> <key> <value> (quote the value), got ${args.length} argument(s).\n${USAGE}`);
  const hierarchy = (await hierarchyOf(kernel, null, given, true))!;
  const entry = await api.record(hierarchy, null, { key, value, tags: flags.tag ?? [] });
  process.stdout.write(flags.json ? `${JSON.stringify(entry, null, 2)}\n` : `Recorded ${JSON.stringify(plainLine(entry.key))} in hierarchy "${hierarchy}" (version ${entry.version}).\n`);
  return 0;
}

async function forget(api: KnowledgeApi, kernel: KernelApi, args: string[], flags: Flags): Promise<number> {
  const [given, ...keys] = args;
  if (given === undefined || (keys.length > 0) === flags.all) throw usage(`knowledge forget takes <hierarchy> and either keys or --all, got ${keys.length} key(s)${flags.all ? " and --all" : ""}.\n${USAGE}`);
  // A hierarchy whose top-level instance is gone is named by its id as listed.
  const hierarchy = await rootOf(kernel, given).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === ErrorCodes.INSTANCE_NOT_FOUND) return given;
    throw error;
  });
  const result = flags.all ? { hierarchy, ...(await api.drop(hierarchy)) } : { hierarchy, forgotten: await api.forget(hierarchy, keys) };
  process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : result.forgotten.length || flags.all ? `Forgot ${result.forgotten.length} note(s) in hierarchy "${hierarchy}"${flags.all ? " and its claims" : ""}.\n` : `Hierarchy "${hierarchy}" has none of those keys; nothing forgotten.\n`);
  return 0;
}

async function release(api: KnowledgeApi, args: string[], flags: Flags): Promise<number> {
  const [id, ...paths] = args;
  if (id === undefined) throw usage(`knowledge release takes <instanceId> [path...].\n${USAGE}`);
  const result = await api.release(id, paths.length > 0 ? paths : undefined);
  process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : result.released.length ? `Released ${plainLine(result.released.join(", "))} of ${id}.\n` : `${id} held none of those paths; nothing released.\n`);
  return 0;
}

function usage(message: string): TmuxClaudeError {
  return new TmuxClaudeError(ErrorCodes.INVALID_ARGUMENT, message, {});
}

/** Entries (newest first) and claims, by hierarchy, for people. */
export function formatKnowledge(entries: readonly KnowledgeEntry[], docs: readonly ClaimsDoc[], none = "Knowledge: none recorded."): string {
  const lines: string[] = [];
  lines.push(entries.length ? `Knowledge (${entries.length}):` : none);
  for (const e of entries) {
    // Agents write keys and values: one plain line each (no escape sequence reaches the terminal, no forged row).
    const value = plainLine(e.value).replace(/\s+/gu, " ");
    lines.push(`  [${e.hierarchy}] ${plainLine(e.key)}${e.tags.length ? ` #${e.tags.join(" #")}` : ""} (by ${e.by ?? "root"}, ${e.at}): ${value.length > 200 ? `${value.slice(0, 199)}…` : value}`);
  }
  const claims = docs.flatMap((d) => d.claims.map((c) => ({ ...c, hierarchy: d.hierarchy, waiting: false })));
  const waiting = docs.flatMap((d) => d.waiting.map((c) => ({ ...c, hierarchy: d.hierarchy, waiting: true })));
  lines.push("", claims.length || waiting.length ? "File claims:" : "File claims: none.");
  for (const c of [...claims, ...waiting]) lines.push(`  [${c.hierarchy}] ${c.instanceId}${c.waiting ? " (waiting)" : ""}: ${plainLine(c.paths.join(", "))} (since ${c.at})`);
  return lines.join("\n");
}
