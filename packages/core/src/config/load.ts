import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cosmiconfig, type Loader } from "cosmiconfig";
import { createJiti, type Jiti } from "jiti";
import type { z } from "zod";
import { ErrorCodes, TmuxClaudeError } from "../errors.js";
import { parseConfig, safeParseConfig, type ResolvedConfig } from "./config.js";
import { configSchema } from "./schema.js";

/** Config file names, in the order they win when a directory holds several. */
export const CONFIG_FILE_NAMES = [
  "tmuxclaude.config.ts",
  "tmuxclaude.config.mts",
  "tmuxclaude.config.js",
  "tmuxclaude.config.mjs",
  "tmuxclaude.config.cjs",
] as const;

/** The package.json key that may hold the config instead of a file. */
export const PACKAGE_JSON_KEY = "tmux-claude";

/** Extensions `--config` accepts. */
const MODULE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"];
const EXPLICIT_EXTENSIONS = [...MODULE_EXTENSIONS, ".json"];

export interface LoadConfigOptions {
  /** Where the search starts and what `configFile` is relative to (default: process.cwd()). */
  cwd?: string;
  /** Load exactly this file (the CLI's `--config`) instead of searching. */
  configFile?: string;
  /** The CLI subcommand being run, passed to a config that exports a function ("" when not run by the CLI). */
  command?: string;
}

export interface LoadedConfig {
  config: ResolvedConfig;
  /** The file the config came from; null when none was found and the defaults apply. */
  filepath: string | null;
}

/** One problem with a value, as shown to the user and kept in `error.details.issues`. */
export interface ConfigIssue {
  /** Key path such as `limits.maxDepth`, `agents.repl.command` or `plugins[1]`. */
  path: string;
  /** What is wrong and what is allowed, e.g. `expected an integer >= 1, got 0`. */
  message: string;
  /** The received value as JSON, truncated; undefined when the key is missing. */
  value: string | undefined;
}

/**
 * Find, load and validate the config. Without `configFile`, searches from `cwd`
 * upwards to the project root (the nearest directory holding `.git`), stopping
 * at the home directory or the filesystem root; nothing found gives the defaults.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const found = options.configFile === undefined ? await searchConfig(cwd) : await loadExplicit(cwd, options.configFile);
  if (found === null) {
    return { config: resolvePaths(parseConfig({}), cwd), filepath: null };
  }

  const env = { command: options.command ?? "", mode: process.env["NODE_ENV"] ?? "development" };
  let input = found.exported;
  if (typeof input === "function") {
    try {
      input = await (input as (e: typeof env) => unknown)(env);
    } catch (error) {
      throw loadFailed(found.filepath, error, "the function it exports threw: ");
    }
  }

  const where = path.basename(found.filepath) === "package.json" ? `${found.filepath} (key "${PACKAGE_JSON_KEY}")` : found.filepath;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    const value = showValue(input);
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_INVALID,
      `Invalid config in ${where}:\n  - (the config itself): expected an object, got ${value}\n` +
        "Export the config object: `export default defineConfig({ ... })` (an empty object for the defaults), or a function that returns one.",
      { filepath: found.filepath, issues: [{ path: "(the config itself)", message: `expected an object, got ${value}`, value }] },
    );
  }
  const result = safeParseConfig(input);
  if (!result.success) {
    const issues = formatZodIssues(result.error, input, configSchema);
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_INVALID,
      `Invalid config in ${where}:\n${formatIssueList(issues)}\nSee the config reference in the README.`,
      { filepath: found.filepath, issues },
    );
  }
  return { config: resolvePaths(result.data, path.dirname(found.filepath)), filepath: found.filepath };
}

// ---------------------------------------------------------------------------
// Finding and loading files

interface FoundConfig {
  filepath: string;
  /** The default export (object or factory), or the package.json key's value. */
  exported: unknown;
}

/**
 * What the module loader hands to cosmiconfig. Boxing the export keeps
 * cosmiconfig from treating a `null`/`undefined` export as "no config here"
 * (it would silently keep searching) and from merging `$import` keys.
 */
class ModuleExport {
  constructor(readonly value: unknown) {}
}

let jiti: Jiti | undefined;

function coreEntry(): string {
  const built = fileURLToPath(new URL("../index.js", import.meta.url));
  return existsSync(built) ? built : fileURLToPath(new URL("../index.ts", import.meta.url));
}

/**
 * Load a config module through jiti: it strips TypeScript itself, so it works
 * with any TypeScript version (cosmiconfig's TS loader needs the compiler API,
 * which TypeScript 7 does not have). Bare imports such as `@tmux-claude/core`
 * resolve from the config file's directory.
 */
const loadModule: Loader = async (filepath) => {
  // moduleCache off: a later loadConfig in the same process sees an edited .ts/.js file.
  // A config imports defineConfig from "@tmux-claude/core": resolve it to this very
  // copy, so a globally installed CLI works in a project that has no core of its own.
  jiti ??= createJiti(import.meta.url, { interopDefault: false, moduleCache: false, alias: { "@tmux-claude/core": coreEntry() } });
  let mod: unknown;
  try {
    mod = await jiti.import(filepath);
  } catch (error) {
    // Wrapped so that cosmiconfig's search, which skips ENOENT/EACCES errors as
    // "file not there", cannot swallow an error thrown while running the config.
    throw loadFailed(filepath, error);
  }
  return new ModuleExport(defaultExport(filepath, mod));
};

