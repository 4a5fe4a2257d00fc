/**
 * The MCP tools: for every role (specialists too: they are the ones editing
 * files), the caller known from its connection, never from an argument.
 */
import { TmuxClaudeError, type KernelApi, type ToolContribution } from "@tmux-claude/core";
import { z } from "zod";
import type { Claims } from "./claims.js";
import { DEFAULT_QUERY_LIMIT, type Knowledge, type KnowledgeEntry } from "./entries.js";
import { KnowledgeErrors } from "./errors.js";
import { hierarchyOf } from "./hierarchy.js";

const hierarchy = z.string().min(1).optional().describe("Root caller only: the hierarchy meant, named by any instance in it. An instance always uses its own.");

const recordInput = z.strictObject({
  key: z.string().describe("What the note is about, e.g. \"auth/session-store\". Recording a key again replaces its value."),
  value: z.string().describe("The note (text; at most the plugin's maxValueBytes, 16 KB by default)."),
  tags: z.array(z.string()).optional().describe('Words to find it by, e.g. ["auth", "decision"].'),
  hierarchy,
});

const queryInput = z.strictObject({
  key: z.string().optional().describe("Only this key."),
  tag: z.string().optional().describe("Only entries with this tag."),
  text: z.string().optional().describe("Only entries whose key or value contains this text (any case)."),
  limit: z.int().min(1).max(500).optional().describe(`At most this many entries, the newest (default ${DEFAULT_QUERY_LIMIT}).`),
  hierarchy,
});

const forgetInput = z.strictObject({
  keys: z.array(z.string()).min(1).max(500).optional().describe("The keys to forget."),
  all: z.boolean().optional().describe("Forget every entry of the hierarchy (instead of keys)."),
  hierarchy,
});

const claimInput = z.strictObject({
  paths: z.array(z.string()).describe('Paths you will edit, relative to your workdir: files, directories (everything below) or globs ("src/auth/**", "*.md").'),
  wait: z.boolean().optional().describe("If another instance holds an overlapping claim: wait until it is released (up to timeoutMs) instead of being refused."),
  timeoutMs: z.int().min(1).max(3_600_000).optional().describe("How long wait may block, in ms (default: the plugin's claimWaitMs, 5 minutes)."),
});

const releaseInput = z.strictObject({
  paths: z.array(z.string()).optional().describe("The claimed paths to let go of, as claimed (default: all of yours)."),
  instanceId: z.string().min(1).optional().describe("Root caller only: release this instance's claims."),
});

