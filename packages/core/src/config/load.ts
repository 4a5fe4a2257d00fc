import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cosmiconfig, type Loader } from "cosmiconfig";
import { createJiti, type Jiti } from "jiti";
import { ErrorCodes, TmuxClaudeError, isTmuxClaudeError } from "../errors.js";
import { parseConfig, safeParseConfig, type ResolvedConfig } from "./config.js";
import { configSchema } from "./schema.js";
import { formatIssueList, formatZodIssues, showValue, type ConfigIssue } from "./issues.js";

export type { ConfigIssue };

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
  /**
   * Packages a config may import without installing them, by module name, each
   * the file to load: the CLI passes the plugins it ships with
   * (`@tmux-claude/plugin-git`), so a config in any repository can use them.
   * `@tmux-claude/core` always resolves to this kernel's own copy.
   */
  modules?: Readonly<Record<string, string>>;
}

export interface LoadedConfig {
  config: ResolvedConfig;
  /** The file the config came from; null when none was found and the defaults apply. */
  filepath: string | null;
}


/**
 * Find, load and validate the config. Without `configFile`, searches from `cwd`
 * upwards to the project root (the nearest directory holding `.git`), stopping
 * at the home directory or the filesystem root; nothing found gives the defaults.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const modules = options.modules ?? {};
  const found = options.configFile === undefined ? await searchConfig(cwd, modules) : await loadExplicit(cwd, options.configFile, modules);
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

/** One jiti per set of module aliases (moduleCache is off, so a cached loader never serves a stale file). */
const jitis = new Map<string, Jiti>();

function coreEntry(): string {
  const built = fileURLToPath(new URL("../index.js", import.meta.url));
  return existsSync(built) ? built : fileURLToPath(new URL("../index.ts", import.meta.url));
}

/**
 * Load a config module through jiti: it strips TypeScript itself, so it works
 * with any TypeScript version (cosmiconfig's TS loader needs the compiler API,
 * which TypeScript 7 does not have). Bare imports such as `@tmux-claude/core`
 * resolve from the config file's directory, except the aliased ones.
 */
function moduleLoader(modules: Readonly<Record<string, string>>): Loader {
  // A config imports defineConfig from "@tmux-claude/core": resolve it to this very
  // copy, so a globally installed CLI works in a project that has no core of its own.
  const alias = { ...modules, "@tmux-claude/core": coreEntry() };
  const key = JSON.stringify(Object.entries(alias).sort(([a], [b]) => a.localeCompare(b)));
  return async (filepath) => {
    let jiti = jitis.get(key);
    if (!jiti) {
      // moduleCache off: a later loadConfig in the same process sees an edited .ts/.js file.
      jiti = createJiti(import.meta.url, { interopDefault: false, moduleCache: false, alias });
      jitis.set(key, jiti);
    }
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
}

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

function explorer(modules: Readonly<Record<string, string>>) {
  const load = moduleLoader(modules);
  const loaders = Object.fromEntries(MODULE_EXTENSIONS.map((ext) => [ext, load]));
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

async function searchConfig(cwd: string, modules: Readonly<Record<string, string>>): Promise<FoundConfig | null> {
  const search = explorer(modules);
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

async function loadExplicit(cwd: string, configFile: string, modules: Readonly<Record<string, string>>): Promise<FoundConfig> {
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
  const found = await runCosmiconfig(() => explorer(modules).load(filepath));
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
  // A plugin factory called by the config file refused its options: the error names the plugin and keys, this names the file.
  if (isTmuxClaudeError(error, ErrorCodes.PLUGIN_OPTIONS_INVALID) && !error.message.includes(filepath)) {
    return new TmuxClaudeError(error.code, `In config file ${filepath}: ${error.message}`, { ...error.details, filepath }, { cause: error });
  }
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
  const pool = Object.fromEntries(
    Object.entries(config.pool).map(([role, entry]) => [role, typeof entry === "object" && entry.workDir !== undefined ? { ...entry, workDir: resolve(entry.workDir) } : entry]),
  );
  return {
    ...config,
    pool,
    ...(config.stateDir !== undefined && { stateDir: resolve(config.stateDir) }),
    tmux: {
      ...config.tmux,
      // "none" is tmux's own word for "no config file", not a path.
      ...(configFile !== undefined && configFile !== "none" && { configFile: resolve(configFile) }),
    },
  };
}