function defaultExport(filepath: string, mod: unknown): unknown {
  if (mod === null || (typeof mod !== "object" && typeof mod !== "function")) return mod;
  if ("default" in mod) return mod.default;
  const isEsm = Object.prototype.toString.call(mod) === "[object Module]" || (mod as { __esModule?: unknown }).__esModule === true;
  if (!isEsm) return mod; // CommonJS: module.exports is the config
  throw new TmuxClaudeError(
    ErrorCodes.CONFIG_LOAD_FAILED,
    `Config file ${filepath} has no default export. Export the config with ` +
      "`export default defineConfig({ ... })` (defineConfig comes from \"@tmux-claude/core\").",
    { filepath },
  );
}

function explorer() {
  const loaders = Object.fromEntries(MODULE_EXTENSIONS.map((ext) => [ext, loadModule]));
  return cosmiconfig(PACKAGE_JSON_KEY, {
    searchPlaces: [...CONFIG_FILE_NAMES, "package.json"],
    loaders,
    // We walk the directories ourselves: cosmiconfig 9's "project" strategy stops
    // at the first package.json (a workspace package, not the repository root),
    // and stopDir implies the "global" strategy, which also reads ~/.config/tmux-claude.
    searchStrategy: "none",
    cache: false,
  });
}

async function searchConfig(cwd: string): Promise<FoundConfig | null> {
  const search = explorer();
  for (const dir of searchDirs(cwd)) {
    const result = await runCosmiconfig(() => search.search(dir));
    if (result) return result;
  }
  return null;
}

/** `cwd` and its parents up to the nearest one holding `.git`, the home directory or the filesystem root. */
function searchDirs(cwd: string): string[] {
  const home = homedir();
  const dirs: string[] = [];
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (existsSync(path.join(dir, ".git")) || dir === home || path.dirname(dir) === dir) return dirs;
  }
}

async function loadExplicit(cwd: string, configFile: string): Promise<FoundConfig> {
  const filepath = path.resolve(cwd, configFile);
  const info = await stat(filepath).catch(() => null);
  if (info === null) {
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_NOT_FOUND,
      `Config file not found: ${filepath} (--config ${configFile}, relative to ${cwd}). ` +
        'Check the path, drop --config to use the tmuxclaude.config.ts found from the current directory, or run "tmux-claude init" to create one.',
      { filepath },
    );
  }
  if (info.isDirectory()) {
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_NOT_FOUND,
      `Config file ${filepath} is a directory. Pass the config file itself, e.g. --config ${path.join(configFile, CONFIG_FILE_NAMES[0])}.`,
      { filepath },
    );
  }
  const ext = path.extname(filepath);
  if (!EXPLICIT_EXTENSIONS.includes(ext)) {
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_LOAD_FAILED,
      `Cannot load config file ${filepath}: tmux-claude reads ${EXPLICIT_EXTENSIONS.join(", ")} files, not "${ext || "(no extension)"}". ` +
        `Rename it, e.g. to ${CONFIG_FILE_NAMES[0]}.`,
      { filepath },
    );
  }
  // null: a package.json without the key.
  const found = await runCosmiconfig(() => explorer().load(filepath));
  if (found === null) {
    throw new TmuxClaudeError(
      ErrorCodes.CONFIG_NOT_FOUND,
      `${filepath} has no "${PACKAGE_JSON_KEY}" key. Add one, or pass a tmuxclaude.config.ts with --config.`,
      { filepath },
    );
  }
  return found;
}

async function runCosmiconfig(
  run: () => Promise<{ config: unknown; filepath: string; isEmpty?: boolean } | null>,
): Promise<FoundConfig | null> {
  let result;
  try {
    result = await run();
  } catch (error) {
    if (error instanceof TmuxClaudeError) throw error;
    // cosmiconfig stamps the file it was reading on the error (e.g. a broken package.json).
    const filepath = (error as { filepath?: unknown }).filepath;
    throw loadFailed(typeof filepath === "string" ? filepath : "(unknown file)", error);
  }
  if (!result) return null;
  // An empty file (only possible with --config; the search skips them) is an empty config.
  if (result.isEmpty) return { filepath: result.filepath, exported: {} };
  const exported = result.config instanceof ModuleExport ? result.config.value : result.config;
  return { filepath: result.filepath, exported };
}

function loadFailed(filepath: string, error: unknown, prefix = ""): TmuxClaudeError {
  if (error instanceof TmuxClaudeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TmuxClaudeError(
    ErrorCodes.CONFIG_LOAD_FAILED,
    `Could not load config file ${filepath}: ${prefix}${message}\nFix the error in that file, or pass another one with --config.`,
    { filepath, reason: message },
    { cause: error },
  );
}

/** Relative paths in the config are relative to the file that wrote them. */
function resolvePaths(config: ResolvedConfig, baseDir: string): ResolvedConfig {
  const resolve = (p: string) => path.resolve(baseDir, p === "~" || p.startsWith("~/") ? homedir() + p.slice(1) : p);
  const { configFile } = config.tmux;
  return {
    ...config,
    ...(config.stateDir !== undefined && { stateDir: resolve(config.stateDir) }),
    tmux: {
      ...config.tmux,
      // "none" is tmux's own word for "no config file", not a path.
      ...(configFile !== undefined && configFile !== "none" && { configFile: resolve(configFile) }),
    },
  };
}

// ---------------------------------------------------------------------------
// Turning zod issues into messages a person can act on

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

function allowedKeys(schema: z.core.$ZodType | undefined, keys: readonly Key[]): string[] | undefined {
  const found = schemaAt(schema, keys);
  const shape = found && defOf(found).shape;
  return shape ? Object.keys(shape) : undefined;
}

function isInteger(schema: z.core.$ZodType | undefined, keys: readonly Key[]): boolean {
  const found = schemaAt(schema, keys);
  return found !== undefined && /int/u.test(defOf(found).format ?? "");
}

/** The allowed key a typo most likely meant, if one is close enough. */
function closest(key: string, allowed: readonly string[]): string | undefined {
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
