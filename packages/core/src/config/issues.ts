// Turning zod issues into messages a person can act on: the key path, the
// value received and what is allowed (used for the config and plugin options).
import type { z } from "zod";

/** One problem with a value, as shown to the user and kept in `error.details.issues`. */
export interface ConfigIssue {
  /** Key path such as `limits.maxDepth`, `agents.repl.command` or `plugins[1]`. */
  path: string;
  /** What is wrong and what is allowed, e.g. `expected an integer >= 1, got 0`. */
  message: string;
  /** The received value as JSON, truncated; undefined when the key is missing. */
  value: string | undefined;
}

type Issue = z.core.$ZodIssue;
type Key = PropertyKey;

/**
 * One entry per problem: the key path, the received value and what is allowed.
 * Pass the parsed `input` (for the values) and the `schema` (to list the allowed
 * keys next to an unknown one). Also used for plugin options.
 */
export function formatZodIssues(error: z.ZodError, input: unknown, schema?: z.core.$ZodType): ConfigIssue[] {
  return error.issues.flatMap((issue) => describeIssue(issue, [], input, schema));
}

/** The issues as an indented list, one `  - path: message` line each. */
export function formatIssueList(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => `  - ${issue.path}: ${issue.message}`).join("\n");
}

function describeIssue(issue: Issue, prefix: readonly Key[], input: unknown, schema: z.core.$ZodType | undefined): ConfigIssue[] {
  const at = [...prefix, ...issue.path];
  const received = valueAt(input, at);
  const value = received.found ? showValue(received.value) : undefined;
  const got = received.found ? `, got ${value}` : "";
  const one = (message: string): ConfigIssue[] => [{ path: formatPath(at), message, value }];

  switch (issue.code) {
    case "invalid_type":
      return one(received.found ? `expected ${noun(issue.expected)}${got}` : `missing; expected ${noun(issue.expected)}`);
    case "too_small":
    case "too_big": {
      const limit = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      const more = issue.code === "too_small" ? "at least" : "at most";
      switch (issue.origin) {
        case "number":
        case "int":
        case "bigint":
          return one(`expected ${isInteger(schema, at) ? "an integer" : "a number"} ${op} ${String(limit)}${got}`);
        case "string":
          // A schema's own message (zod's start with "Too") says what the value is for.
          if (Number(limit) === 1 && issue.code === "too_small") return one(`expected ${/^Too /u.test(issue.message) ? "a non-empty string" : `a non-empty string: ${issue.message}`}${got}`);
          return one(`expected ${more} ${String(limit)} characters${got}`);
        case "array":
        case "set":
          return one(`expected ${more} ${String(limit)} item${Number(limit) === 1 ? "" : "s"}${got}`);
        default:
          return one(`${issue.message}${got}`);
      }
    }
    case "invalid_format": {
      // zod's own messages start with "Invalid"; a schema's custom message describes what is allowed.
      const custom = !/^Invalid/u.test(issue.message);
      if (custom) return one(`expected ${issue.message}${got}`);
      return one(issue.format === "regex" && "pattern" in issue ? `expected a string matching ${String(issue.pattern)}${got}` : `expected a valid ${issue.format}${got}`);
    }
    case "invalid_value":
      return one(`expected ${issue.values.length === 1 ? showValue(issue.values[0]) : `one of ${issue.values.map((v) => showValue(v)).join(", ")}`}${got}`);
    case "not_multiple_of":
      return one(`expected a multiple of ${String(issue.divisor)}${got}`);
    case "unrecognized_keys": {
      const allowed = allowedKeys(schema, at);
      return issue.keys.map((key) => {
        const keyPath = [...at, key];
        const own = valueAt(input, keyPath);
        let message = "unknown key";
        if (allowed) {
          message += `; allowed keys: ${allowed.join(", ")}`;
          const guess = closest(key, allowed);
          if (guess) message += ` (did you mean "${guess}"?)`;
        }
        return { path: formatPath(keyPath), message, value: own.found ? showValue(own.value) : undefined };
      });
    }
    case "invalid_key": {
      const reasons = issue.issues.flatMap((inner) => describeIssue(inner, [], at[at.length - 1], undefined));
      return one(`invalid key: ${reasons.map((r) => r.message).join("; ")}`);
    }
    case "invalid_element":
      return issue.issues.flatMap((inner) => describeIssue(inner, at, input, schema));
    case "invalid_union": {
      // The branch that got past the type check explains the failure best
      // (plugins: "expected a plugin object" rather than "expected false").
      const informative = issue.errors.find((branch) =>
        branch.some((i) => i.path.length > 0 || (i.code !== "invalid_type" && i.code !== "invalid_value")),
      );
      if (informative) return informative.flatMap((inner) => describeIssue(inner, at, input, schema));
      const expected = issue.errors.flatMap((branch) =>
        branch.flatMap((i) => (i.code === "invalid_type" ? [noun(i.expected)] : i.code === "invalid_value" ? i.values.map((v) => showValue(v)) : [])),
      );
      return one(expected.length > 0 ? `expected ${[...new Set(expected)].join(" or ")}${got}` : `${issue.message}${got}`);
    }
    case "custom":
      return one(`${issue.message}${got}`);
    default:
      return one(`${(issue as { message: string }).message}${got}`);
  }
}

