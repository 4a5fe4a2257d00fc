/**
 * The Claude Code releases a real-client test runs against: the one the
 * repository pins (in node_modules) and the newest on the npm registry.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { findClaudeBinary, type ClaudeBinary } from "./claude-binary.js";

const execFileAsync = promisify(execFile);

const PACKAGE = "@anthropic-ai/claude-code";
/** Set to `off` to skip the newest-release runs (with a notice), e.g. offline. */
export const NEWEST_CLAUDE_ENV = "TMUX_CLAUDE_NEWEST_CLAUDE";

export interface ClaudeRelease {
  /** `pinned`: the version in node_modules. `newest`: the registry's `latest`. */
  name: "pinned" | "newest";
  /** The exact version, when known before finding the binary. */
  version?: string;
  /** Set when this release is not run, saying why: show it (`describe.skip` with it in the name, or a warning). */
  skip?: string;
  /** `pinned 2.1.329`, `newest 2.1.332`, or with the reason it is skipped: for test names. */
  label: string;
  /** Find the binary, installing this version into the cache if needed (the first run downloads it). */
  binary(): Promise<ClaudeBinary>;
}

export interface ClaudeReleasesOptions {
  /** Where node_modules lookups start. Defaults to `process.cwd()`. */
  cwd?: string;
  /** Parent of the per-version install dirs (see findClaudeBinary). */
  cacheDir?: string;
  /** The registry to ask; defaults to npm's configured one. */
  registry?: string;
  /** How long asking the registry may take. Defaults to 20 s. */
  registryTimeoutMs?: number;
}

/** The version npm's `latest` tag points at; throws with npm's own words when the registry cannot say. */
export async function newestClaudeVersion(options: Pick<ClaudeReleasesOptions, "registry" | "registryTimeoutMs"> = {}): Promise<string> {
  const timeout = options.registryTimeoutMs ?? 20_000;
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const args = ["view", PACKAGE, "version", "--fetch-retries=0", `--fetch-timeout=${timeout}`];
  if (options.registry) args.push(`--registry=${options.registry}`);
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(npm, args, { timeout, maxBuffer: 1024 * 1024 }));
  } catch (error) {
    const e = error as Error & { stderr?: string; killed?: boolean };
    const said = (e.stderr ?? e.message).trim().split("\n").filter(Boolean).slice(-2).join(" | ");
    throw new Error(`npm ${args.join(" ")} failed${e.killed ? ` (no answer within ${timeout} ms)` : ""}: ${said}`, { cause: error });
  }
  const version = stdout.trim();
  if (!/^\d+\.\d+\.\d+(?:[-+][\w.]+)?$/u.test(version)) throw new Error(`npm view ${PACKAGE} version printed ${JSON.stringify(version.slice(0, 100))}, not a version`);
  return version;
}

/** The version of `@anthropic-ai/claude-code` in the nearest node_modules above `cwd`. */
async function pinnedVersion(cwd: string): Promise<string | undefined> {
  for (let dir = resolve(cwd); ; dir = join(dir, "..")) {
    const manifest = await readFile(join(dir, "node_modules", PACKAGE, "package.json"), "utf8").catch(() => undefined);
    if (manifest !== undefined) return (JSON.parse(manifest) as { version?: string }).version;
    if (join(dir, "..") === dir) return undefined;
  }
}

/**
 * The pinned release and the newest one. The newest is skipped, with the
 * reason in `skip` and a console warning, when the registry cannot be asked
 * (offline), when `TMUX_CLAUDE_NEWEST_CLAUDE=off`, or when it is the pinned
 * version (that run would repeat the pinned one). Never silently.
 */
export async function claudeReleases(options: ClaudeReleasesOptions = {}): Promise<ClaudeRelease[]> {
  const cwd = options.cwd ?? process.cwd();
  const find = (version: string | undefined) => () => findClaudeBinary({ install: true, version, cwd, cacheDir: options.cacheDir });
  const pinned = await pinnedVersion(cwd);
  const releases: ClaudeRelease[] = [{ name: "pinned", version: pinned, label: `pinned ${pinned ?? "(any found)"}`, binary: find(pinned) }];

  let skip: string | undefined;
  let newest: string | undefined;
  if (process.env[NEWEST_CLAUDE_ENV] === "off") {
    skip = `${NEWEST_CLAUDE_ENV}=off`;
  } else {
    try {
      newest = await newestClaudeVersion(options);
      if (newest === pinned) skip = `it is the pinned version ${pinned}, which runs already`;
    } catch (error) {
      skip = `the npm registry could not be asked for the newest ${PACKAGE}: ${(error as Error).message}`;
    }
  }
  if (skip) console.warn(`[testkit] Not running the tests on the newest Claude Code release: ${skip}`);
  releases.push({
    name: "newest",
    version: newest,
    skip,
    label: skip ? `newest (skipped: ${skip})` : `newest ${newest}`,
    binary: newest ? find(newest) : () => Promise.reject(new Error(`The newest Claude Code release is skipped: ${skip}`)),
  });
  return releases;
}