export function knowledgeTools(kernel: KernelApi, knowledge: Knowledge, claims: Claims): ToolContribution[] {
  const roles = Object.keys(kernel.config.roles);
  return [
    {
      name: "knowledge_record",
      description: "Record a note for the other instances of your hierarchy (key, value, tags): a decision, where something lives, a gotcha. Replaces the key's earlier value.",
      inputSchema: recordInput,
      roles,
      handler: async (args, caller) => {
        const a = args as z.output<typeof recordInput>;
        const where = (await hierarchyOf(kernel, caller.instanceId, a.hierarchy, true))!;
        const entry = await knowledge.record(where, caller.instanceId, a);
        return { text: `Recorded "${entry.key}" in hierarchy "${where}" (version ${entry.version}).`, entry };
      },
    },
    {
      name: "knowledge_query",
      description: `Find notes recorded in your hierarchy, by key, tag or text; each with who recorded it and when, newest first, at most limit (default ${DEFAULT_QUERY_LIMIT}).`,
      inputSchema: queryInput,
      roles,
      handler: async (args, caller) => {
        const a = args as z.output<typeof queryInput>;
        const where = await hierarchyOf(kernel, caller.instanceId, a.hierarchy, false);
        const { entries, truncated } = await knowledge.query(where, a);
        const more = truncated ? `\n\n(The ${entries.length} newest shown; more match: narrow with key, tag or text, or raise limit.)` : "";
        return { text: `${entriesText(entries)}${more}`, entries, truncated };
      },
    },
    {
      name: "knowledge_forget",
      description: "Forget notes of your hierarchy that are no longer true or needed: the keys given, or all of them with all: true.",
      inputSchema: forgetInput,
      roles,
      handler: async (args, caller) => {
        const a = args as z.output<typeof forgetInput>;
        if ((a.keys === undefined) === (a.all !== true)) {
          throw new TmuxClaudeError(KnowledgeErrors.BAD_INPUT, `knowledge_forget takes either keys (the keys to forget) or all: true, got ${a.keys === undefined ? "neither" : "both"}.`, {});
        }
        const where = (await hierarchyOf(kernel, caller.instanceId, a.hierarchy, true))!;
        const forgotten = await knowledge.forget(where, a.keys);
        return { text: forgotten.length ? `Forgot ${forgotten.map((k) => `"${k}"`).join(", ")} in hierarchy "${where}".` : `Hierarchy "${where}" has none of those keys; nothing forgotten.`, hierarchy: where, forgotten };
      },
    },
    {
      name: "claim_files",
      description:
        "Claim the paths you will edit, so no other instance of your hierarchy edits them meanwhile. A path another live instance holds is refused naming the holder (or, with wait: true, queued until it is released). Claims end when you are terminated or exit; release_files lets go earlier.",
      inputSchema: claimInput,
      roles,
      handler: async (args, caller, call) => {
        const a = args as z.output<typeof claimInput>;
        const id = instanceOnly(caller.instanceId, "claim_files");
        // The call's signal: a cancelled call (Esc, a client timeout, a dropped connection) withdraws its waiting request.
        const result = await claims.claim(id, { ...a, signal: call?.signal });
        const waited = result.waitedMs !== undefined ? ` after waiting ${result.waitedMs} ms` : "";
        return { text: `Claimed ${result.claimed.map((p) => `"${p}"`).join(", ")}${waited}; you hold ${result.holds.length} path(s) in hierarchy "${result.hierarchy}".`, ...result };
      },
    },
    {
      name: "release_files",
      description: "Let go of paths you claimed (all of them without paths), so others waiting for them get them.",
      inputSchema: releaseInput,
      roles,
      handler: async (args, caller) => {
        const a = args as z.output<typeof releaseInput>;
        if (a.instanceId !== undefined && caller.instanceId !== null && a.instanceId !== caller.instanceId) {
          throw new TmuxClaudeError(KnowledgeErrors.BAD_INPUT, `instance "${caller.instanceId}" may release only its own claims, not "${a.instanceId}"'s. Leave instanceId out, or ask "${a.instanceId}" to release them.`, { instanceId: a.instanceId });
        }
        const id = a.instanceId ?? instanceOnly(caller.instanceId, "release_files");
        const { hierarchy: where, released } = await claims.release(id, a.paths);
        return { text: released.length ? `Released ${released.map((p) => `"${p}"`).join(", ")} of "${id}" in hierarchy "${where}".` : `"${id}" held none of those paths; nothing released.`, hierarchy: where, instanceId: id, released };
      },
    },
  ];
}

function instanceOnly(caller: string | null, tool: string): string {
  if (caller !== null) return caller;
  throw new TmuxClaudeError(KnowledgeErrors.BAD_INPUT, `${tool} is for instances: a claim belongs to an instance and ends with it, and the root caller is none.${tool === "release_files" ? " Give instanceId to release an instance's claims." : ""}`, {});
}

export function entriesText(entries: readonly KnowledgeEntry[]): string {
  if (entries.length === 0) return "No knowledge recorded matches.";
  return entries.map((e) => `${e.key}${e.tags.length ? ` [${e.tags.join(", ")}]` : ""} (by ${e.by ?? "root"} at ${e.at}, hierarchy ${e.hierarchy}):\n${e.value}`).join("\n\n");
}
