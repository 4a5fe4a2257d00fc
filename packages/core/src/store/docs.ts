/**
 * What every store checks about documents (StateStore.getDoc/updateDoc/
 * listDocs) before it touches storage, so that a bad name or value fails the
 * same way on every store: names fit in a file name and a Redis key, values
 * are JSON that reads back exactly as written, and no document is big
 * enough to slow down everyone who reads the collection.
 */
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
// A key is spelled like an instance id, so an instance id is a valid key.
import { ID_PATTERN, MAX_ID_LENGTH } from "./ids.js";

/** The most a document may weigh, as compact JSON (UTF-8 bytes). */
export const DOC_SIZE_LIMIT = 1024 * 1024;
export const MAX_COLLECTION_LENGTH = 64;
export const MAX_DOC_KEY_LENGTH = MAX_ID_LENGTH;

/**
 * Segments of letters, digits, '_' and '-' joined by '/' (the kernel names a
 * plugin's collections `<plugin>/<collection>`). No '.', ':' or '@': the
 * file store and the Redis store use those to put collection and key in one name.
 */
const COLLECTION_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_-]*)*$/u;

export function assertCollection(collection: unknown): asserts collection is string {
  if (typeof collection !== "string" || collection.length > MAX_COLLECTION_LENGTH || !COLLECTION_PATTERN.test(collection)) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Document collection ${JSON.stringify(collection)} is not valid: a collection is 1-${MAX_COLLECTION_LENGTH} characters, ` +
        `names of letters, digits, '_' or '-' (not starting with '-') joined by '/', for example "workflows/runs".`,
      { collection: String(collection) },
    );
  }
}

export function assertDocKey(collection: string, key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length > MAX_DOC_KEY_LENGTH || !ID_PATTERN.test(key)) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Document key ${JSON.stringify(key)} in collection "${collection}" is not valid: a key is 1-${MAX_DOC_KEY_LENGTH} letters, digits, '.', '_' or '-', ` +
        `not starting with '.' or '-' (an instance id is a valid key), for example "run-20260101-a1b2".`,
      { collection, key: String(key) },
    );
  }
}

/** Where `value` stops being JSON that reads back as written, as a path like `.steps[2].at`; undefined when it is fine. */
function nonJson(value: unknown, at: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : `${at || "the value"} is ${String(value)}, which JSON cannot hold (it would read back as null)`;
    case "object": {
      if (value === null) return undefined;
      if (seen.has(value)) return `${at || "the value"} refers back to itself (a cycle)`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i++) {
          // An undefined element would read back as null.
          const problem = value[i] === undefined ? `${at}[${i}] is undefined` : nonJson(value[i], `${at}[${i}]`, seen);
          if (problem) return problem;
        }
        seen.delete(value);
        return undefined;
      }
      if (proto !== Object.prototype && proto !== null) {
        const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
        return `${at || "the value"} is a ${kind}, not a plain object (it would not read back as one)`;
      }
      seen.add(value);
      for (const [name, child] of Object.entries(value)) {
        // An undefined property is left out, as JSON.stringify does: reading it back gives undefined too.
        if (child === undefined) continue;
        const problem = nonJson(child, `${at}.${name}`, seen);
        if (problem) return problem;
      }
      seen.delete(value);
      return undefined;
    }
    default:
      return `${at || "the value"} is a ${typeof value}, which JSON cannot hold`;
  }
}

/** The document as stored (compact JSON), or a TC_INVALID_ARGUMENT naming the collection, key and what is wrong. */
export function encodeDoc(collection: string, key: string, value: unknown): string {
  const problem = value === undefined ? "the value is undefined (an updater returns undefined to delete)" : nonJson(value, "", new Set());
  if (problem) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Document "${collection}/${key}" cannot be stored: ${problem}. Store plain JSON: objects, arrays, strings, finite numbers, booleans and null (a date as date.toISOString()).`,
      { collection, key },
    );
  }
  const json = JSON.stringify(value);
  const size = Buffer.byteLength(json, "utf8");
  if (size > DOC_SIZE_LIMIT) {
    throw new TmuxClaudeError(
      ErrorCodes.INVALID_ARGUMENT,
      `Document "${collection}/${key}" is ${size} bytes as JSON, over the ${DOC_SIZE_LIMIT}-byte limit of a stored document. ` +
        `Keep large data (logs, outputs) in files and store their paths, or split it over several keys.`,
      { collection, key, size, limit: DOC_SIZE_LIMIT },
    );
  }
  return json;
}

/** A stored document's text as a value; a document that is not JSON was written by something else. */
export function decodeDoc(collection: string, key: string, json: string, where: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new TmuxClaudeError(
      ErrorCodes.STORE_FAILED,
      `Document "${collection}/${key}" in ${where} is not valid JSON (${error instanceof Error ? error.message : String(error)}). ` +
        `The store writes documents whole, so something else changed it; fix or remove it.`,
      { collection, key },
      { cause: error },
    );
  }
}

/** Documents of a listing in the order every store returns them: by key. */
export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
