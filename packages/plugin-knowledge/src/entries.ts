/**
 * Shared project knowledge: key -> value notes an instance records for the
 * others of its hierarchy (a decision, where something lives, a gotcha), with
 * tags, who recorded it and when. One store document per entry
 * (`knowledge/entries`), so recording one never rewrites the others and the
 * document size limit bounds one value, not the whole hierarchy's.
 */
import { createHash } from "node:crypto";
import { TmuxClaudeError, type PluginData } from "@tmux-claude/core";
import { KnowledgeErrors } from "./errors.js";

export interface KnowledgeEntry {
  hierarchy: string;
  key: string;
  value: string;
  tags: string[];
  /** Who recorded it: an instance id, or null for the root caller. */
  by: string | null;
  at: string;
  /** How many times the key was recorded (1: once). */
  version: number;
}

export interface KnowledgeQuery {
  /** Only this key. */
  key?: string;
  /** Only entries with this tag. */
  tag?: string;
  /** Only entries whose key or value contains this text (any case). */
  text?: string;
}

export const MAX_KEY_LENGTH = 200;
export const MAX_TAGS = 20;
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$/u;

export class Knowledge {
  constructor(
    private readonly docs: PluginData<KnowledgeEntry>,
    /** The largest value, in UTF-8 bytes. */
    readonly maxValueBytes: number,
  ) {}

  /** Record (or replace) `key` in `hierarchy`; checked whole before anything is written. */
  async record(hierarchy: string, by: string | null, input: { key: unknown; value: unknown; tags?: unknown }): Promise<KnowledgeEntry> {
    const { key, value, tags } = this.checked(input);
    const at = new Date().toISOString();
    const stored = await this.docs.update(docKey(hierarchy, key), (current) => ({ hierarchy, key, value, tags, by, at, version: (current?.version ?? 0) + 1 }));
    return stored!;
  }

  /** The entries of `hierarchy` (every hierarchy's when undefined) that match, newest first. */
  async query(hierarchy: string | undefined, query: KnowledgeQuery = {}): Promise<KnowledgeEntry[]> {
    const text = query.text?.toLowerCase();
    return (await this.docs.list())
      .map(({ value }) => value)
      .filter((e) => hierarchy === undefined || e.hierarchy === hierarchy)
      .filter((e) => query.key === undefined || e.key === query.key)
      .filter((e) => query.tag === undefined || e.tags.includes(query.tag))
      .filter((e) => text === undefined || e.key.toLowerCase().includes(text) || e.value.toLowerCase().includes(text))
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  }

  private checked(input: { key: unknown; value: unknown; tags?: unknown }): { key: string; value: string; tags: string[] } {
    const { key, value, tags = [] } = input;
    if (typeof key !== "string" || key.trim() === "" || key.length > MAX_KEY_LENGTH) {
      throw new TmuxClaudeError(KnowledgeErrors.BAD_INPUT, `Knowledge key ${JSON.stringify(typeof key === "string" && key.length > 60 ? `${key.slice(0, 60)}…` : key)} must be 1 to ${MAX_KEY_LENGTH} characters${typeof key === "string" ? `, it has ${key.length}` : ""}. Use a short name such as "auth/session-store".`, {});
    }
    if (typeof value !== "string") throw new TmuxClaudeError(KnowledgeErrors.BAD_INPUT, `Knowledge value of "${key}" must be text, got ${value === null ? "null" : typeof value}. Record JSON as a string if you need structure.`, { key });
    const bytes = Buffer.byteLength(value, "utf8");
    if (bytes > this.maxValueBytes) {
      throw new TmuxClaudeError(
        KnowledgeErrors.TOO_LARGE,
        `Knowledge value of "${key}" is ${bytes} bytes, over the limit of ${this.maxValueBytes} bytes (knowledge({ maxValueBytes })); nothing was recorded. Record a summary, or split it under several keys.`,
        { key, bytes, limit: this.maxValueBytes },
      );
    }
    if (!Array.isArray(tags) || tags.length > MAX_TAGS || tags.some((t) => typeof t !== "string" || !TAG.test(t))) {
      const bad = Array.isArray(tags) ? tags.find((t) => typeof t !== "string" || !TAG.test(t)) : tags;
      throw new TmuxClaudeError(
        KnowledgeErrors.BAD_INPUT,
        `Knowledge tags of "${key}" must be at most ${MAX_TAGS} words of 1-64 letters, digits, '_', '.', ':', '/' or '-' starting with a letter or digit${bad !== undefined ? `; ${JSON.stringify(bad)} is not one` : `; got ${(tags as unknown[]).length}`}.`,
        { key },
      );
    }
    return { key, value, tags: [...new Set(tags as string[])] };
  }
}

/** A document key for (hierarchy, key): keys are free text, document keys are not. */
function docKey(hierarchy: string, key: string): string {
  return `k${createHash("sha256").update(`${hierarchy}\0${key}`).digest("hex").slice(0, 40)}`;
}