/** `limits.maxDepth`, `plugins[1]`, `agents["my agent"].command`. */
export function formatPath(keys: readonly Key[]): string {
  let out = "";
  for (const key of keys) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/u.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === "" ? "(the config itself)" : out;
}

/** A value as JSON for a message, cut at `max` characters. */
export function showValue(value: unknown, max = 80): string {
  let text: string;
  if (value === undefined) text = "undefined";
  else if (typeof value === "number" || typeof value === "symbol") text = String(value);
  else if (typeof value === "bigint") text = `${value}n`;
  else if (typeof value === "function") text = `[function ${value.name || "anonymous"}]`;
  else {
    try {
      text =
        JSON.stringify(value, (_key, v: unknown) =>
          typeof v === "function" ? `[function ${v.name || "anonymous"}]` : typeof v === "bigint" ? `${v}n` : v,
        ) ?? String(value);
    } catch {
      text = String(value); // circular
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function valueAt(input: unknown, keys: readonly Key[]): { found: boolean; value: unknown } {
  let current = input;
  for (const key of keys) {
    if (current === null || (typeof current !== "object" && typeof current !== "function") || !(key in current)) {
      return { found: false, value: undefined };
    }
    current = (current as Record<Key, unknown>)[key];
  }
  return { found: true, value: current };
}

const NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  bigint: "a bigint",
  boolean: "true or false",
  object: "an object",
  array: "an array",
  function: "a function",
  date: "a date",
  null: "null",
  undefined: "nothing",
  map: "a Map",
  set: "a Set",
};

function noun(expected: string): string {
  return NOUNS[expected] ?? expected;
}

// --- walking a schema along a key path (zod 4 keeps the structure in `_zod.def`)

interface Def {
  type: string;
  format?: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  getter?: () => z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  items?: z.core.$ZodType[];
  rest?: z.core.$ZodType | null;
  options?: z.core.$ZodType[];
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
}

const defOf = (schema: z.core.$ZodType): Def => schema._zod.def as unknown as Def;

function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let depth = 0; depth < 64; depth++) {
    const def = defOf(current);
    const next =
      def.type === "pipe" ? def.in : def.type === "lazy" ? def.getter?.() : def.innerType; // default, prefault, optional, nullable, readonly, catch ...
    if (next === undefined) return current;
    current = next;
  }
  return current;
}

function child(schema: z.core.$ZodType, key: Key): z.core.$ZodType | undefined {
  const def = defOf(unwrap(schema));
  switch (def.type) {
    case "object":
      return typeof key === "string" ? def.shape?.[key] : undefined;
    case "record":
      return def.valueType;
    case "array":
      return def.element;
    case "tuple":
      return (typeof key === "number" ? def.items?.[key] : undefined) ?? def.rest ?? undefined;
    case "union":
      return def.options?.map((option) => child(option, key)).find((s) => s !== undefined);
    case "intersection":
      return (def.left && child(def.left, key)) ?? (def.right && child(def.right, key));
    default:
      return undefined;
  }
}

function schemaAt(schema: z.core.$ZodType | undefined, keys: readonly Key[]): z.core.$ZodType | undefined {
  let current = schema;
  for (const key of keys) {
    if (current === undefined) return undefined;
    current = child(current, key);
  }
  return current && unwrap(current);
}

/** The schema at `keys`, or a union's options there (`false` or an object, `false` or a number): each unwrapped. */
function variantsAt(schema: z.core.$ZodType | undefined, keys: readonly Key[]): z.core.$ZodType[] {
  const found = schemaAt(schema, keys);
  if (found === undefined) return [];
  const def = defOf(found);
  return def.type === "union" ? (def.options ?? []).map(unwrap) : [found];
}

function allowedKeys(schema: z.core.$ZodType | undefined, keys: readonly Key[]): string[] | undefined {
  const shape = variantsAt(schema, keys).map((variant) => defOf(variant).shape).find((s) => s !== undefined);
  return shape ? Object.keys(shape) : undefined;
}

function isInteger(schema: z.core.$ZodType | undefined, keys: readonly Key[]): boolean {
  return variantsAt(schema, keys).some((variant) => /int/u.test(defOf(variant).format ?? ""));
}

/** The allowed name closest to `key` (a typo, a swapped pair of letters, another case), or undefined when none is near: the "did you mean" of every message about a name. */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of allowed) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Damerau–Levenshtein (optimal string alignment): a swap of two letters counts as one edit. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!;
      const prev = d[i - 1]!;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
