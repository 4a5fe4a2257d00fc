/**
 * Shared project knowledge: key -> value notes an instance records for the
 * others of its hierarchy (a decision, where something lives, a gotcha), with
 * tags, who recorded it and when. One store document per entry
 * (`knowledge/entries`), so recording one never rewrites the others and the
 * document size limit bounds one value, not the whole hierarchy's; and one
 * index document per hierarchy (`knowledge/index`, keyed by the hierarchy:
 * each entry's key, tags and time), so a query reads its own hierarchy's
 * index and then only the entries it returns, never another hierarchy's.
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

/** A hierarchy's entries, without their values: what a query filters and orders by before reading any entry. */
export interface KnowledgeIndex {
  hierarchy: string;
  /** By entry document key. */
  entries: Record<string, { key: string; tags: string[]; at: string }>;
}

export interface KnowledgeQuery {
  /** Only this key. */
  key?: string;
  /** Only entries with this tag. */
  tag?: string;
  /** Only entries whose key or value contains this text (any case). */
  text?: string;
  /** At most this many, the newest (default DEFAULT_QUERY_LIMIT). */
  limit?: number;
}

/** A query's default limit: a tool result stays a readable size however much a hierarchy recorded. */
export const DEFAULT_QUERY_LIMIT = 50;
/** Entries read at once while a text filter looks for matches. */
const TEXT_BATCH = 50;

export const MAX_KEY_LENGTH = 200;
export const MAX_TAGS = 20;
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$/u;

export class Knowledge {
  constructor(
    private readonly docs: PluginData<KnowledgeEntry>,
    private readonly index: PluginData<KnowledgeIndex>,
    /** The largest value, in UTF-8 bytes. */
    readonly maxValueBytes: number,
    /** The most entries one hierarchy keeps. */
    readonly maxEntries: number,
  ) {}

  /** Record (or replace) `key` in `hierarchy`; checked whole before anything is written. */
  async record(hierarchy: string, by: string | null, input: { key: unknown; value: unknown; tags?: unknown }): Promise<KnowledgeEntry> {
    const { key, value, tags } = this.checked(input);
    const at = new Date().toISOString();
    const id = docKey(hierarchy, key);
    let full = false;
    // The index first: an index line whose entry is missing (a write that failed between) is skipped by queries; an entry missing from the index would never be found.
    await this.index.update(hierarchy, (current) => {
      const entries = current?.entries ?? {};
      full = !(id in entries) && Object.keys(entries).length >= this.maxEntries;
      return full ? current : { hierarchy, entries: { ...entries, [id]: { key, tags, at } } };
    });
    if (full) {
      throw new TmuxClaudeError(
        KnowledgeErrors.TOO_LARGE,
        `Hierarchy "${hierarchy}" already keeps ${this.maxEntries} knowledge entries (knowledge({ maxEntries })); "${key}" was not recorded. Forget entries no longer true (knowledge_forget, tmux-claude knowledge forget), or record under an existing key.`,
        { hierarchy, key, limit: this.maxEntries },
      );
    }
    const stored = await this.docs.update(id, (current) => ({ hierarchy, key, value, tags, by, at, version: (current?.version ?? 0) + 1 }));
    return stored!;
  }

  /**
   * The entries of `hierarchy` (every hierarchy's when undefined) that match,
   * newest first, at most `limit`; `truncated` when more matched.
   */
  async query(hierarchy: string | undefined, query: KnowledgeQuery = {}): Promise<{ entries: KnowledgeEntry[]; truncated: boolean }> {
    const limit = query.limit ?? DEFAULT_QUERY_LIMIT;
    const indexes = hierarchy !== undefined ? [await this.index.get(hierarchy)].filter((ix) => ix !== undefined) : (await this.index.list()).map(({ value }) => value);
    const candidates = indexes
      .flatMap((ix) => Object.entries(ix.entries).map(([id, e]) => ({ id, ...e })))
      .filter((e) => query.key === undefined || e.key === query.key)
      .filter((e) => query.tag === undefined || e.tags.includes(query.tag))
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
    const text = query.text?.toLowerCase();
    const found: KnowledgeEntry[] = [];
    let next = 0;
    // Read only what can be returned: the newest `limit` (more in batches while a text filter rejects some).
    while (found.length <= limit && next < candidates.length) {
      const batch = candidates.slice(next, next + (text === undefined ? limit + 1 - found.length : TEXT_BATCH));
      next += batch.length;
      const read = await Promise.all(batch.map((c) => this.docs.get(c.id)));
      for (const entry of read) {
        if (entry === undefined) continue;
        if (text === undefined || entry.key.toLowerCase().includes(text) || entry.value.toLowerCase().includes(text)) found.push(entry);
      }
    }
    return { entries: found.slice(0, limit), truncated: found.length > limit };
  }

  /** Forget `keys` of `hierarchy` (every entry without); resolves with the keys forgotten. */
  async forget(hierarchy: string, keys?: readonly string[]): Promise<string[]> {
    const forgotten: { id: string; key: string }[] = [];
    await this.index.update(hierarchy, (current) => {
      forgotten.length = 0;
      if (!current) return current;
      const entries = { ...current.entries };
      for (const [id, e] of Object.entries(current.entries)) {
        if (keys !== undefined && !keys.includes(e.key)) continue;
        forgotten.push({ id, key: e.key });
        delete entries[id];
      }
      if (forgotten.length === 0) return current;
      return Object.keys(entries).length > 0 ? { ...current, entries } : undefined;
    });
    await Promise.all(forgotten.map(({ id }) => this.docs.delete(id)));
    return forgotten.map(({ key }) => key);
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
